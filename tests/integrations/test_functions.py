"""FC:InvokeFunction with in-process functions."""

from __future__ import annotations

import asyncio
import functools
import types
from typing import Any

import pytest

from gateway.integrations.functions import (
    FC_INVOKE_FUNCTION,
    FunctionError,
    FunctionInvoker,
    FunctionRegistry,
)
from shared.errors import (
    FC_FUNCTION_NOT_FOUND,
    FC_UNKNOWN,
    RUNTIME_ERROR,
    FlowFailure,
)
from shared.ports import TaskRequest


def task(parameters: dict[str, Any]) -> TaskRequest:
    return TaskRequest(action=FC_INVOKE_FUNCTION, parameters=parameters, state_name="Charge")


def invoker_with(**functions: Any) -> FunctionInvoker:
    registry = FunctionRegistry()
    for name, fn in functions.items():
        registry.register(name, fn)
    return FunctionInvoker(registry)


async def fail(invoker: FunctionInvoker, request: TaskRequest) -> FlowFailure:
    with pytest.raises(FlowFailure) as caught:
        await invoker.invoke(request)
    return caught.value


class PaymentError(Exception):
    """An application exception that names its error, as some libraries do."""

    def __init__(self, message: str, error_code: Any, detail: Any = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        if detail is not None:
            self.detail = detail


# --- Calling functions ---------------------------------------------------------------------


async def test_sync_function_result_is_wrapped_in_body() -> None:
    invoker = invoker_with(charge=lambda event: {"chargeId": f"c-{event['orderId']}"})

    result = await invoker.invoke(
        task({"functionName": "charge", "body": {"orderId": "A1", "amount": 10}})
    )

    assert result == {"Body": {"chargeId": "c-A1"}}


async def test_async_function_is_awaited() -> None:
    async def charge(event: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"amount": event["amount"] * 2}

    result = await invoker_with(charge=charge).invoke(
        task({"functionName": "charge", "body": {"amount": 10}})
    )

    assert result == {"Body": {"amount": 20}}


async def test_sync_callable_returning_an_awaitable_is_awaited() -> None:
    async def scaled(factor: int, event: Any) -> int:
        return int(event) * factor

    invoker = invoker_with(triple=functools.partial(scaled, 3))

    assert await invoker.invoke(task({"functionName": "triple", "body": 5})) == {"Body": 15}


@pytest.mark.parametrize(
    "body", ["plain text", [1, 2, {"a": None}], 3.5, None, True, {"nested": {"x": [1]}}]
)
async def test_any_json_body_is_the_event(body: Any) -> None:
    invoker = invoker_with(echo=lambda event: event)

    assert await invoker.invoke(task({"functionName": "echo", "body": body})) == {"Body": body}


async def test_missing_body_is_an_empty_object() -> None:
    invoker = invoker_with(echo=lambda event: event)

    assert await invoker.invoke(task({"functionName": "echo"})) == {"Body": {}}


async def test_event_is_a_deep_copy() -> None:
    def meddle(event: Any) -> str:
        event["items"].append("extra")
        event["added"] = True
        return "done"

    body = {"items": ["a"]}
    parameters = {"functionName": "meddle", "body": body}

    await invoker_with(meddle=meddle).invoke(task(parameters))

    assert body == {"items": ["a"]}


async def test_result_is_detached_and_normalised_to_json() -> None:
    kept: dict[str, Any] = {"pair": (1, 2), "list": [1]}
    invoker = invoker_with(keep=lambda event: kept)

    result = await invoker.invoke(task({"functionName": "keep"}))
    kept["list"].append(2)  # The function mutating its own object later changes nothing.

    assert result == {"Body": {"pair": [1, 2], "list": [1]}}


# --- Finding the function --------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "acs:fc:cn-hangzhou:123456789:functions/charge/LATEST",
        "acs:fc:cn-hangzhou:123456789:functions/charge",
        "acs:fc:cn-hangzhou:123456789:functions/charge/prod",
        "acs:fc:::services/payments.LATEST/functions/charge",
        "acs:fc:cn-shanghai:42:services/payments/functions/charge",
    ],
)
async def test_function_is_found_from_its_resource_arn(arn: str) -> None:
    invoker = invoker_with(charge=lambda event: "charged")

    assert await invoker.invoke(task({"resourceArn": arn})) == {"Body": "charged"}


