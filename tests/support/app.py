"""Test wiring for the app's services on the real embedded store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kernel.events.embedded import EmbeddedEventPublisher
from kernel.platform import Platform
from kernel.settings import PlatformSettings, StorageSettings
from processing.processor import Extract, extract_in_process
from processing.runtime import Services, build_services
from processing.settings import ProcessingSettings
from tests.support.clock import START, FakeClock

#: The embedded twin of the Event Grid publisher, which keeps what it is
#: given; set ``unavailable`` to make it refuse as a topic that is down.
RecordingPublisher = EmbeddedEventPublisher


def embedded_services(
    data_dir: Path,
    publisher: RecordingPublisher,
    *,
    clock: FakeClock | None = None,
    extract: Extract = extract_in_process,
    **overrides: Any,
) -> Services:
    shared = Platform(
        PlatformSettings(storage=StorageSettings(data_dir=data_dir)),
        publisher=publisher,
        clock=clock or FakeClock(START),
    )
    return build_services(ProcessingSettings(**overrides), shared, extract=extract)


def reset_runtime() -> None:
    """Forget the process-wide settings and services, so the next invocation
    builds them again from the (test's) environment."""
    from kernel.identity import reset as reset_identity
    from kernel.platform import platform, readiness
    from kernel.settings import platform_settings
    from notifications.runtime import notifications
    from notifications.settings import notification_settings
    from processing.runtime import services
    from processing.settings import processing_settings
    from search.runtime import search
    from search.settings import search_settings
    from webingest.runtime import webingest
    from webingest.settings import webingest_settings

    reset_identity()
    for cached in (
        search,
        search_settings,
        webingest,
        webingest_settings,
        notifications,
        services,
        platform,
        readiness,
        platform_settings,
        notification_settings,
        processing_settings,
    ):
        cached.cache_clear()
