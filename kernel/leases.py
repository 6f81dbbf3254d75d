"""Claiming work under at-least-once delivery: an ETag-guarded write with a lease.

Event Grid and queues may deliver the same work twice, or at once to two
instances. Whoever wants to do it first checks that nobody holds a live
lease (:meth:`Lease.ensure_free`), then writes the record in its claimed
state with ``lease_until`` set (:func:`claim`); the write carries the ETag
of the record it read, so of two concurrent claimants one wins and the
other gets :class:`~kernel.errors.ClaimLostError`. A holder that dies never
releases its lease: the work becomes free again when the lease expires.
Both errors are transient, so the delivery is retried later and by then
finds the work done or free. Work that can outlast a short lease keeps it
alive with a :class:`Heartbeat`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from kernel.errors import AppError, ClaimLostError, ConflictError, LeaseHeldError

log = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Lease:
    """How long a claim on one piece of work lasts."""

    duration: timedelta

    def until(self, now: datetime) -> datetime:
        """The ``lease_until`` of a claim taken at ``now``."""
        return now + self.duration

    def ensure_free(
        self,
        lease_until: datetime | None,
        now: datetime,
        *,
        held: type[LeaseHeldError] = LeaseHeldError,
        message: str = "the work is held by another invocation",
    ) -> None:
        """Raise ``held`` while a claim's lease is live; return once it has expired."""
        if lease_until is not None and lease_until > now:
            raise held(message)


def claim(
    save: Callable[[R], R], claimed: R, *, message: str = "another invocation claimed it first"
) -> R:
    """Write ``claimed`` with ``save`` (an ETag-guarded replace); ClaimLostError
    when another writer changed the record since it was read."""
    try:
        return save(claimed)
    except ConflictError as exc:
        raise ClaimLostError(message) from exc


class Heartbeat(Generic[R]):
    """Keeps a claim alive while its holder works on it.

    A daemon thread renews the claim every ``interval`` seconds with ``renew``
    (an ETag-guarded save that pushes ``lease_until`` forward), so the lease
    can be short: a few heartbeats, not the longest the work could take. When
    a renewal finds the record changed (:class:`~kernel.errors.ConflictError`)
    somebody else has taken the work over; the claim is lost, and
    :meth:`settle` says so instead of letting the holder save over the new
    holder's work. Other renewal failures (storage briefly unreachable) are
    logged and tried again at the next beat: as long as nobody else claimed
    the record, the next successful renewal still holds it.
    """

    def __init__(
        self,
        claimed: R,
        renew: Callable[[R], R],
        interval: float,
        *,
        message: str = "another invocation took the work over",
    ) -> None:
        self._record = claimed
        self._renew = renew
        self._interval = interval
        self._message = message
        self._lost = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat[R]:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def current(self) -> R:
        """The record as last written by this holder (its latest ETag)."""
        with self._lock:
            return self._record

    @property
    def lost(self) -> bool:
        with self._lock:
            return self._lost

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def settle(self) -> R:
        """Stop beating and renew once more, now: the record, held with a fresh
        lease for the holder's last writes; ClaimLostError when it was taken over."""
        self.stop()
        with self._lock:
            if not self._lost:
                self._renew_locked()
            if self._lost:
                raise ClaimLostError(self._message)
            return self._record

    def _beat(self) -> None:
        while not self._stopped.wait(self._interval):
            with self._lock:
                try:
                    self._renew_locked()
                except AppError:
                    log.warning("lease.renewal_failed", exc_info=True)
                if self._lost:
                    return

    def _renew_locked(self) -> None:
        try:
            self._record = self._renew(self._record)
        except ConflictError:
            self._lost = True
            log.warning("lease.lost")
