"""Retry timing: the schedule, jitter, and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from notifications.schedule import RetrySchedule, parse_retry_after
from notifications.settings import DEFAULT_WEBHOOK_RETRY_SCHEDULE

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def test_the_default_schedule_gives_8_attempts_over_about_27_6_hours() -> None:
    schedule = RetrySchedule(DEFAULT_WEBHOOK_RETRY_SCHEDULE, lambda: 0.5)
    assert schedule.max_attempts == 8
    delays = [schedule.delay_after(n) for n in range(1, 8)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert round(sum(d for d in delays if d) / 3600, 1) == 27.6
    assert schedule.delay_after(8) is None


@pytest.mark.parametrize(("fraction", "factor"), [(0.0, 0.8), (1.0, 1.2), (0.25, 0.9)])
def test_jitter_spreads_each_delay_by_up_to_20_percent(fraction: float, factor: float) -> None:
    schedule = RetrySchedule((300,), lambda: fraction)
    assert schedule.delay_after(1) == pytest.approx(300 * factor)


def test_retry_after_on_429_and_503_replaces_the_delay_within_bounds() -> None:
    schedule = RetrySchedule((300, 600), lambda: 0.5)
    assert schedule.delay_after(1, status=429, retry_after=1200) == 1200
    assert schedule.delay_after(1, status=503, retry_after=1200) == 1200
    # never sooner than the schedule, never later than a day
    assert schedule.delay_after(1, status=429, retry_after=1) == 300
    assert schedule.delay_after(1, status=503, retry_after=10**7) == 24 * 3600
    # other statuses ignore it
    assert schedule.delay_after(1, status=500, retry_after=1200) == 300


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", NOW) == 120
    later = format_datetime(NOW + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(later, NOW) == 300
    earlier = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("-5", NOW) is None
    assert parse_retry_after(None, NOW) is None
