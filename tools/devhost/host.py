"""The local host: the Functions host and Event Grid on one port.

In-process use (tests)::

    host = DevHost(app, data_dir=tmp_path, port=0).start()
    ... host.base_url, host.topic_endpoint, host.topic_key ...
    host.stop()
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import threading
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

from kernel.settings import DATA_STORAGE, StorageSettings
from kernel.settings import STORAGE as STORAGE_CONNECTION
from kernel.storage.ports import BlobStore, QueueStore
from tools.devhost.account import StorageAccount, describe_account
from tools.devhost.blobwatch import BlobWatcher
from tools.devhost.config import HostJson, HostOptions
from tools.devhost.eventdelivery import DeliveryWorkers, RetryPolicy
from tools.devhost.eventroutes import (
    DEFAULT_EVENT_SUBSCRIPTIONS_FILE,
    STORAGE,
    load_event_subscriptions,
)
from tools.devhost.functions import (
    EVENT_GRID_TRIGGER,
    HTTP_TRIGGER,
    QUEUE_TRIGGER,
    TIMER_TRIGGER,
    FunctionAppLike,
    HostedFunction,
    index_functions,
    resolve_setting,
)
from tools.devhost.httptrigger import HttpFunctions, HttpRoute
from tools.devhost.issuer import DevIssuer
from tools.devhost.lock import DataDirLock
from tools.devhost.queuetrigger import QueuePoller
from tools.devhost.server import HttpServer, Request, Response
from tools.devhost.state import StateStore
from tools.devhost.timertrigger import TimerRunner
from tools.devhost.topic import TOPIC_PATH, EventRouter, TopicEndpoint

if TYPE_CHECKING:
    from kernel.storage.factory import Stores

log = logging.getLogger(__name__)

STATE_FILE = "devhost.sqlite3"
EVENTS_PATH = "/devhost/events"
DELIVERIES_PATH = "/devhost/deliveries"
HEALTH_PATH = "/devhost/health"
#: How long stop() waits for invocations in flight.
STOP_TIMEOUT_SECONDS = 10.0


class _Part(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float) -> None: ...


class DevHost:
    """Serves the app's HTTP functions, plays its Event Grid topic and the
    storage account's BlobCreated events, and runs its queue and timer triggers."""

    def __init__(
        self,
        app: FunctionAppLike,
        *,
        data_dir: Path | str = ".data",
        host: str = "127.0.0.1",
        port: int = 7071,
        options: HostOptions | None = None,
        blobs: BlobStore | None = None,
        queues: QueueStore | None = None,
        storage: StorageSettings | None = None,
        subscriptions_file: Path = DEFAULT_EVENT_SUBSCRIPTIONS_FILE,
        host_json: Path | None = None,
        app_root: Path | None = None,
        issuer: DevIssuer | None = None,
    ) -> None:
        self.issuer = issuer
        self.data_dir = Path(data_dir).absolute()
        self.options = options or HostOptions.from_env()
        self.app_root = (app_root or Path.cwd()).absolute()
        self.host_json = HostJson.load(host_json or self.app_root / "host.json")
        self.subscriptions = load_event_subscriptions(
            subscriptions_file, inbox_container=self.options.inbox_container
        )
        self.functions = index_functions(app)
        self.topic_key = self.options.topic_key or secrets.token_urlsafe(32)
        # Settings from the environment: queue triggers may then name other
        # connections (_trigger_queues); settings passed in serve everything.
        self._storage_from_env = storage is None
        self._storage = storage or dataclasses.replace(
            StorageSettings.from_env(), data_dir=self.data_dir
        )
        self._blobs = blobs
        self._queues = queues
        self._stores: Stores | None = None
        self._connection_stores: list[Stores] = []
        self._bind = (host, port)
        self._started = False
        self._stopped = threading.Event()
        self._lock: DataDirLock | None = None
        self._state: StateStore | None = None
        self._server: HttpServer | None = None
        self._workers: DeliveryWorkers | None = None
        self._watcher: BlobWatcher | None = None
        self._pollers: list[QueuePoller] = []
        self._timers: list[TimerRunner] = []
        self._queue_names: dict[str, str] = {}
        self._topic: TopicEndpoint | None = None
        self._router: EventRouter | None = None
        self.http = HttpFunctions(
            self._of(HTTP_TRIGGER),
            route_prefix=self.host_json.route_prefix,
        )
        # Resolved now so that a missing %SETTING% or a bad schedule fails construction.
        self._queue_names = {
            f.name: resolve_setting(str(f.trigger["queueName"])) for f in self._of(QUEUE_TRIGGER)
        }
        if self.options.timers_enabled:
            self._timers = [TimerRunner(f) for f in self._of(TIMER_TRIGGER)]

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> DevHost:
        if self._started:
            raise RuntimeError("DevHost.start() was already called")
        self._started = True
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = DataDirLock(self.data_dir / "devhost.lock")
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_parts(self) -> None:
        assert self._lock is not None
        self._lock.acquire()
        blobs, queues = self._storage_ports()
        self._state = state = StateStore(self.data_dir / STATE_FILE)
        resumed = state.requeue_inflight()
        if resumed:
            log.info("resuming %d deliveries a previous host left in flight", resumed)
        self._server = HttpServer(
            *self._bind, self._dispatch, max_body=self.options.max_request_bytes
        )
        event_functions = {f.name: f for f in self._of(EVENT_GRID_TRIGGER)}
        self._workers = DeliveryWorkers(
            state=state,
            functions=event_functions,
            blobs=blobs,
            policy=RetryPolicy(
                max_attempts=self.options.max_delivery_attempts
                or self.subscriptions.max_delivery_attempts,
                base_seconds=self.options.retry_base_seconds,
                max_seconds=self.options.retry_max_seconds,
                ttl_seconds=self.subscriptions.event_ttl_minutes * 60.0,
            ),
            workers=self.options.workers,
        )
        self._router = EventRouter(state, self.subscriptions, event_functions, self._workers.wake)
        self._topic = TopicEndpoint(self.topic_key, self._router)
        if any(s.source == STORAGE for s in self.subscriptions.subscriptions):
            account = self.storage_account
            router = self._router
            self._watcher = BlobWatcher(
                blobs=blobs,
                state=state,
                container=self.options.inbox_container,
                poll_seconds=self.options.blob_poll_seconds,
                account=account.name,
                blob_endpoint=account.blob_endpoint,
                announce=lambda event, mark: router.ingest([event], STORAGE, blob_mark=mark),
            )
        for function in self._of(QUEUE_TRIGGER):
            self._pollers.append(
                QueuePoller(
                    function=function,
                    queue=self._queue_names[function.name],
                    queues=self._trigger_queues(function, queues),
                    visibility_seconds=self.options.queue_visibility_seconds,
                    poll_seconds=self.options.queue_poll_seconds,
                    max_dequeue_count=self.host_json.max_dequeue_count,
                    workers=self.options.queue_workers,
                )
            )
        self._server.start()
        self._workers.start()
        if self._watcher is not None:
            self._watcher.start()
        parts: list[_Part] = [*self._pollers, *self._timers]
        for part in parts:
            part.start()

    def stop(self) -> None:
        """Stop taking work, let invocations in flight finish (up to a timeout),
        and release the data folder. Pending deliveries stay pending."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._server is not None:
            self._server.stop()
        parts: list[_Part | None] = [self._watcher, *self._pollers, *self._timers, self._workers]
        for part in parts:
            if part is not None:
                part.stop(STOP_TIMEOUT_SECONDS)
        if self._state is not None:
            self._state.close()
        for stores in self._connection_stores:
            stores.close()
        if self._stores is not None:
            self._stores.close()
        if self._lock is not None:
            self._lock.release()

    def wait(self) -> None:
        """Block until stop() is called (from a signal handler, say)."""
        self._stopped.wait()

    def __enter__(self) -> DevHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what it serves --------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the host is not started")
        return self._server.base_url

    @property
    def topic_endpoint(self) -> str:
        return self.base_url + TOPIC_PATH

    @property
    def storage_account(self) -> StorageAccount:
        return describe_account(self._storage)

    @property
    def timer_functions(self) -> list[str]:
        """The timer-triggered functions this host runs (none while timers are off)."""
        return [timer.name for timer in self._timers]

    def wait_for_blob_polls(self, count: int = 3, timeout: float = 10.0) -> None:
        """Block until the inbox watcher has listed the container ``count`` more
        times: anything those listings would announce has been announced."""
        if self._watcher is None:
            raise RuntimeError("this host watches no container")
        if not self._watcher.wait_for_polls(count, timeout):
            raise TimeoutError(f"the inbox watcher did not poll {count} times in {timeout} s")

    @property
    def routes(self) -> list[HttpRoute]:
        return list(self.http.routes)

    def route_lines(self) -> list[str]:
        """``name: [GET,POST] http://host:port/api/route``, as ``func start`` prints."""
        lines = []
        for route in self.http.routes:
            methods = ",".join(route.methods) if route.methods else "GET,POST,PUT,PATCH,DELETE"
            lines.append(f"{route.function.name}: [{methods}] {self.base_url}{route.template}")
        return lines

    def _of(self, trigger_type: str) -> list[HostedFunction]:
        return [f for f in self.functions if f.trigger_type == trigger_type]

    def _storage_ports(self) -> tuple[BlobStore, QueueStore]:
        if self._blobs is not None and self._queues is not None:
            return self._blobs, self._queues
        # Deferred: the storage SDKs load only when the caller passed no stores.
        from kernel.storage.factory import create_stores

        self._stores = stores = create_stores(self._storage)
        return self._blobs or stores.blobs, self._queues or stores.queues

    def _trigger_queues(self, function: HostedFunction, app_queues: QueueStore) -> QueueStore:
        """The queue store a queue trigger's ``connection`` names.

        The app's own storage (``DATA_STORAGE``, else ``AzureWebJobsStorage``,
        else the embedded store) serves every trigger whose connection is
        unset or names that same storage. A connection set to other storage
        (``AzureWebJobsStorage`` beside a separate ``DATA_STORAGE``) gets a
        store of its own, as the Functions host would poll that account.
        Unlike the Functions host, an unset connection falls back rather than
        failing, as the app itself does: ``make run`` needs no storage settings.
        """
        if not self._storage_from_env or self._queues is not None:
            return app_queues
        connection = str(function.trigger.get("connection") or STORAGE_CONNECTION)
        settings = StorageSettings.for_connection(connection)
        if settings.embedded:
            if connection not in (DATA_STORAGE, STORAGE_CONNECTION):
                log.warning(
                    "queue trigger %s names connection %s, which is not set: it polls the "
                    "app's storage here, where the Functions host would not start it",
                    function.name,
                    connection,
                )
            return app_queues
        if _same_queue_service(settings, self._storage):
            return app_queues
        from kernel.storage.factory import create_stores

        own = create_stores(
            dataclasses.replace(
                settings, data_dir=self.data_dir, provisioned=self._storage.provisioned
            )
        )
        self._connection_stores.append(own)
        log.info("queue trigger %s polls connection %s", function.name, connection)
        return own.queues

    def _dispatch(self, request: Request) -> Response:
        if not self._host_allowed(request.header("host")):
            return Response.text(HTTPStatus.MISDIRECTED_REQUEST, "Misdirected Request")
        if request.path == TOPIC_PATH:
            assert self._topic is not None
            return self._topic.handle(request)
        if request.path.startswith("/devhost/"):
            issued = self.issuer.handle(request) if self.issuer is not None else None
            return issued or self._admin(request)
        response = self.http.handle(request)
        return response or Response.text(HTTPStatus.NOT_FOUND, "Not Found")

    def _host_allowed(self, host_header: str | None) -> bool:
        """Loopback names, the address bound and configured names only."""
        if not host_header:
            return False
        host = host_header.strip().lower()
        if host.startswith("["):
            host = host[1:].partition("]")[0]
        elif host.count(":") == 1:
            host = host.partition(":")[0]
        allowed = {
            "localhost",
            "127.0.0.1",
            "::1",
            self._bind[0].lower(),
            *self.options.allowed_hosts,
        }
        return host in allowed or host.endswith(".localhost")

    def _admin(self, request: Request) -> Response:
        assert self._state is not None
        if request.path not in (EVENTS_PATH, DELIVERIES_PATH, HEALTH_PATH):
            return Response.text(HTTPStatus.NOT_FOUND, "Not Found")
        if request.method != "GET":
            return Response.text(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed")
        if request.path == EVENTS_PATH:
            wanted = parse_qs(request.query).get("type")
            return _json(self._state.list_events(wanted[0] if wanted else None))
        if request.path == DELIVERIES_PATH:
            return _json(self._state.list_deliveries())
        if request.path == HEALTH_PATH:
            polls = self._watcher.polls if self._watcher is not None else None
            return _json({"status": "ok", "pid": os.getpid(), "blob_polls": polls})
        return Response.text(HTTPStatus.NOT_FOUND, "Not Found")


def _json(payload: Any) -> Response:
    return Response.json(HTTPStatus.OK, json.dumps(payload).encode())


def _same_queue_service(a: StorageSettings, b: StorageSettings) -> bool:
    """Whether two storage settings reach the same queue service."""
    return (a.connection_string, a.blob_service_uri, a.queue_service_uri) == (
        b.connection_string,
        b.blob_service_uri,
        b.queue_service_uri,
    )
