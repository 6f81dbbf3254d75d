"""Claiming work under at-least-once delivery: an ETag-guarded write with a lease.

Event Grid and queues may deliver the same work twice, or at once to two
instances. Whoever wants to do it first checks that nobody holds a live
lease (:meth:`Lease.ensure_free`), then writes the record in its claimed
state with ``lease_until`` set (:func:`claim`); the write carries the ETag
of the record it read, so of two concurrent claimants one wins and the
other gets :class:`~kernel.errors.ClaimLostError`. A holder that dies never
releases its lease: the work becomes free again when the lease expires.
Both errors are transient, so the delivery is retried later and by then
finds the work done or free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from kernel.errors import ClaimLostError, ConflictError, LeaseHeldError

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
