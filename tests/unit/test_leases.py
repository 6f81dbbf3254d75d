"""Claiming work with a lease: a live lease holds others off, an expired one
frees the work, and of two concurrent claimants only the first write wins."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from kernel.errors import ClaimLostError, ConflictError, LeaseHeldError
from kernel.leases import Lease, claim

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
LEASE = Lease(timedelta(seconds=30))


@dataclass(frozen=True)
class Work:
    etag: str
    lease_until: datetime | None = None


class Store:
    """An ETag-guarded store of one record."""

    def __init__(self) -> None:
        self.current = Work(etag="1")

    def save(self, work: Work) -> Work:
        if work.etag != self.current.etag:
            raise ConflictError("changed")
        self.current = replace(work, etag=str(int(work.etag) + 1))
        return self.current


def test_a_live_lease_holds_the_work() -> None:
    with pytest.raises(LeaseHeldError, match="busy"):
        LEASE.ensure_free(NOW + timedelta(seconds=1), NOW, message="busy")


def test_an_expired_or_absent_lease_frees_the_work() -> None:
    LEASE.ensure_free(NOW, NOW)
    LEASE.ensure_free(NOW - timedelta(seconds=1), NOW)
    LEASE.ensure_free(None, NOW)


def test_the_held_error_can_be_a_capability_subclass() -> None:
    class AttemptBusy(LeaseHeldError):
        code = "attempt_busy"

    with pytest.raises(AttemptBusy):
        LEASE.ensure_free(NOW + timedelta(seconds=5), NOW, held=AttemptBusy)


def test_a_claim_sets_the_lease_and_the_second_claimant_loses() -> None:
    store = Store()
    read_by_a, read_by_b = store.current, store.current
    taken = claim(store.save, replace(read_by_a, lease_until=LEASE.until(NOW)))
    assert taken.lease_until == NOW + timedelta(seconds=30)
    with pytest.raises(ClaimLostError) as lost:
        claim(store.save, replace(read_by_b, lease_until=LEASE.until(NOW)))
    assert isinstance(lost.value, LeaseHeldError)  # transient: the delivery is retried
    assert store.current == taken
