"""When to try a webhook delivery again.

The schedule lists the waits between attempts (``WEBHOOK_RETRY_SCHEDULE``):
with the default seven delays a notice gets eight attempts over about 27.6
hours. Each wait is spread by ±20% so that many notices failing together do
not return together. A ``Retry-After`` on 429 or 503 replaces the wait, but
never shortens it below the schedule's and never extends it beyond a day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

JITTER = 0.2
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0
#: Responses whose Retry-After header is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """The waits between attempts, and the randomness that spreads them."""

    delays: Sequence[float]
    random: Callable[[], float]

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(
        self, attempt: int, *, status: int | None = None, retry_after: float | None = None
    ) -> float | None:
        """Seconds to wait after failed ``attempt`` (1-based, within a run), or
        None when it was the last one."""
        if attempt >= self.max_attempts:
            return None
        base = float(self.delays[attempt - 1])
        delay = base * (1 - JITTER + 2 * JITTER * self.random())
        if status in RETRY_AFTER_STATUSES and retry_after is not None:
            delay = min(max(retry_after, base), max(MAX_RETRY_AFTER_SECONDS, base))
        return delay


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
