"""A real HTTP/1.1 server on 127.0.0.1 (port 0) for the HTTP integration tests.

It runs in a background thread and answers by path:

- ``/echo``: 200 with a JSON description of the request it received;
- ``/text``: 200 ``text/plain`` ``hello, world`` and a custom header ``X-Reply``;
- ``/status/{code}``: that status, with a text body of ``?size=`` characters (default 20);
- ``/bytes``: 200 ``text/plain`` of ``?size=`` bytes;
- ``/json-type``: ``?type=`` as Content-Type and ``?body=`` as body;
- ``/slow``: waits ``?seconds=`` then answers 200;
- ``/drop``: closes the connection without answering;
- ``/cookie``: 200 with ``Set-Cookie: session=secret``.

Every request is recorded in :attr:`EchoServer.received`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

__all__ = ["EchoServer", "Received"]


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Lower-case names; repeated headers joined with ``", "``."""
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # Keep-alive, so the client's pool is exercised.
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # Keep test output quiet.

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        seen = Received(self.command, parts.path, query, headers, body)
        self.server.received.append(seen)
        self._route(seen, {name: values[-1] for name, values in query.items()})

    def _route(self, seen: Received, args: dict[str, str]) -> None:
        path = seen.path
        if path == "/echo":
            description = {
                "method": seen.method,
                "path": seen.path,
                "query": seen.query,
                "headers": seen.headers,
                "body": seen.body.decode(),
            }
            self._reply(200, "application/json", json.dumps(description).encode())
        elif path == "/text":
            self._reply(200, "text/plain; charset=utf-8", b"hello, world", {"X-Reply": "yes"})
        elif path.startswith("/status/"):
            size = int(args.get("size", "20"))
            self._reply(int(path.removeprefix("/status/")), "text/plain", b"e" * size)
        elif path == "/bytes":
            self._reply(200, "text/plain", b"b" * int(args["size"]))
        elif path == "/json-type":
            self._reply(200, args["type"], args["body"].encode())
        elif path == "/slow":
            time.sleep(float(args["seconds"]))
            self._reply(200, "text/plain", b"late")
        elif path == "/drop":
            self.close_connection = True  # Hang up without a status line.
        elif path == "/cookie":
            self._reply(200, "text/plain", b"ok", {"Set-Cookie": "session=secret; Path=/"})
        else:
            self._reply(404, "text/plain", b"no such route")

    def _reply(
        self, status: int, content_type: str, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Do not wait for a handler still sleeping in /slow when the test ends.
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # A client that gave up (timeout tests) breaks the pipe; that is expected.


class EchoServer:
    """Starts on enter, stops on exit; :meth:`url` builds addresses on it."""

    def __init__(self) -> None:
        self._server = _Server()
        # A short poll interval so that shutdown() at the end of each test is quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def received(self) -> list[Received]:
        return self._server.received

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
