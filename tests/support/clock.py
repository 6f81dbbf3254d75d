"""A settable clock for tests of leases, retries and reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: Where clocks of the processing tests start (a fixed, readable instant).
START = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


class FakeClock:
    """Callable like :data:`kernel.clock.Clock`; starts at ``now`` (default: the
    current time) rounded down to whole milliseconds, what the tables store."""

    def __init__(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        self.now = now.replace(microsecond=now.microsecond // 1000 * 1000)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
