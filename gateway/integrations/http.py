"""The ``HTTP:Request`` action: a real HTTP call (DESIGN.md §5, cloudflow-reference.md §3.1).

Parameters: ``url`` (required, http or https), ``method`` (GET, POST, PATCH, PUT, DELETE,
HEAD; any case; default GET), ``headers`` (object), ``body`` (a string is sent as-is; any
other JSON value is sent as JSON), ``query`` (object, merged into the URL's query string).

The result is ``{"Header": {...}, "Code": <status>, "Body": <JSON or text>}``. Header
names are lower-case, so ``$Output.Header["content-type"]`` does not depend on how a server
spells them; repeated headers are joined with ``", "``.

Failures: a non-2xx status is ``HTTP.<status>`` (redirects are not followed, so a 3xx is
one too: following one could leave the host allow-list); a request that could not be made
or whose response broke off is ``HTTP.ConnectionError``; running out of time is
``FnF.Timeout``; a host off the allow-list is ``HTTP.HostNotAllowed``; bad Parameters and
a response body over the size limit are ``FnF.RuntimeError``.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from gateway.integrations._runtime_error import runtime_error
from shared.errors import HTTP_CONNECTION_ERROR, TIMEOUT, FlowFailure
from shared.ports import TaskRequest

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "HTTP_HOST_NOT_ALLOWED",
    "HTTP_REQUEST",
    "METHODS",
    "TASK_TOKEN_HEADER",
    "HttpInvoker",
]

HTTP_REQUEST: Final = "HTTP:Request"
"""The Task ``Action`` this module implements."""
HTTP_HOST_NOT_ALLOWED: Final = "HTTP.HostNotAllowed"
"""The error of a call to a host outside the configured allow-list."""
TASK_TOKEN_HEADER: Final = "X-FnF-Http-Callback-Task-Token"
"""The request header that carries the Task's token (WaitForCustomCallback)."""
METHODS: Final = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"})
DEFAULT_TIMEOUT_SECONDS: Final = 60.0
"""The limit of a call whose Task has no ``Timeout``."""
DEFAULT_MAX_RESPONSE_BYTES: Final = 1024 * 1024

# How much of an error response's body its cause quotes.
_CAUSE_BODY_CHARS = 1024
# RFC 9110 token: the characters a header name may use.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True, slots=True)
class _Call:
    """One HTTP request, built from a Task's Parameters and checked, ready to send."""

    method: str
    url: httpx.URL
    headers: httpx.Headers
    content: bytes | None

    @property
    def where(self) -> str:
        """Method and URL for causes, without credentials, query or fragment (secrets)."""
        bare = self.url.copy_with(username=None, password=None, query=None, fragment=None)
        return f"{self.method} {bare}"


