"""Test wiring for the app's services on the real embedded store."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from processing.adapters.factory import Stores, create_stores
from processing.extraction.errors import DependencyError
from processing.processor import Extract, run_pipeline
from processing.runtime import Services, build_services
from processing.settings import Settings, StorageSettings


class RecordingPublisher:
    """An EventPublisher that keeps what it is given; set ``failing`` to refuse."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.failing = False
        self._lock = threading.Lock()

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        if self.failing:
            raise DependencyError("topic unavailable (test)")
        with self._lock:
            self.events.extend(dict(e) for e in events)

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]


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
    extract: Extract = run_pipeline,
    **overrides: Any,
) -> Services:
    settings = Settings(storage=StorageSettings(data_dir=data_dir), **overrides)
    stores: Stores = create_stores(settings.storage)
    return build_services(
        settings, stores=stores, publisher=publisher, clock=clock or Clock(), extract=extract
    )