async def test_function_name_wins_over_resource_arn() -> None:
    invoker = invoker_with(a=lambda event: "a", b=lambda event: "b")
    parameters = {"functionName": "a", "resourceArn": "acs:fc:r:1:functions/b"}

    assert await invoker.invoke(task(parameters)) == {"Body": "a"}


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({}, "functionName or resourceArn"),
        ({"functionName": ""}, "Parameters.functionName"),
        ({"functionName": 7}, "Parameters.functionName"),
        ({"resourceArn": "acs:oss:cn-hangzhou:1:bucket/x"}, "Parameters.resourceArn"),
        ({"resourceArn": "acs:fc:cn-hangzhou:1:functions/"}, "Parameters.resourceArn"),
        ({"resourceArn": "acs:fc:cn-hangzhou:1:functions/a/b/c"}, "Parameters.resourceArn"),
        ({"resourceArn": ["charge"]}, "Parameters.resourceArn"),
    ],
)
async def test_no_usable_function_name_is_a_runtime_error(
    parameters: dict[str, Any], named: str
) -> None:
    failure = await fail(invoker_with(charge=lambda event: 1), task(parameters))

    assert failure.error.code == RUNTIME_ERROR
    assert named in failure.error.cause
    assert "'Charge'" in failure.error.cause


async def test_unknown_function_is_function_not_found() -> None:
    invoker = invoker_with(charge=lambda event: 1, refund=lambda event: 2)

    failure = await fail(invoker, task({"functionName": "chrage"}))

    assert failure.error.code == FC_FUNCTION_NOT_FOUND
    assert "'chrage'" in failure.error.cause
    assert "charge, refund" in failure.error.cause


# --- Errors ------------------------------------------------------------------------------


async def test_function_error_passes_its_name_through() -> None:
    def charge(event: Any) -> None:
        raise FunctionError("CardDeclined", "card 4242 was declined")

    failure = await fail(invoker_with(charge=charge), task({"functionName": "charge"}))

    assert failure.error.as_catch_output() == {
        "Code": "CardDeclined",
        "Detail": "card 4242 was declined",
    }


async def test_async_function_error_passes_its_name_through() -> None:
    async def charge(event: Any) -> None:
        raise FunctionError("FC.ResourceThrottled")

    failure = await fail(invoker_with(charge=charge), task({"functionName": "charge"}))

    assert (failure.error.code, failure.error.cause) == ("FC.ResourceThrottled", "")


async def test_exception_with_error_code_attribute_is_named() -> None:
    def with_detail(event: Any) -> None:
        raise PaymentError("message", error_code="Insufficient", detail="balance 3 < 10")

    def without_detail(event: Any) -> None:
        raise PaymentError("balance too low", error_code="Insufficient")

    invoker = invoker_with(with_detail=with_detail, without_detail=without_detail)

    first = await fail(invoker, task({"functionName": "with_detail"}))
    second = await fail(invoker, task({"functionName": "without_detail"}))

    assert (first.error.code, first.error.cause) == ("Insufficient", "balance 3 < 10")
    assert (second.error.code, second.error.cause) == ("Insufficient", "balance too low")


@pytest.mark.parametrize("error_code", [None, 42, ""])
async def test_error_code_that_is_not_a_name_is_ignored(error_code: Any) -> None:
    def charge(event: Any) -> None:
        raise PaymentError("odd", error_code=error_code)

    failure = await fail(invoker_with(charge=charge), task({"functionName": "charge"}))

    assert failure.error.code == FC_UNKNOWN


async def test_flow_failure_from_a_function_passes_through() -> None:
    def charge(event: Any) -> None:
        raise FlowFailure.of("Custom.Error", "why")

    failure = await fail(invoker_with(charge=charge), task({"functionName": "charge"}))

    assert (failure.error.code, failure.error.cause) == ("Custom.Error", "why")


