"""A real HTTP server on loopback serving a scripted site (no tests here).

Each path maps to a :class:`Page`: a status, headers, a body, optionally
served slowly, gzip-compressed or as a one-time ``429``. Every request is
recorded with its arrival time, so tests can check what a fetcher asked for
and how far apart.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    #: Seconds between chunks of ``drip`` bytes (a slow server); 0: all at once.
    drip_delay: float = 0.0
    drip: int = 64
    #: Seconds before the answer starts.
    delay: float = 0.0
    gzip: bool = False
    #: Answer ``429`` with this ``Retry-After`` to the first request only.
    throttle_once: int | None = None


def redirect(location: str, status: int = 302) -> Page:
    return Page(status=status, headers=(("Location", location),), content_type="text/plain")


@dataclass(frozen=True, slots=True)
class Hit:
    path: str
    at: float
    user_agent: str
    accept_encoding: str


@dataclass
class Site:
    pages: dict[str, Page] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    port: int = 0
    host: str = "127.0.0.1"
    _throttled: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def paths(self) -> list[str]:
        with self._lock:
            return [hit.path for hit in self.hits]

    def fetched(self, path: str) -> int:
        return self.paths().count(path)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        target = handler.path
        with self._lock:
            self.hits.append(
                Hit(
                    path=target,
                    at=time.monotonic(),
                    user_agent=handler.headers.get("User-Agent", ""),
                    accept_encoding=handler.headers.get("Accept-Encoding", ""),
                )
            )
        page = self.pages.get(target) or self.pages.get(urlsplit(target).path)
        if page is None:
            page = Page(body=b"not found", status=404, content_type="text/plain")
        if page.throttle_once is not None:
            with self._lock:
                first = target not in self._throttled
                self._throttled.add(target)
            if first:
                _send(handler, 429, {"Retry-After": str(page.throttle_once)}, b"slow down")
                return
        if page.delay:
            time.sleep(page.delay)
        body = gzip.compress(page.body) if page.gzip else page.body
        headers = {"Content-Type": page.content_type, **dict(page.headers)}
        if page.gzip:
            headers["Content-Encoding"] = "gzip"
        _send(handler, page.status, headers, body, drip_delay=page.drip_delay, drip=page.drip)


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    drip_delay: float = 0.0,
    drip: int = 64,
) -> None:
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not drip_delay:
            handler.wfile.write(body)
            return
        for start in range(0, len(body), drip):
            handler.wfile.write(body[start : start + drip])
            handler.wfile.flush()
            time.sleep(drip_delay)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up: that is what some tests want


@contextmanager
def serve(site: Site, host: str = "127.0.0.1") -> Iterator[Site]:
    """Serve ``site`` on ``host`` on a free port while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            site.answer(self)

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    site.host, site.port = host, server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
