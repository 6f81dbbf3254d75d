"""The lease heartbeat: it renews a claim while its holder works, notices when
somebody else took the work over, and rides out a failed renewal."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import pytest

from kernel.errors import ClaimLostError, ConflictError, DependencyError
from kernel.leases import Heartbeat


@dataclass(frozen=True)
class Row:
    etag: int
    renewals: int = 0


class Store:
    """One record with an ETag, renewed only by whoever holds its current ETag."""

    def __init__(self) -> None:
        self.row = Row(etag=1)
        self.failures = 0
        self.lock = threading.Lock()

    def renew(self, held: Row) -> Row:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise DependencyError("storage is unreachable")
            if held.etag != self.row.etag:
                raise ConflictError("the record changed")
            self.row = replace(held, etag=held.etag + 1, renewals=held.renewals + 1)
            return self.row

    def take_over(self) -> None:
        with self.lock:
            self.row = replace(self.row, etag=self.row.etag + 100)


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_the_heartbeat_renews_the_claim_until_it_is_settled() -> None:
    store = Store()
    with Heartbeat(store.row, store.renew, 0.01) as beat:
        wait_until(lambda: store.row.renewals >= 3)
        held = beat.settle()
    assert held == store.row  # the holder's copy carries the latest ETag
    renewals = store.row.renewals
    time.sleep(0.05)
    assert store.row.renewals == renewals  # settled: no more beats


def test_a_takeover_is_noticed_and_settle_refuses_to_hand_back_the_record() -> None:
    store = Store()
    with Heartbeat(store.row, store.renew, 0.01, message="taken over") as beat:
        wait_until(lambda: store.row.renewals >= 1)
        store.take_over()
        wait_until(lambda: beat.lost)
        with pytest.raises(ClaimLostError, match="taken over"):
            beat.settle()
    assert store.row.etag > 100  # the new holder's record was never written over


def test_settle_notices_a_takeover_between_beats() -> None:
    store = Store()
    with Heartbeat(store.row, store.renew, 3600) as beat:
        store.take_over()
        with pytest.raises(ClaimLostError):
            beat.settle()


def test_a_failed_renewal_is_tried_again_at_the_next_beat() -> None:
    store = Store()
    store.failures = 2
    with Heartbeat(store.row, store.renew, 0.01) as beat:
        wait_until(lambda: store.row.renewals >= 2)
        assert not beat.lost
        assert beat.settle() == store.row
    assert store.failures == 0