async def test_any_other_exception_is_fc_unknown_with_type_and_message() -> None:
    def charge(event: Any) -> None:
        raise ValueError("amount must be positive")

    failure = await fail(invoker_with(charge=charge), task({"functionName": "charge"}))

    assert failure.error.code == FC_UNKNOWN
    assert "'charge'" in failure.error.cause
    assert "ValueError: amount must be positive" in failure.error.cause
    assert isinstance(failure.__cause__, ValueError)  # Kept for logs.


@pytest.mark.parametrize("result", [{1, 2}, {"x": float("nan")}, object()])
async def test_result_that_is_not_json_is_fc_unknown(result: Any) -> None:
    failure = await fail(
        invoker_with(charge=lambda event: result), task({"functionName": "charge"})
    )

    assert failure.error.code == FC_UNKNOWN
    assert "not JSON-serialisable" in failure.error.cause


async def test_cancellation_propagates() -> None:
    started = asyncio.Event()

    async def forever(event: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    invoker = invoker_with(forever=forever)
    call = asyncio.create_task(invoker.invoke(task({"functionName": "forever"})))
    await started.wait()

    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call


async def test_cancelled_error_raised_by_a_function_is_not_swallowed() -> None:
    def charge(event: Any) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await invoker_with(charge=charge).invoke(task({"functionName": "charge"}))


def test_function_error_needs_a_code() -> None:
    with pytest.raises(ValueError, match="error code"):
        FunctionError("")


# --- Registry ------------------------------------------------------------------------------


async def test_decorator_registers_and_returns_the_function() -> None:
    registry = FunctionRegistry()

    @registry.register("add-one")
    def add_one(event: Any) -> int:
        return int(event) + 1

    assert add_one(1) == 2
    assert registry.get("add-one") is add_one
    assert "add-one" in registry
    result = await FunctionInvoker(registry).invoke(task({"functionName": "add-one", "body": 1}))
    assert result == {"Body": 2}


def test_register_refuses_bad_names_and_conflicts() -> None:
    registry = FunctionRegistry()

    def f(event: Any) -> None: ...

    def g(event: Any) -> None: ...

    registry.register("f", f)
    registry.register("f", f)  # The same function again is fine.

    with pytest.raises(ValueError, match="already registered"):
        registry.register("f", g)
    for bad in ["", "1st", "has space", "a/b", "x" * 129]:
        with pytest.raises(ValueError, match="invalid function name"):
            registry.register(bad, g)
    with pytest.raises(ValueError, match="not callable"):
        registry.register("g", "not a function")  # type: ignore[call-overload]
    assert registry.names() == ["f"]


async def test_load_module_registers_its_public_functions() -> None:
    registry = FunctionRegistry()

    names = registry.load_module("tests.integrations.sample_functions")

    assert names == ["double_later", "greet"]
    assert registry.names() == ["double_later", "greet"]
    invoker = FunctionInvoker(registry)
    greeting = await invoker.invoke(task({"functionName": "greet", "body": {"name": "Ada"}}))
    doubled = await invoker.invoke(task({"functionName": "double_later", "body": 21}))
    assert greeting == {"Body": {"greeting": "hello, Ada"}}
    assert doubled == {"Body": 42}


def test_load_module_of_a_missing_module_raises_import_error() -> None:
    with pytest.raises(ImportError):
        FunctionRegistry().load_module("tests.integrations.no_such_module")


def test_register_module_follows_dunder_all() -> None:
    module = types.ModuleType("exported")

    def listed(event: Any) -> None: ...

    def unlisted(event: Any) -> None: ...

    module.listed = listed  # type: ignore[attr-defined]
    module.unlisted = unlisted  # type: ignore[attr-defined]
    module.CONSTANT = 1  # type: ignore[attr-defined]
    module.__all__ = ["listed", "CONSTANT"]  # type: ignore[attr-defined]

    registry = FunctionRegistry()

    assert registry.register_module(module) == ["listed"]


def test_register_module_registers_nothing_on_a_conflict() -> None:
    registry = FunctionRegistry()
    registry.register("greet", lambda event: None)

    with pytest.raises(ValueError, match="'greet'"):
        registry.load_module("tests.integrations.sample_functions")

    assert registry.names() == ["greet"]