class HttpInvoker:
    """Runs ``HTTP:Request`` Tasks over one shared, pooled ``httpx.AsyncClient``.

    Implements :class:`shared.ports.TaskInvoker` for this one action. Close it with
    :meth:`aclose` (or use it as an async context manager).

    Args:
        allowed_hosts: the hosts that may be called (compared case-insensitively, without
            port); ``None`` allows every host, loopback included.
        default_timeout: seconds allowed for a call whose Task has no ``Timeout``.
        max_response_bytes: the largest response body read (after content decoding).
        transport: an ``httpx`` transport to use instead of the network (tests, proxies).
        trust_env: honour ``HTTP_PROXY``/``NO_PROXY``/``SSL_CERT_FILE`` as curl does.
    """

    def __init__(
        self,
        allowed_hosts: frozenset[str] | None = None,
        *,
        default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        trust_env: bool = True,
    ) -> None:
        if default_timeout <= 0:
            raise ValueError("default_timeout must be positive")
        if max_response_bytes <= 0:
            raise ValueError("max_response_bytes must be positive")
        self._allowed_hosts = (
            None if allowed_hosts is None else frozenset(map(_normalise_host, allowed_hosts))
        )
        self._default_timeout = default_timeout
        self._max_response_bytes = max_response_bytes
        self._client = httpx.AsyncClient(
            transport=transport,
            trust_env=trust_env,
            follow_redirects=False,
            # The client is shared by every execution: a cookie one response sets must
            # never ride along on another execution's request. This policy stores none.
            cookies=http.cookiejar.CookieJar(
                http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
        )

    async def __aenter__(self) -> HttpInvoker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()

    async def invoke(self, request: TaskRequest) -> dict[str, Any]:
        """Make the call the Parameters describe; return ``{"Header", "Code", "Body"}``."""
        call = _build_call(request)
        self._check_host(call)
        timeout = request.timeout_seconds or self._default_timeout
        try:
            # asyncio.timeout bounds the whole exchange; httpx's own timeout is per
            # operation and would let a server trickling bytes run on for ever.
            async with asyncio.timeout(timeout):
                response, body, over_limit = await self._send(call, timeout)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise FlowFailure.of(
                TIMEOUT, f"{call.where} did not complete within {timeout:g} s"
            ) from exc
        except httpx.RequestError as exc:
            raise FlowFailure.of(
                HTTP_CONNECTION_ERROR, f"{call.where} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return self._result(request, call, response, body, over_limit)

    def _check_host(self, call: _Call) -> None:
        if self._allowed_hosts is None:
            return
        # ``host`` is the readable (Unicode) form, ``raw_host`` the ASCII (IDNA) one;
        # an allow-list may spell a host either way.
        names = {_normalise_host(call.url.host), _normalise_host(call.url.raw_host.decode())}
        if names.isdisjoint(self._allowed_hosts):
            raise FlowFailure.of(
                HTTP_HOST_NOT_ALLOWED,
                f"host {call.url.host!r} is not in this server's list of allowed hosts; "
                f"{call.where} was not sent",
            )

    async def _send(self, call: _Call, timeout: float) -> tuple[httpx.Response, bytes, bool]:
        async with self._client.stream(
            call.method,
            call.url,
            headers=call.headers,
            content=call.content,
            timeout=timeout,
        ) as response:
            body, over_limit = await _read_capped(response, self._max_response_bytes)
        return response, body, over_limit

    def _result(
        self,
        request: TaskRequest,
        call: _Call,
        response: httpx.Response,
        body: bytes,
        over_limit: bool,
    ) -> dict[str, Any]:
        text = _decode(response, body)
        if not 200 <= response.status_code < 300:
            quoted = text[:_CAUSE_BODY_CHARS]
            ellipsis = "…" if over_limit or len(text) > _CAUSE_BODY_CHARS else ""
            raise FlowFailure.of(
                f"HTTP.{response.status_code}",
                f"{call.where} returned HTTP {response.status_code}: {quoted}{ellipsis}",
            )
        if over_limit:
            # DESIGN.md §3: a payload over its size limit is FnF.RuntimeError.
            raise runtime_error(
                request,
                f"the response body of {call.where} is larger than "
                f"{self._max_response_bytes} bytes",
            )
        return {
            "Header": dict(response.headers.items()),
            "Code": response.status_code,
            "Body": _parse_body(response, text),
        }


def _build_call(request: TaskRequest) -> _Call:
    """Check the Parameters and turn them into a request; ``FnF.RuntimeError`` if bad."""
    parameters = request.parameters
    url = _parse_url(request, parameters.get("url"))
    query = parameters.get("query")
    if query is not None:
        url = url.copy_merge_params(_parse_query(request, query))
    # Engine metadata (traceparent, ...) first, so the user's own headers override it;
    # the task token last, because the callback depends on it being exactly ours.
    headers = httpx.Headers(dict(request.headers))
    headers.update(_parse_headers(request, parameters.get("headers")))
    content, is_json = _parse_body_parameter(request, parameters.get("body"))
    if is_json and "content-type" not in headers:
        headers["Content-Type"] = "application/json"
    if request.task_token:
        headers[TASK_TOKEN_HEADER] = request.task_token
    return _Call(_parse_method(request, parameters.get("method")), url, headers, content)


def _parse_url(request: TaskRequest, value: Any) -> httpx.URL:
    if not isinstance(value, str) or not value:
        raise runtime_error(request, f"Parameters.url must be a non-empty string, got {value!r}")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise runtime_error(request, f"Parameters.url {value!r} is not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise runtime_error(
            request, f"Parameters.url {value!r} must be an absolute http:// or https:// URL"
        )
    return url


def _parse_method(request: TaskRequest, value: Any) -> str:
    if value is None:
        return "GET"
    method = value.upper() if isinstance(value, str) else None
    if method not in METHODS:
        raise runtime_error(
            request, f"Parameters.method {value!r} must be one of {', '.join(sorted(METHODS))}"
        )
    return method


def _parse_headers(request: TaskRequest, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise runtime_error(request, f"Parameters.headers must be an object, got {value!r}")
    headers: list[tuple[str, str]] = []
    for name, raw in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise runtime_error(request, f"Parameters.headers has an invalid name {name!r}")
        # Numbers are common in YAML (``X-Retries: 3``) and have one obvious text form.
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = json.dumps(raw)
        if not isinstance(raw, str) or any(c in raw for c in "\r\n\0"):
            raise runtime_error(
                request,
                f"Parameters.headers.{name} must be a string without line breaks, got {raw!r}",
            )
        headers.append((name, raw))
    return headers


def _parse_query(request: TaskRequest, value: Any) -> httpx.QueryParams:
    if not isinstance(value, Mapping):
        raise runtime_error(request, f"Parameters.query must be an object, got {value!r}")
    # Typed as httpx declares it (lists are invariant); the values are always strings.
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, raw in value.items():
        # An array repeats the parameter: {"tag": ["a", "b"]} is ?tag=a&tag=b.
        for item in raw if isinstance(raw, list) else [raw]:
            text = _query_text(item)
            if text is None:
                raise runtime_error(
                    request,
                    f"Parameters.query.{name} must be a string, number, boolean or an array "
                    f"of those, got {raw!r}",
                )
            pairs.append((str(name), text))
    return httpx.QueryParams(pairs)


def _query_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)  # JSON spelling: true, not True.
    return None


def _parse_body_parameter(request: TaskRequest, value: Any) -> tuple[bytes | None, bool]:
    """The bytes to send and whether they are JSON; a string is sent as-is."""
    if value is None:
        return None, False
    if isinstance(value, str):
        return value.encode(), False
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise runtime_error(request, f"Parameters.body cannot be sent as JSON: {exc}") from exc
    return text.encode(), True


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the body, and whether there was more (then not read)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


def _decode(response: httpx.Response, body: bytes) -> str:
    try:
        return body.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:  # A charset Python does not know.
        return body.decode("utf-8", errors="replace")


def _parse_body(response: httpx.Response, text: str) -> Any:
    """Parsed JSON when the response says it is JSON and it parses; else the text."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        return text
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return text


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON and could not be stored as an output.
    raise ValueError(f"{name} is not JSON")


def _normalise_host(host: str) -> str:
    return host.strip().lower().removeprefix("[").removesuffix("]").removesuffix(".")
