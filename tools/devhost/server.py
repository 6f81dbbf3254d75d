"""A small threaded HTTP/1.1 server (stdlib) that hands whole requests to one
handler function. Logs carry method, path, status and duration; never query
strings (they can hold SAS signatures) nor bodies."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: The Functions host refuses longer URLs with 414.
MAX_URL_LENGTH = 4096
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # percent-encoded, without the query string
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    base_url: str

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.path}" + (f"?{self.query}" if self.query else "")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        values = [v for k, v in self.headers if k.lower() == lowered]
        return ", ".join(values) if values else None


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, text.encode(), [("Content-Type", "text/plain; charset=utf-8")])

    @classmethod
    def json(cls, status: int, payload: bytes) -> Response:
        return cls(status, payload, [("Content-Type", "application/json; charset=utf-8")])


Handler = Callable[[Request], Response]


class _BodyTooLarge(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog (5) drops connections under a burst of parallel clients.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: Handler, max_body: int) -> None:
        self.handler = handler
        self.max_body = max_body
        self.base_url = ""
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _handle(self) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        path = parts.path or "/"
        if len(self.path) > MAX_URL_LENGTH:
            self.close_connection = True
            self._log(path, HTTPStatus.REQUEST_URI_TOO_LONG, started)
            self._send(Response.text(HTTPStatus.REQUEST_URI_TOO_LONG, "URL too long"))
            return
        try:
            body = self._read_body()
        except _BodyTooLarge:
            # The unread body is still on the socket: this connection cannot be reused.
            self.close_connection = True
            response = Response.text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request body too large")
        except ValueError:
            self.close_connection = True
            response = Response.text(HTTPStatus.BAD_REQUEST, "Malformed request body")
        else:
            request = Request(
                method=self.command,
                path=path,
                query=parts.query,
                headers=list(self.headers.items()),
                body=body,
                base_url=self._base_url(),
            )
            try:
                response = self.server.handler(request)
            except Exception:
                log.exception("request handler failed", extra={"path": path})
                response = Response.text(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
        # Logged before the reply goes out, so a client that has its answer finds the line.
        self._log(path, response.status, started)
        self._send(response)

    def __getattr__(self, name: str) -> Any:
        # Every method (TRACE, QUERY, ...) reaches the router, which answers 405
        # where no function takes it, as the Functions host does, rather than
        # the stdlib's 501 for methods it has no do_* handler for.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _base_url(self) -> str:
        # Functions build req.url from the Host the client used, as Azure does.
        host = (self.headers.get("Host") or "").strip()
        if host and _HOST_HEADER.fullmatch(host):
            return f"http://{host}"
        return self.server.base_url

    def _read_body(self) -> bytes:
        limit = self.server.max_body
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > limit:
            raise _BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"x", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        names = {k.lower() for k, _ in response.headers}
        for name, value in response.headers:
            if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                self.send_header(name, value)
        if "content-type" not in names and response.body:
            self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _log(self, path: str, status: int, started: float) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.info(
            "%s %s -> %d (%.0f ms)",
            self.command,
            path,
            status,
            elapsed_ms,
            extra={"method": self.command, "path": path, "status": status},
        )

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the stdlib's access log would print query strings."""


class HttpServer:
    """Serves ``handler`` on ``host:port`` (port 0 picks a free port) in threads."""

    def __init__(self, host: str, port: int, handler: Handler, *, max_body: int) -> None:
        self._server = _Server((host, port), handler, max_body)
        bound_host, bound_port = self._server.server_address[:2]
        shown = bound_host if isinstance(bound_host, str) else host
        if ":" in shown:
            shown = f"[{shown}]"
        self.base_url = f"http://{shown}:{bound_port}"
        self._server.base_url = self.base_url
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="devhost-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
