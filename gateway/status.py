"""The one place where service errors become gRPC status codes (DESIGN.md §2).

Servicers and interceptors raise :class:`shared.errors.ServiceError` subclasses; the gateway
turns each into a status code with :func:`status_of` and sends the error's stable ``code`` in
the trailing metadata key :data:`ERROR_CODE_KEY`, so a client can tell FlowNotFound from
ExecutionNotFound although both are NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import grpc

from shared.errors import (
    ExecutionAlreadyExists,
    ExecutionNotFound,
    FlowAlreadyExists,
    FlowNotFound,
    InvalidArgument,
    InvalidDefinition,
    Overloaded,
    PayloadTooLarge,
    ServiceError,
    TaskNotWaiting,
    WrongMode,
)

__all__ = [
    "ERROR_CODE_KEY",
    "INTERNAL_MESSAGE",
    "CallDeadlineExceeded",
    "Unauthenticated",
    "status_of",
]

ERROR_CODE_KEY: Final = "cloudflow-error-code"
"""Trailing metadata key carrying ``ServiceError.code`` (e.g. ``FlowNotFound``)."""

INTERNAL_MESSAGE: Final = (
    "internal error in the CloudFlow server (incident {incident}); "
    "the server log has the details; retrying may help"
)
"""What a caller sees for an unexpected exception: nothing of the server's internals."""


class Unauthenticated(ServiceError):
    """The call lacks the bearer token this server requires, or carries a wrong one."""

    code = "Unauthenticated"


class CallDeadlineExceeded(ServiceError):
    """The call's deadline passed before its work finished; the work was cancelled."""

    code = "DeadlineExceeded"


_STATUS_BY_ERROR: Final[Mapping[type[ServiceError], grpc.StatusCode]] = {
    # InvalidDefinition before InvalidArgument only for readability: lookup walks the MRO.
    InvalidDefinition: grpc.StatusCode.INVALID_ARGUMENT,
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    # DESIGN.md §2: RESOURCE_EXHAUSTED is "over a limit or overloaded".
    PayloadTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    FlowNotFound: grpc.StatusCode.NOT_FOUND,
    ExecutionNotFound: grpc.StatusCode.NOT_FOUND,
    FlowAlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    ExecutionAlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    WrongMode: grpc.StatusCode.FAILED_PRECONDITION,
    TaskNotWaiting: grpc.StatusCode.FAILED_PRECONDITION,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    CallDeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def status_of(error: ServiceError) -> grpc.StatusCode:
    """The status code of ``error``: that of its class or its nearest mapped base class.

    Walking the MRO means a new subclass (say, a more specific InvalidArgument) is mapped
    correctly without touching this table. A ServiceError no class of which is mapped is a
    server bug, hence INTERNAL.
    """
    for cls in type(error).__mro__:
        status = _STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return grpc.StatusCode.INTERNAL
