"""Test wiring for the app's services on the real embedded store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kernel.events.embedded import EmbeddedEventPublisher
from kernel.platform import Platform
from kernel.settings import PlatformSettings, StorageSettings
from processing.processor import Extract, extract_in_process
from processing.runtime import Services, build_services
from processing.settings import ProcessingSettings

#: The embedded twin of the Event Grid publisher, which keeps what it is
#: given; set ``unavailable`` to make it refuse as a topic that is down.
RecordingPublisher = EmbeddedEventPublisher


class Clock:
    """A settable clock for leases and reconciliation."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def embedded_services(
    data_dir: Path,
    publisher: RecordingPublisher,
    *,
    clock: Clock | None = None,
    extract: Extract = extract_in_process,
    **overrides: Any,
) -> Services:
    shared = Platform(
        PlatformSettings(storage=StorageSettings(data_dir=data_dir)),
        publisher=publisher,
        clock=clock or Clock(),
    )
    return build_services(ProcessingSettings(**overrides), shared, extract=extract)


def reset_runtime() -> None:
    """Forget the process-wide settings and services, so the next invocation
    builds them again from the (test's) environment."""
    from kernel.platform import platform
    from kernel.settings import platform_settings
    from notifications.runtime import notifications
    from notifications.settings import notification_settings
    from processing.runtime import services
    from processing.settings import processing_settings

    for cached in (
        notifications,
        services,
        platform,
        platform_settings,
        notification_settings,
        processing_settings,
    ):
        cached.cache_clear()
