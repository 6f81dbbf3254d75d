"""Delta debugging: the smallest input (found in the time given) that still fails."""

from __future__ import annotations

import time
from collections.abc import Callable


def minimize(data: bytes, still_fails: Callable[[bytes], bool], *, seconds: float) -> bytes:
    """Remove chunks of ``data``, halving their size, while ``still_fails`` holds.

    ``still_fails(data)`` is assumed true. Stops when no single byte can be
    removed or ``seconds`` have passed, and returns the smallest failing input.
    """
    stop_at = time.monotonic() + seconds
    chunk = max(1, len(data) // 2)
    while chunk >= 1 and time.monotonic() < stop_at:
        removed = False
        start = 0
        while start < len(data) and time.monotonic() < stop_at:
            candidate = data[:start] + data[start + chunk :]
            if candidate and still_fails(candidate):
                data = candidate
                removed = True
            else:
                start += chunk
        if not removed:
            if chunk == 1:
                break
            chunk //= 2
    return data
