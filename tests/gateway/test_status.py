"""The mapping of service errors to gRPC status codes (gateway/status.py)."""

from __future__ import annotations

import grpc
import pytest

from gateway.status import CallDeadlineExceeded, Unauthenticated, status_of
from shared import errors

CASES = [
    (errors.InvalidArgument("x"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.InvalidDefinition(["a", "b"]), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.PayloadTooLarge("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Overloaded("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.FlowNotFound("x"), grpc.StatusCode.NOT_FOUND),
    (errors.ExecutionNotFound("x"), grpc.StatusCode.NOT_FOUND),
    (errors.FlowAlreadyExists("x"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.ExecutionAlreadyExists("x"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.WrongMode("x"), grpc.StatusCode.FAILED_PRECONDITION),
    (errors.TaskNotWaiting("x"), grpc.StatusCode.FAILED_PRECONDITION),
    (Unauthenticated("x"), grpc.StatusCode.UNAUTHENTICATED),
    (CallDeadlineExceeded("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.ServiceError("x"), grpc.StatusCode.INTERNAL),
]


@pytest.mark.parametrize(("error", "status"), CASES, ids=[type(e).__name__ for e, _ in CASES])
def test_status_of(error: errors.ServiceError, status: grpc.StatusCode) -> None:
    assert status_of(error) is status


def test_every_service_error_in_shared_is_mapped() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, errors.ServiceError)
            and cls is not errors.ServiceError
        ):
            assert (
                status_of(cls("x") if cls is not errors.InvalidDefinition else cls(["x"]))
                is not grpc.StatusCode.INTERNAL
            ), name


def test_a_new_subclass_inherits_its_base_mapping() -> None:
    class NameTooLong(errors.InvalidArgument):
        code = "NameTooLong"

    assert status_of(NameTooLong("x")) is grpc.StatusCode.INVALID_ARGUMENT
