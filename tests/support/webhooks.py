"""Helpers for the notification tests (no tests here): a real HTTP receiver
on loopback with scripted answers, and the notification services wired to
the embedded store with a job runner that drains the delivery queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kernel.egress.addresses import Resolver, UnresolvableHostError, system_resolver
from kernel.env import parse_cidrs
from kernel.platform import Platform
from kernel.settings import PlatformSettings, StorageSettings
from notifications.delivery import Sender
from notifications.runtime import Notifications, build_notifications
from notifications.settings import NotificationSettings

LOOPBACK = "127.0.0.0/8"

COMPLETED_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "5f0c7a4e-8a57-5e3a-9d6b-1c2d3e4f5a6b",
    "source": "/docflow/documents",
    "type": "document.processing.completed",
    "subject": "documents/0123456789abcdef01234567",
    "time": "2026-03-14T12:00:00.000+00:00",
    "datacontenttype": "application/json",
    "data": {
        "document_id": "0123456789abcdef01234567",
        "status": "completed",
        "filename": "résumé.pdf",
        "result_url": "http://127.0.0.1:7071/api/documents/0123456789abcdef01234567/result",
    },
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
}


def completion_event(event_id: str = "evt-1", **changes: Any) -> dict[str, Any]:
    """A ``document.processing.completed`` CloudEvent with ``event_id``."""
    return {**COMPLETED_EVENT, "id": event_id, **changes}


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Sequence[tuple[str, str]] = ()
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    query: str
    headers: dict[str, str]  # lowercased names
    body: bytes
    at: float  # time.monotonic()


@dataclass
class Receiver:
    """A threaded HTTP server on 127.0.0.1 answering POSTs from ``replies``
    in order (the last one repeats) and recording every request."""

    replies: Sequence[Reply] = (Reply(200),)
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                with receiver._lock:
                    receiver.requests.append(
                        Received(
                            path=parts.path,
                            query=parts.query,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            at=time.monotonic(),
                        )
                    )
                    index = min(len(receiver.requests), len(receiver.replies)) - 1
                reply = receiver.replies[index]
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (bounded reads, timeouts)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook", query: str = "", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}" + (f"?{query}" if query else "")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receiving(*replies: Reply) -> Iterator[Receiver]:
    """A started :class:`Receiver`, stopped afterwards."""
    receiver = Receiver(replies or (Reply(200),))
    try:
        yield receiver
    finally:
        receiver.stop()


class FixedResolver:
    """A resolver with set answers per host name (and a record of the lookups);
    unknown names fail as getaddrinfo does."""

    def __init__(self, answers: dict[str, Sequence[str]] | None = None) -> None:
        self.answers: dict[str, Sequence[str]] = dict(answers or {})
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        if host not in self.answers:
            raise UnresolvableHostError(f"the host {host!r} does not resolve (test)")
        return self.answers[host]


@dataclass
class Harness:
    """The notification services on the embedded store, plus a queue runner."""

    notifications: Notifications

    @property
    def settings(self) -> NotificationSettings:
        return self.notifications.settings

    def take_job(self) -> str:
        """Remove the next visible job from the queue and return its text."""
        queues = self.notifications.platform.stores.queues
        (message,) = queues.receive(self.settings.webhook_queue, max_messages=1)
        queues.delete(self.settings.webhook_queue, message)
        return message.content

    def drain(self, *, timeout: float = 10.0, settle: float = 0.0) -> int:
        """Run delivery jobs (as the queue trigger would) until none has been
        visible for ``settle`` seconds; returns how many ran."""
        queues = self.notifications.platform.stores.queues
        queue = self.settings.webhook_queue
        ran = 0
        deadline = time.monotonic() + timeout
        idle_since = time.monotonic()
        while time.monotonic() < deadline:
            messages = queues.receive(queue, max_messages=1, visibility_timeout=60)
            if not messages:
                if time.monotonic() - idle_since >= settle:
                    return ran
                time.sleep(0.02)
                continue
            for message in messages:
                self.notifications.worker.handle(message.content)
                queues.delete(queue, message)
                ran += 1
            idle_since = time.monotonic()
        raise AssertionError("the delivery queue did not drain in time")


def fresh_app() -> Any:
    """A FunctionApp built like ``function_app.app`` (same blueprints, same auth
    level) but its own instance: FunctionApp.get_functions() refuses a second
    call per instance, and other tests index ``function_app.app`` themselves."""
    import azure.functions as func

    from notifications.triggers import bp as notifications_bp
    from processing.triggers import bp as processing_bp

    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    app.register_functions(processing_bp)
    app.register_functions(notifications_bp)
    return app


def make_harness(
    data_dir: Path,
    *,
    allowed: str = LOOPBACK,
    schedule: Sequence[float] = (0.05, 0.1),
    logic_app_urls: Sequence[str] = (),
    resolver: Resolver = system_resolver,
    sender: Sender | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    ports: Sequence[int] = (443, 8443),
    max_subscriptions: int = 100,
) -> Harness:
    settings = NotificationSettings(
        webhook_allowed_ports=tuple(ports),
        webhook_max_subscriptions=max_subscriptions,
        webhook_allowed_cidrs=parse_cidrs(allowed),
        webhook_retry_schedule=tuple(schedule),
        logic_app_urls=tuple(logic_app_urls),
    )
    shared = Platform(
        PlatformSettings(storage=StorageSettings(data_dir=data_dir)),
        clock=clock or (lambda: datetime.now(UTC)),
    )
    notifications = build_notifications(
        settings,
        shared,
        resolver=resolver,
        sender=sender,
        random_fraction=lambda: 0.5,  # no jitter: delays exactly as scheduled
        sleep=sleep,
        fanout_workers=4,
    )
    return Harness(notifications)
