"""What the dev host reads before it starts: its DEVHOST_* knobs, ``host.json``
and ``local.settings.json`` (the same files ``func start`` reads)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

MIB = 1024 * 1024

N = TypeVar("N", int, float)


class ConfigError(ValueError):
    """A dev host setting or file holds a value the host cannot use."""


@dataclass(frozen=True, slots=True)
class HostOptions:
    """Knobs of the local host; every one has an environment variable."""

    #: Event Grid delivery threads (``DEVHOST_WORKERS``).
    workers: int = 4
    #: First retry delay; doubles per attempt (``DEVHOST_RETRY_BASE_SECONDS``).
    retry_base_seconds: float = 10.0
    #: Longest retry delay (``DEVHOST_RETRY_MAX_SECONDS``).
    retry_max_seconds: float = 300.0
    #: Overrides the subscription file's retryPolicy (``DEVHOST_MAX_DELIVERY_ATTEMPTS``).
    max_delivery_attempts: int | None = None
    #: Inbox listing interval (``DEVHOST_BLOB_POLL_SECONDS``).
    blob_poll_seconds: float = 1.0
    #: Queue polling interval when a queue is empty (``DEVHOST_QUEUE_POLL_SECONDS``).
    queue_poll_seconds: float = 1.0
    #: How long a received message stays hidden, and so the retry delay after a
    #: failure (``DEVHOST_QUEUE_VISIBILITY_SECONDS``).
    queue_visibility_seconds: int = 30
    #: Threads per queue-triggered function (``DEVHOST_QUEUE_WORKERS``).
    queue_workers: int = 2
    #: ``DEVHOST_DISABLE_TIMERS=1`` turns timer triggers off.
    timers_enabled: bool = True
    #: Larger request bodies get 413 (``DEVHOST_MAX_REQUEST_BYTES``).
    max_request_bytes: int = 128 * MIB
    #: The topic's access key (``EVENTGRID_TOPIC_KEY``); generated when unset.
    topic_key: str | None = None
    #: The container the blob watcher lists (``INBOX_CONTAINER``).
    inbox_container: str = "inbox"
    #: Host names requests may carry besides loopback's (``DEVHOST_ALLOWED_HOSTS``,
    #: comma-separated): any other ``Host`` gets 421, so a web page cannot reach
    #: the host through a name it rebinds to 127.0.0.1.
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HostOptions:
        env = os.environ if env is None else env
        d = cls()
        attempts = _number(env, "DEVHOST_MAX_DELIVERY_ATTEMPTS", 0, int)
        return cls(
            workers=_number(env, "DEVHOST_WORKERS", d.workers, int),
            allowed_hosts=tuple(
                h.strip().lower()
                for h in env.get("DEVHOST_ALLOWED_HOSTS", "").split(",")
                if h.strip()
            ),
            retry_base_seconds=_number(
                env, "DEVHOST_RETRY_BASE_SECONDS", d.retry_base_seconds, float
            ),
            retry_max_seconds=_number(env, "DEVHOST_RETRY_MAX_SECONDS", d.retry_max_seconds, float),
            max_delivery_attempts=attempts or None,
            blob_poll_seconds=_number(env, "DEVHOST_BLOB_POLL_SECONDS", d.blob_poll_seconds, float),
            queue_poll_seconds=_number(
                env, "DEVHOST_QUEUE_POLL_SECONDS", d.queue_poll_seconds, float
            ),
            queue_visibility_seconds=_number(
                env, "DEVHOST_QUEUE_VISIBILITY_SECONDS", d.queue_visibility_seconds, int
            ),
            queue_workers=_number(env, "DEVHOST_QUEUE_WORKERS", d.queue_workers, int),
            timers_enabled=env.get("DEVHOST_DISABLE_TIMERS", "").strip().lower()
            not in {"1", "true", "yes"},
            max_request_bytes=_number(env, "DEVHOST_MAX_REQUEST_BYTES", d.max_request_bytes, int),
            topic_key=env.get("EVENTGRID_TOPIC_KEY", "").strip() or None,
            inbox_container=env.get("INBOX_CONTAINER", "").strip() or d.inbox_container,
        )


def _number(env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class HostJson:
    """The parts of ``host.json`` the local host honours."""

    route_prefix: str = "api"
    max_dequeue_count: int = 5

    @classmethod
    def load(cls, path: Path) -> HostJson:
        if not path.is_file():
            return cls()
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} is not readable JSON: {exc}") from None
        extensions = _object(_object(doc).get("extensions"))
        http = _object(extensions.get("http"))
        queues = _object(extensions.get("queues"))
        defaults = cls()
        prefix = http.get("routePrefix", defaults.route_prefix)
        dequeue = queues.get("maxDequeueCount", defaults.max_dequeue_count)
        if not isinstance(prefix, str):
            raise ConfigError(f"{path}: extensions.http.routePrefix must be a string")
        if not isinstance(dequeue, int) or dequeue < 1:
            raise ConfigError(f"{path}: extensions.queues.maxDequeueCount must be a positive int")
        return cls(route_prefix=prefix.strip("/"), max_dequeue_count=dequeue)


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def load_local_settings(path: Path, environ: MutableMapping[str, str]) -> dict[str, Any]:
    """Copy ``Values`` of ``local.settings.json`` into ``environ`` like ``func start``:
    variables already set win. Returns the file's ``Host`` section ({} without a file)."""
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not readable JSON: {exc}") from None
    if _object(doc).get("IsEncrypted") is True:
        raise ConfigError(f"{path} is encrypted; run `func settings decrypt` first")
    values = _object(_object(doc).get("Values"))
    loaded = 0
    for name, value in values.items():
        if name not in environ and value is not None:
            environ[name] = str(value)
            loaded += 1
    log.info("local settings loaded", extra={"path": str(path), "count": loaded})
    return dict(_object(_object(doc).get("Host")))
