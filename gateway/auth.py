"""Optional bearer-token authentication of calls.

With a token configured, every call must carry the metadata ``authorization: Bearer <token>``;
others end with UNAUTHENTICATED before reaching a servicer. Health checks are exempt, so load
balancers and orchestrators can probe the server without the secret.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

import grpc

from gateway.status import ERROR_CODE_KEY, Unauthenticated, status_of

__all__ = ["AUTHORIZATION_KEY", "EXEMPT_PREFIXES", "BearerTokenInterceptor", "bearer_metadata"]

AUTHORIZATION_KEY: Final = "authorization"
EXEMPT_PREFIXES: Final = ("/grpc.health.v1.Health/",)
"""Methods callable without a token."""


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """The call metadata that authenticates with ``token``."""
    return ((AUTHORIZATION_KEY, f"Bearer {token}"),)


class BearerTokenInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Lets through only calls that present the configured bearer token."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(EXEMPT_PREFIXES):
            return handler
        problem = self._problem(details.invocation_metadata or ())
        return handler if problem is None else _denying(handler, problem)

    def _problem(self, metadata: Any) -> str | None:
        """Why the call is not authenticated, or None when it is."""
        presented = [value for key, value in metadata if key == AUTHORIZATION_KEY]
        if not presented:
            return (
                "this server requires a bearer token: send the metadata "
                "'authorization: Bearer <token>' (the CLI reads it from $CLOUDFLOW_TOKEN)"
            )
        value = presented[0]
        value_bytes = value.encode() if isinstance(value, str) else bytes(value)
        # Constant-time comparison: the time taken must not reveal how much of a guess matched.
        if len(presented) == 1 and hmac.compare_digest(value_bytes, self._expected):
            return None
        return "the bearer token is not valid for this server; check the token you were given"


def _denying(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    """A handler of the same kind as ``handler`` that ends the call with UNAUTHENTICATED."""
    error = Unauthenticated(message)
    code = status_of(error)
    trailer = ((ERROR_CODE_KEY, error.code),)

    async def deny(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(code, message, trailing_metadata=trailer)

    async def deny_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        await context.abort(code, message, trailing_metadata=trailer)
        yield  # pragma: no cover - abort raises; this only makes the function a generator

    serializers = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(deny, **serializers)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(deny, **serializers)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(deny_stream, **serializers)
    return grpc.stream_stream_rpc_method_handler(deny_stream, **serializers)
