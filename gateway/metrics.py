"""OpenTelemetry metrics of CloudFlow: the instruments, their set-up, and a Prometheus endpoint.

Instruments (names and attributes follow OpenTelemetry's conventions, under ``cloudflow.``):

=============================== ============== ==================================================
``cloudflow.executions.started``  counter        flow name, mode
``cloudflow.executions.finished`` counter        flow name, mode, status
``cloudflow.execution.duration``  histogram (s)  flow name, mode, status
``cloudflow.state.duration``      histogram (s)  flow name, mode, state name, state type, outcome
``cloudflow.task.duration``       histogram (s)  flow name, mode, action, outcome
``cloudflow.executions.running``  gauge          mode
``cloudflow.task.queue_depth``    gauge          queue
=============================== ============== ==================================================

Callers record through the module functions (:func:`record_execution_started`, ...), which do
nothing until :func:`configure_metrics` has installed an SDK meter provider: an engine that
calls them on every state pays one global lookup and a branch while metrics are off. Gauges are
observed from callbacks registered with :func:`observe_running_executions` and
:func:`observe_queue_depth`, read only when metrics are collected.

Exporters, as for traces (``gateway/telemetry.py``): ``none`` (only the Prometheus endpoint),
``console`` (the SDK's console exporter, periodically), ``otlp`` (needs the
``opentelemetry-exporter-otlp`` package; configured by the standard ``OTEL_EXPORTER_OTLP_*``
variables). The Prometheus text format is rendered here from a pull reader, so scraping needs
no extra package.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    Gauge,
    Histogram,
    MetricExporter,
    MetricReader,
    MetricsData,
    NumberDataPoint,
    PeriodicExportingMetricReader,
    Sum,
)
from opentelemetry.sdk.resources import Resource

from shared.plan import ExecutionMode
from shared.results import ExecutionStatus

__all__ = [
    "EXPORTERS",
    "CloudFlowMetrics",
    "MetricsSetup",
    "PrometheusReader",
    "configure_metrics",
    "current_metrics",
    "observe_queue_depth",
    "observe_running_executions",
    "record_execution_finished",
    "record_execution_started",
    "record_state",
    "record_task",
    "render_prometheus",
    "use_metrics",
]

EXPORTERS: Final = ("none", "console", "otlp")
METER_NAME: Final = "cloudflow"
SERVICE_NAME: Final = "cloudflow"

FLOW_NAME: Final = "cloudflow.flow.name"
MODE: Final = "cloudflow.execution.mode"
STATUS: Final = "cloudflow.execution.status"
STATE_NAME: Final = "cloudflow.state.name"
STATE_TYPE: Final = "cloudflow.state.type"
OUTCOME: Final = "cloudflow.outcome"
"""How a state or task ended: ``succeeded``, ``failed`` (``timed_out`` for a task...)."""
ACTION: Final = "cloudflow.task.action"
QUEUE: Final = "cloudflow.task.queue"

DURATION_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
)  # fmt: skip
"""Seconds: from an in-memory transition (sub-millisecond) to an hour-long task."""

Mode = ExecutionMode | str
Source = Callable[[], int]


class CloudFlowMetrics:
    """The instruments, created on one meter provider's ``cloudflow`` meter."""

    def __init__(self, meter_provider: MeterProvider) -> None:
        meter = meter_provider.get_meter(METER_NAME)
        self._started = meter.create_counter(
            "cloudflow.executions.started", "{execution}", "Executions started"
        )
        self._finished = meter.create_counter(
            "cloudflow.executions.finished", "{execution}", "Executions that reached an end status"
        )
        self._execution_duration = meter.create_histogram(
            "cloudflow.execution.duration",
            "s",
            "Time from an execution's start to its end",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._state_duration = meter.create_histogram(
            "cloudflow.state.duration",
            "s",
            "Time from a state's entry to its exit or failure (one state transition)",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._task_duration = meter.create_histogram(
            "cloudflow.task.duration",
            "s",
            "Time from a task's dispatch to its result",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._running_sources: dict[str, Source] = {}
        self._queue_sources: dict[str, Source] = {}
        meter.create_observable_gauge(
            "cloudflow.executions.running",
            [self._observe_running],
            "{execution}",
            "Executions in progress",
        )
        meter.create_observable_gauge(
            "cloudflow.task.queue_depth",
            [self._observe_queues],
            "{task}",
            "Tasks waiting for a worker",
        )

    def execution_started(self, flow_name: str, mode: Mode) -> None:
        self._started.add(1, {FLOW_NAME: flow_name, MODE: _text(mode)})

    def execution_finished(
        self, flow_name: str, mode: Mode, status: ExecutionStatus | str, duration_seconds: float
    ) -> None:
        attributes = {FLOW_NAME: flow_name, MODE: _text(mode), STATUS: _text(status)}
        self._finished.add(1, attributes)
        self._execution_duration.record(max(0.0, duration_seconds), attributes)

    def state(
        self,
        flow_name: str,
        mode: Mode,
        state_name: str,
        state_type: str,
        outcome: str,
        duration_seconds: float,
    ) -> None:
        attributes = {
            FLOW_NAME: flow_name,
            MODE: _text(mode),
            STATE_NAME: state_name,
            STATE_TYPE: state_type,
            OUTCOME: outcome,
        }
        self._state_duration.record(max(0.0, duration_seconds), attributes)

    def task(
        self, flow_name: str, mode: Mode, action: str, outcome: str, duration_seconds: float
    ) -> None:
        attributes = {FLOW_NAME: flow_name, MODE: _text(mode), ACTION: action, OUTCOME: outcome}
        self._task_duration.record(max(0.0, duration_seconds), attributes)

    def observe_running(self, mode: Mode, source: Source) -> None:
        """Report ``source()`` as the running executions of ``mode`` (replacing an earlier one)."""
        self._running_sources[_text(mode)] = source

    def observe_queue(self, queue: str, source: Source) -> None:
        """Report ``source()`` as the depth of the task queue ``queue``."""
        self._queue_sources[queue] = source

    def _observe_running(self, options: CallbackOptions) -> Iterable[Observation]:
        # A copy (atomic under the GIL): a periodic exporter reads from its own thread.
        sources = self._running_sources.copy()
        return [Observation(s(), {MODE: m}) for m, s in sorted(sources.items())]

    def _observe_queues(self, options: CallbackOptions) -> Iterable[Observation]:
        sources = self._queue_sources.copy()
        return [Observation(s(), {QUEUE: q}) for q, s in sorted(sources.items())]


def _text(value: ExecutionMode | ExecutionStatus | str) -> str:
    return value if isinstance(value, str) else value.value


# -- the process's instruments -----------------------------------------------------------

_current: CloudFlowMetrics | None = None
# Gauge sources outlive a change of instruments: serve may register them before or after
# configuring metrics, and a reconfiguration must not lose them.
_running_sources: dict[str, Source] = {}
_queue_sources: dict[str, Source] = {}


def current_metrics() -> CloudFlowMetrics | None:
    """The instruments in use, or None while metrics are off."""
    return _current


def use_metrics(metrics: CloudFlowMetrics | None) -> CloudFlowMetrics | None:
    """Make ``metrics`` the instruments the module functions record to; returns the previous.

    The gauge sources registered with the module functions are handed over to it.
    """
    global _current
    previous, _current = _current, metrics
    if metrics is not None:
        for mode, source in _running_sources.items():
            metrics.observe_running(mode, source)
        for queue, source in _queue_sources.items():
            metrics.observe_queue(queue, source)
    return previous


def record_execution_started(flow_name: str, mode: Mode) -> None:
    """An execution of ``flow_name`` started."""
    if _current is not None:
        _current.execution_started(flow_name, mode)


def record_execution_finished(
    flow_name: str, mode: Mode, status: ExecutionStatus | str, duration_seconds: float
) -> None:
    """An execution ended with ``status`` after ``duration_seconds``."""
    if _current is not None:
        _current.execution_finished(flow_name, mode, status, duration_seconds)


def record_state(
    flow_name: str,
    mode: Mode,
    state_name: str,
    state_type: str,
    outcome: str,
    duration_seconds: float,
) -> None:
    """A state was left (``succeeded``) or failed (``failed``) ``duration_seconds`` after its
    entry."""
    if _current is not None:
        _current.state(flow_name, mode, state_name, state_type, outcome, duration_seconds)


def record_task(
    flow_name: str, mode: Mode, action: str, outcome: str, duration_seconds: float
) -> None:
    """A task's result arrived (``succeeded``, ``failed``, ``timed_out``) after ``duration_seconds``."""
    if _current is not None:
        _current.task(flow_name, mode, action, outcome, duration_seconds)


def observe_running_executions(mode: Mode, source: Source) -> None:
    """Report ``source()`` as the running executions of ``mode`` whenever metrics are read."""
    _running_sources[_text(mode)] = source
    if _current is not None:
        _current.observe_running(mode, source)


def observe_queue_depth(queue: str, source: Source) -> None:
    """Report ``source()`` as the depth of task queue ``queue`` whenever metrics are read."""
    _queue_sources[queue] = source
    if _current is not None:
        _current.observe_queue(queue, source)


# -- set-up ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricsSetup:
    """What :func:`configure_metrics` installed; :meth:`shutdown` flushes and removes it."""

    provider: MeterProvider
    metrics: CloudFlowMetrics
    prometheus: PrometheusReader | None
    """The reader behind the console's ``/metrics`` (None when not asked for)."""

    def shutdown(self) -> None:
        if _current is self.metrics:
            use_metrics(None)
        self.provider.shutdown()


def configure_metrics(
    exporter: str,
    *,
    prometheus: bool = True,
    export_interval_seconds: float = 60.0,
    readers: Sequence[MetricReader] = (),
) -> MetricsSetup | None:
    """Install an SDK meter provider with ``exporter`` (and a Prometheus reader when asked).

    Returns None (metrics stay off) for exporter ``none`` without Prometheus and no readers.
    ``readers`` adds further readers (tests pass an InMemoryMetricReader). Raises ValueError
    for an unknown exporter, or ``otlp`` without its package installed.
    """
    all_readers: list[MetricReader] = list(readers)
    if exporter != "none":
        all_readers.append(
            PeriodicExportingMetricReader(
                _metric_exporter(exporter), export_interval_millis=export_interval_seconds * 1000
            )
        )
    pull = PrometheusReader() if prometheus else None
    if pull is not None:
        all_readers.append(pull)
    if not all_readers:
        return None
    # Resource.create also honours OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    provider = MeterProvider(
        metric_readers=all_readers, resource=Resource.create({"service.name": SERVICE_NAME})
    )
    metrics = CloudFlowMetrics(provider)
    use_metrics(metrics)
    return MetricsSetup(provider, metrics, pull)


def _metric_exporter(exporter: str) -> MetricExporter:
    if exporter == "console":
        return ConsoleMetricExporter()
    if exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (  # type: ignore[import-not-found]
                OTLPMetricExporter,
            )
        except ImportError:
            raise ValueError(
                "the otlp metrics exporter needs the opentelemetry-exporter-otlp package: "
                "pip install opentelemetry-exporter-otlp"
            ) from None
        otlp: MetricExporter = OTLPMetricExporter()
        return otlp
    raise ValueError(f"unknown metrics exporter {exporter!r}; use one of {', '.join(EXPORTERS)}")


# -- Prometheus --------------------------------------------------------------------------


class PrometheusReader(MetricReader):
    """A pull reader: :meth:`render` collects now and returns the Prometheus text format."""

    def __init__(self) -> None:
        super().__init__()  # cumulative temporality: what Prometheus expects
        self._latest: MetricsData | None = None
        self._lock = threading.Lock()

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        self._latest = metrics_data

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._latest = None

    def render(self) -> str:
        """The current value of every instrument, in the Prometheus text format 0.0.4."""
        with self._lock:
            self.collect()
            return render_prometheus(self._latest)


_INVALID_NAME_CHARS: Final = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL_CHARS: Final = re.compile(r"[^a-zA-Z0-9_]")
_UNIT_SUFFIXES: Final = {"s": "seconds", "ms": "milliseconds", "By": "bytes"}


def render_prometheus(data: MetricsData | None) -> str:
    """``data`` in the Prometheus text exposition format (names sanitised, units as suffixes,
    counters with ``_total``, histograms as cumulative ``_bucket``s with ``_sum`` and
    ``_count``). Pure."""
    families: dict[str, tuple[str, str, list[str]]] = {}
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                rendered = _family(metric.name, metric.unit or "", metric.data)
                if rendered is None:
                    continue
                name, kind, lines = rendered
                family = families.setdefault(name, (kind, metric.description or "", []))
                family[2].extend(lines)
    out: list[str] = []
    for name in sorted(families):
        kind, description, lines = families[name]
        if description:
            out.append(f"# HELP {name} {_escape_help(description)}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(lines)
    return "\n".join(out) + "\n" if out else ""


def _family(name: str, unit: str, data: Any) -> tuple[str, str, list[str]] | None:
    """A metric's family name, type and sample lines (data points in label order; a
    histogram's buckets stay in increasing ``le`` order, as the format requires)."""
    base = _metric_name(name, unit)
    if isinstance(data, Sum):
        monotonic = data.is_monotonic
        full = base + "_total" if monotonic and not base.endswith("_total") else base
        return full, "counter" if monotonic else "gauge", _samples(full, data.data_points)
    if isinstance(data, Gauge):
        return base, "gauge", _samples(base, data.data_points)
    if isinstance(data, Histogram):
        lines: list[str] = []
        for labels, point in sorted(
            ((_labels(p.attributes), p) for p in data.data_points), key=lambda item: item[0]
        ):
            running = 0
            for bound, count in zip(point.explicit_bounds, point.bucket_counts, strict=False):
                running += count
                lines.append(f"{base}_bucket{_with(labels, 'le', _number(bound))} {running}")
            lines.append(f"{base}_bucket{_with(labels, 'le', '+Inf')} {point.count}")
            lines.append(f"{base}_sum{_braced(labels)} {_number(point.sum)}")
            lines.append(f"{base}_count{_braced(labels)} {point.count}")
        return base, "histogram", lines
    return None  # exponential histograms: not used by CloudFlow


def _samples(name: str, points: Sequence[NumberDataPoint]) -> list[str]:
    lines = [f"{name}{_braced(_labels(p.attributes))} {_number(p.value)}" for p in points]
    return sorted(lines)


def _metric_name(name: str, unit: str) -> str:
    clean = _INVALID_NAME_CHARS.sub("_", name)
    if clean[:1].isdigit():
        clean = "_" + clean
    suffix = _UNIT_SUFFIXES.get(unit)
    return f"{clean}_{suffix}" if suffix and not clean.endswith(suffix) else clean


def _labels(attributes: Mapping[str, Any] | None) -> list[str]:
    pairs: dict[str, str] = {}
    for key, value in (attributes or {}).items():
        label = _INVALID_LABEL_CHARS.sub("_", key)
        if label[:1].isdigit():
            label = "_" + label
        pairs[label] = _escape_value(str(value).lower() if isinstance(value, bool) else str(value))
    return [f'{k}="{v}"' for k, v in sorted(pairs.items())]


def _with(labels: list[str], key: str, value: str) -> str:
    return _braced([*labels, f'{key}="{value}"'])


def _braced(labels: list[str]) -> str:
    return "{" + ",".join(labels) + "}" if labels else ""


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


class MetricsObserver:
    """The engines' :class:`shared.ports.ExecutionObserver`, recording to these instruments."""

    def execution_started(self, flow_name: str, mode: str) -> None:
        record_execution_started(flow_name, mode)

    def execution_finished(self, flow_name: str, mode: str, status: str, seconds: float) -> None:
        record_execution_finished(flow_name, mode, status, seconds)

    def state_finished(
        self,
        flow_name: str,
        mode: str,
        state_name: str,
        state_type: str,
        outcome: str,
        seconds: float,
    ) -> None:
        record_state(flow_name, mode, state_name, state_type, outcome, seconds)

    def task_finished(
        self, flow_name: str, mode: str, action: str, outcome: str, seconds: float
    ) -> None:
        record_task(flow_name, mode, action, outcome, seconds)
