"""Retention (RESULTS_RETENTION_DAYS) and the per-owner document quota
(DOCUMENTS_MAX_PER_OWNER), on the real embedded store with a settable clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import NotFoundError
from kernel.identity import Reach
from processing.errors import DocumentQuotaError
from processing.records import Status
from tests.support.app import RecordingPublisher, embedded_services
from tests.support.clock import START, FakeClock

TEXT = b"Minutes of the board, 3 December 2026. Contact: secretary@example.org.\n"


def test_documents_past_retention_are_deleted_by_the_reconciler(tmp_path: Path) -> None:
    """A document older than the retention loses its bytes, result and record
    and is announced deleted; a younger one stays."""
    clock, publisher = FakeClock(START), RecordingPublisher()
    svc = embedded_services(tmp_path, publisher, clock=clock, retention_days=30)
    old = svc.uploads.accept(TEXT, "old.txt", owner="t:a")
    clock.advance(days=20)
    young = svc.uploads.accept(TEXT + b"more", "young.txt", owner="t:a")
    clock.advance(days=10, minutes=1)

    counts = svc.reconciler.run()
    assert counts["expired"] == 1
    with pytest.raises(NotFoundError):
        svc.documents.get(old.id)
    assert svc.documents.get(young.id).status is Status.QUEUED
    stores = svc.platform.stores
    assert [b.name for b in stores.blobs.list("uploads")] == [young.blob_name]
    assert [e["subject"] for e in publisher.of_type("document.deleted")] == [f"documents/{old.id}"]
    assert svc.documents.stored("t:a") == 1
    assert svc.reconciler.run()["expired"] == 0


def test_retention_zero_keeps_documents_for_ever(tmp_path: Path) -> None:
    clock = FakeClock(START)
    svc = embedded_services(tmp_path, RecordingPublisher(), clock=clock, retention_days=0)
    kept = svc.uploads.accept(TEXT, "kept.txt")
    clock.advance(days=3650)
    assert svc.reconciler.run()["expired"] == 0
    assert svc.documents.get(kept.id).id == kept.id


def test_an_owner_at_its_quota_is_refused_until_it_deletes(tmp_path: Path) -> None:
    """The cap counts the owner's stored documents: the refused upload stores
    nothing; other owners are not affected; a delete makes room again."""
    svc = embedded_services(tmp_path, RecordingPublisher(), max_documents_per_owner=2)
    first = svc.uploads.accept(TEXT, "1.txt", owner="t:a")
    svc.uploads.accept(TEXT, "2.txt", owner="t:a")
    with pytest.raises(DocumentQuotaError) as refused:
        svc.uploads.accept(TEXT, "3.txt", owner="t:a")
    assert refused.value.code == "quota_exceeded"
    assert len(svc.documents.recent(reach=Reach(owner="t:a"))) == 2
    assert len(list(svc.platform.stores.blobs.list("uploads"))) == 2
    svc.uploads.accept(TEXT, "other.txt", owner="t:b")

    svc.deletions.delete(first.id, Reach(owner="t:a"))
    svc.deletions.delete(first.id, Reach(owner="t:a"))  # again: counted once
    assert svc.documents.stored("t:a") == 1
    svc.uploads.accept(TEXT, "3.txt", owner="t:a")
    assert svc.documents.stored("t:a") == 2


def test_a_failed_store_gives_the_reserved_place_back(tmp_path: Path) -> None:
    svc = embedded_services(tmp_path, RecordingPublisher(), max_documents_per_owner=1)
    blobs = svc.platform.stores.blobs
    original = blobs.put

    def failing_put(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    blobs.put = failing_put  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        svc.uploads.accept(TEXT, "1.txt", owner="t:a")
    blobs.put = original  # type: ignore[method-assign]
    assert svc.documents.stored("t:a") == 0
    svc.uploads.accept(TEXT, "1.txt", owner="t:a")
