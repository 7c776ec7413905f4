"""CloudFlow's OpenTelemetry metrics: names, units, attributes, and the Prometheus format."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData

from gateway import metrics as m
from gateway.metrics import CloudFlowMetrics, configure_metrics, render_prometheus
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus


@pytest.fixture(autouse=True)
def metrics_off() -> Iterator[None]:
    """Every test starts and ends with metrics off and no gauge sources left behind."""
    previous = m.use_metrics(None)
    m._running_sources.clear()
    m._queue_sources.clear()
    yield
    m.use_metrics(previous)
    m._running_sources.clear()
    m._queue_sources.clear()


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    m.use_metrics(CloudFlowMetrics(provider))
    yield reader
    provider.shutdown()


def collected(reader: InMemoryMetricReader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        metric.name: metric
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }


def points(metric: Any) -> dict[tuple[tuple[str, Any], ...], Any]:
    return {tuple(sorted(p.attributes.items())): p for p in metric.data.data_points}


def test_executions_started_and_finished_are_counted_by_flow_mode_and_status(
    reader: InMemoryMetricReader,
) -> None:
    m.record_execution_started("orders", ExecutionMode.STANDARD)
    m.record_execution_started("orders", "Standard")
    m.record_execution_started("quotes", ExecutionMode.EXPRESS)
    m.record_execution_finished("orders", "Standard", ExecutionStatus.FAILED, 1.5)
    m.record_execution_finished("quotes", ExecutionMode.EXPRESS, "Succeeded", 0.002)
    found = collected(reader)
    started = found["cloudflow.executions.started"]
    assert started.unit == "{execution}" and started.data.is_monotonic
    assert {k: p.value for k, p in points(started).items()} == {
        (("cloudflow.execution.mode", "Standard"), ("cloudflow.flow.name", "orders")): 2,
        (("cloudflow.execution.mode", "Express"), ("cloudflow.flow.name", "quotes")): 1,
    }
    finished = points(found["cloudflow.executions.finished"])
    key = (
        ("cloudflow.execution.mode", "Standard"),
        ("cloudflow.execution.status", "Failed"),
        ("cloudflow.flow.name", "orders"),
    )
    assert finished[key].value == 1
    duration = found["cloudflow.execution.duration"]
    assert duration.unit == "s"
    assert points(duration)[key].sum == pytest.approx(1.5)


def test_state_and_task_latencies_are_histograms_in_seconds(reader: InMemoryMetricReader) -> None:
    m.record_state("orders", "Standard", "Charge", "Task", "failed", 0.25)
    m.record_state("orders", "Standard", "Charge", "Task", "failed", 0.75)
    m.record_task("orders", "Standard", "FC:InvokeFunction", "succeeded", 0.004)
    found = collected(reader)
    state = found["cloudflow.state.duration"]
    assert state.unit == "s"
    (point,) = state.data.data_points
    assert dict(point.attributes) == {
        "cloudflow.flow.name": "orders",
        "cloudflow.execution.mode": "Standard",
        "cloudflow.state.name": "Charge",
        "cloudflow.state.type": "Task",
        "cloudflow.outcome": "failed",
    }
    assert (point.count, point.sum) == (2, pytest.approx(1.0))
    # Buckets fit workflow latencies: sub-millisecond transitions up to hour-long tasks.
    assert tuple(point.explicit_bounds) == m.DURATION_BUCKETS
    (task,) = found["cloudflow.task.duration"].data.data_points
    assert dict(task.attributes)["cloudflow.task.action"] == "FC:InvokeFunction"
    assert dict(task.attributes)["cloudflow.outcome"] == "succeeded"


def test_running_executions_and_queue_depth_are_observed_when_read(
    reader: InMemoryMetricReader,
) -> None:
    running = {"n": 3}
    m.observe_running_executions(ExecutionMode.STANDARD, lambda: running["n"])
    m.observe_running_executions("Express", lambda: 7)
    m.observe_queue_depth("workers", lambda: 12)
    found = collected(reader)
    gauge = points(found["cloudflow.executions.running"])
    assert gauge[(("cloudflow.execution.mode", "Standard"),)].value == 3
    assert gauge[(("cloudflow.execution.mode", "Express"),)].value == 7
    assert (
        points(found["cloudflow.task.queue_depth"])[(("cloudflow.task.queue", "workers"),)].value
        == 12
    )
    running["n"] = 0
    gauge = points(collected(reader)["cloudflow.executions.running"])
    assert gauge[(("cloudflow.execution.mode", "Standard"),)].value == 0


def test_gauge_sources_registered_before_configuration_are_kept() -> None:
    m.observe_queue_depth("workers", lambda: 4)
    extra = InMemoryMetricReader()
    setup = configure_metrics("none", readers=[extra])
    assert setup is not None
    try:
        found = collected(extra)
        assert (
            points(found["cloudflow.task.queue_depth"])[
                (("cloudflow.task.queue", "workers"),)
            ].value
            == 4
        )
    finally:
        setup.shutdown()
    assert m.current_metrics() is None


def test_recording_while_metrics_are_off_does_nothing() -> None:
    assert m.current_metrics() is None
    m.record_execution_started("f", "Standard")
    m.record_execution_finished("f", "Standard", "Succeeded", 1.0)
    m.record_state("f", "Standard", "S", "Pass", "succeeded", 0.1)
    m.record_task("f", "Standard", "HTTP:Request", "failed", 0.1)


def test_the_prometheus_endpoint_renders_every_instrument() -> None:
    setup = configure_metrics("none")
    assert setup is not None and setup.prometheus is not None
    try:
        m.record_execution_started("orders", "Standard")
        m.record_state("orders", "Standard", "Charge", "Task", "succeeded", 0.003)
        m.observe_running_executions("Standard", lambda: 2)
        text = setup.prometheus.render()
    finally:
        setup.shutdown()
    assert "# TYPE cloudflow_executions_started_total counter" in text
    assert (
        'cloudflow_executions_started_total{cloudflow_execution_mode="Standard",'
        'cloudflow_flow_name="orders"} 1' in text
    )
    assert "# TYPE cloudflow_state_duration_seconds histogram" in text
    assert 'cloudflow_executions_running{cloudflow_execution_mode="Standard"} 2' in text
    assert "# HELP cloudflow_executions_started_total Executions started" in text


def test_prometheus_histograms_are_cumulative_with_increasing_le() -> None:
    reader = InMemoryMetricReader()
    metrics = CloudFlowMetrics(MeterProvider(metric_readers=[reader]))
    for seconds in (0.0001, 0.2, 0.2, 7.0, 99_999.0):
        metrics.task("f", "Standard", "HTTP:Request", "succeeded", seconds)
    text = render_prometheus(reader.get_metrics_data())
    buckets = [
        line
        for line in text.splitlines()
        if line.startswith("cloudflow_task_duration_seconds_bucket")
    ]
    counts = [int(line.rsplit(" ", 1)[1]) for line in buckets]
    assert counts == sorted(counts) and counts[-1] == 5
    assert 'le="+Inf"' in buckets[-1]
    assert 'le="0.0005"} 1' in buckets[0]
    les = [float(line.split('le="')[1].split('"')[0].replace("+Inf", "inf")) for line in buckets]
    assert les == sorted(les)
    assert "cloudflow_task_duration_seconds_count{" in text and "} 5\n" in text
    assert "cloudflow_task_duration_seconds_sum{" in text


def test_prometheus_label_values_are_escaped() -> None:
    reader = InMemoryMetricReader()
    metrics = CloudFlowMetrics(MeterProvider(metric_readers=[reader]))
    metrics.execution_started('we"ird\\flow\nname', "Standard")
    text = render_prometheus(reader.get_metrics_data())
    assert 'cloudflow_flow_name="we\\"ird\\\\flow\\nname"' in text


def test_nothing_to_render_is_an_empty_page() -> None:
    assert render_prometheus(None) == ""
    assert render_prometheus(MetricsData(resource_metrics=[])) == ""


def test_exporters_are_chosen_by_name() -> None:
    with pytest.raises(ValueError, match="unknown metrics exporter 'graphite'"):
        configure_metrics("graphite")
    assert configure_metrics("none", prometheus=False) is None
    setup = configure_metrics("console", prometheus=False, export_interval_seconds=3600)
    assert setup is not None and setup.prometheus is None
    setup.shutdown()


def otlp_installed() -> bool:
    try:
        return importlib.util.find_spec("opentelemetry.exporter.otlp.proto.grpc") is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


@pytest.mark.skipif(
    otlp_installed(), reason="the OTLP exporter is installed here, so its absence cannot be tested"
)
def test_otlp_without_its_package_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="pip install opentelemetry-exporter-otlp"):
        configure_metrics("otlp")
