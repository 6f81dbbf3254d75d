"""Time as the app reads it: one injectable clock, always timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: What services take instead of calling ``datetime.now`` (tests pass a settable one).
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    """``2026-03-14T12:00:00.000Z``: the one timestamp format of records and APIs."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def optional_iso(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def optional_time(value: object) -> datetime | None:
    return parse_time(value) if isinstance(value, str) and value else None
