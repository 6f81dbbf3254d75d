"""Per-host politeness across instances: the least interval between two
requests to one host, raised by ``Crawl-delay`` and by ``Retry-After``.

Each host has a row holding when its last booked request starts (and the end
of any ``Retry-After``); booking the next turn, one interval later, is an
ETag-conditional update, so two instances never book the same turn. A turn
that starts soon is booked and waited for; one further away is not booked,
and the URL's message comes back later instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kernel.errors import ConflictError, NotFoundError
from kernel.storage.ports import TableStore
from webingest.urls import url_key

HOST_PARTITION = "host"


@dataclass(frozen=True, slots=True)
class Turn:
    booked: bool
    wait: float


_ATTEMPTS = 20


class HostGate:
    def __init__(
        self, tables: TableStore, table: str, *, now: Callable[[], float] = time.time
    ) -> None:
        self._tables = tables
        self._table = table
        self._now = now

    def take_turn(self, host: str, interval: float, *, max_wait: float) -> Turn:
        """Book the next free turn to request ``host`` if it starts within
        ``max_wait`` seconds (the caller sleeps ``wait``, then requests); else
        book nothing and say how long until a turn may be free."""
        key = url_key(host)
        for _ in range(_ATTEMPTS):
            now = self._now()
            try:
                row = self._tables.get(self._table, HOST_PARTITION, key)
            except NotFoundError:
                try:
                    self._tables.insert(self._table, _row(key, host, now))
                    return Turn(booked=True, wait=0.0)
                except ConflictError:
                    continue
            # The interval runs from the last request, whatever interval it was
            # booked with (a Crawl-delay learnt since applies at once).
            not_before = float(row["not_before"])
            # A margin absorbs the scheduling jitter between a booked start and the request.
            spacing = interval * 1.05 + 0.02 if interval > 0 else 0.0
            start = max(now, float(row["last_at"]) + spacing, not_before)
            if start - now > max_wait:
                return Turn(booked=False, wait=start - now)
            try:
                booked = _row(key, host, start, not_before)
                self._tables.update(self._table, booked, etag=row["etag"])
                return Turn(booked=True, wait=start - now)
            except ConflictError:
                continue
        return Turn(booked=False, wait=max(interval, 0.1))

    def hold_off(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` (a ``Retry-After``)."""
        key = url_key(host)
        until = self._now() + seconds
        for _ in range(_ATTEMPTS):
            try:
                row = self._tables.get(self._table, HOST_PARTITION, key)
            except NotFoundError:
                try:
                    self._tables.insert(self._table, _row(key, host, 0.0, until))
                    return
                except ConflictError:
                    continue
            if float(row["not_before"]) >= until:
                return
            try:
                held = _row(key, host, float(row["last_at"]), until)
                self._tables.update(self._table, held, etag=row["etag"])
                return
            except ConflictError:
                continue


def _row(key: str, host: str, last_at: float, not_before: float = 0.0) -> dict[str, object]:
    """``last_at``: when the last booked request starts; ``not_before``: a Retry-After's end."""
    return {
        "PartitionKey": HOST_PARTITION,
        "RowKey": key,
        "host": host,
        "last_at": last_at,
        "not_before": not_before,
    }


class Defer(Exception):
    """The URL cannot be fetched yet: ask again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def wait_for_turn(
    gate: HostGate,
    host: str,
    interval: float,
    *,
    max_wait: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Book a turn at ``host`` and wait for it; Defer when none is free within ``max_wait``."""
    turn = gate.take_turn(host, interval, max_wait=max_wait)
    if not turn.booked:
        raise Defer(turn.wait)
    if turn.wait > 0:
        sleep(turn.wait)
