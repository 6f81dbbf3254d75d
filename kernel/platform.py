"""The composition root of what capabilities share: one set of stores, one
credential, one event publisher, one clock, built once per process.

Each capability's ``runtime`` module builds its own services on top of
:func:`platform` (so the whole app shares one storage client per service and
one token cache); tests build a :class:`Platform` of their own from the
embedded store and the embedded publisher. Nothing here runs at import time:
importing the function app constructs no SDK client (cold start).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache

from kernel.clock import Clock, utcnow
from kernel.credentials import CredentialFactory, managed_identity
from kernel.errors import SettingsError
from kernel.events.ports import EventPublisher
from kernel.readiness import ReadinessProbe
from kernel.settings import EVENTGRID_TOPIC_ENDPOINT, PlatformSettings, platform_settings
from kernel.storage.factory import Stores, create_stores


class Platform:
    """The shared infrastructure of one process."""

    def __init__(
        self,
        settings: PlatformSettings,
        *,
        stores: Stores | None = None,
        publisher: EventPublisher | None = None,
        credential: CredentialFactory | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.credential = credential or managed_identity(settings.storage.client_id)
        self.stores = stores or create_stores(settings.storage, credential=self.credential)
        self.clock = clock
        self._publisher = publisher
        self._lock = threading.Lock()

    @property
    def publisher(self) -> EventPublisher:
        """The event publisher, built on first use: a capability that only
        consumes events needs no topic settings."""
        with self._lock:
            if self._publisher is None:
                self._publisher = create_publisher(self.settings, self.credential)
            return self._publisher

    def readiness_pings(self) -> dict[str, Callable[[float], None]]:
        """What readiness asks (:mod:`kernel.readiness`), by the name it reports."""

        def event_topic(timeout: float) -> None:
            self.publisher.ping(timeout)

        return {
            "blob_storage": self.stores.blobs.ping,
            "table_storage": self.stores.tables.ping,
            "queue_storage": self.stores.queues.ping,
            "event_topic": event_topic,
        }


def create_publisher(settings: PlatformSettings, credential: CredentialFactory) -> EventPublisher:
    if not settings.eventgrid_endpoint:
        raise SettingsError(f"{EVENTGRID_TOPIC_ENDPOINT} is not set")
    from kernel.events.eventgrid import EventGridPublisher

    return EventGridPublisher(
        settings.eventgrid_endpoint, key=settings.eventgrid_key, credential=credential
    )


@cache
def platform() -> Platform:
    """The process's platform, built from the environment on first use (which
    is also when a deployment without authentication is warned about)."""
    from kernel.identity import warn_if_open

    warn_if_open()
    return Platform(platform_settings())


@cache
def readiness() -> ReadinessProbe:
    """The process's readiness probe over :func:`platform`'s dependencies."""
    return ReadinessProbe(lambda: platform().readiness_pings())
