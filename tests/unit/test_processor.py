"""The processor: exactly one outcome per document under at-least-once delivery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel.errors import InvalidEventError, LeaseHeldError
from kernel.events.catalog import (
    BLOB_CREATED,
    DOCUMENT_COMPLETED,
    DOCUMENT_FAILED,
    DOCUMENT_UPLOADED,
)
from kernel.events.cloudevents import InboundEvent
from processing.events import completion_event_id
from processing.extraction.errors import CorruptDocumentError
from processing.extraction.limits import Limits
from processing.extraction.result import ProcessingResult
from processing.processor import extract_in_process
from processing.records import Status
from processing.runtime import Services
from tests.support.app import RecordingPublisher, embedded_services
from tests.support.clock import START, FakeClock

TEXT = (
    b"Invoice 2026-041 was issued on 14 March 2026 to ACME Ltd. The total due is "
    b"$1,250.00 and payment is expected within 30 days. Contact billing@acme.example "
    b"for questions about this invoice.\n"
)


class CountingExtract:
    """The real pipeline, counted; optionally failing like a crashing worker."""

    def __init__(self) -> None:
        self.calls = 0
        self.crash: BaseException | None = None

    def __call__(self, data: bytes, filename: str | None, limits: Limits) -> ProcessingResult:
        self.calls += 1
        if self.crash is not None:
            raise self.crash
        return extract_in_process(data, filename, limits)


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def extract() -> CountingExtract:
    return CountingExtract()


@pytest.fixture
def svc(
    tmp_path: Path, publisher: RecordingPublisher, clock: FakeClock, extract: CountingExtract
) -> Services:
    return embedded_services(tmp_path, publisher, clock=clock, extract=extract)


def uploaded(document_id: str) -> InboundEvent:
    return InboundEvent(
        id="evt-1",
        type=DOCUMENT_UPLOADED,
        subject=f"documents/{document_id}",
        data={"document_id": document_id},
    )


def blob_created(
    name: str, etag: str, *, container: str = "inbox", api: str = "PutBlob"
) -> InboundEvent:
    return InboundEvent(
        id=f"blob-{etag}",
        type=BLOB_CREATED,
        subject=f"/blobServices/default/containers/{container}/blobs/{name}",
        data={"api": api, "eTag": etag, "contentLength": 10},
    )


def test_upload_then_processing_completes_with_one_completion_event(
    svc: Services, publisher: RecordingPublisher
) -> None:
    record = svc.uploads.accept(TEXT, "invoice.txt")
    assert record.status is Status.QUEUED
    [announcement] = publisher.of_type(DOCUMENT_UPLOADED)
    assert announcement["data"]["document_id"] == record.id

    done = svc.processor.handle(uploaded(record.id))

    assert done is not None and done.status is Status.COMPLETED
    [event] = publisher.of_type(DOCUMENT_COMPLETED)
    assert event["id"] == completion_event_id(record.id, "completed")
    assert event["subject"] == f"documents/{record.id}"
    assert event["data"]["result_url"].endswith(f"/api/documents/{record.id}/result")
    assert event["traceparent"].startswith("00-")
    result = json.loads(svc.platform.stores.blobs.get("results", f"{record.id}.json"))
    assert result["document"]["filename"] == "invoice.txt"
    assert "ACME" in result["text"]


def test_duplicate_deliveries_after_completion_do_nothing(
    svc: Services, publisher: RecordingPublisher, extract: CountingExtract
) -> None:
    record = svc.uploads.accept(TEXT, "a.txt")
    for _ in range(3):
        svc.processor.handle(uploaded(record.id))
    assert extract.calls == 1
    assert len(publisher.of_type(DOCUMENT_COMPLETED)) == 1


def test_live_lease_makes_a_concurrent_delivery_retry_later_and_expired_lease_is_taken_over(
    svc: Services, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    record = svc.uploads.accept(TEXT, "a.txt")
    # A worker claimed the document and died without finishing.
    stuck = svc.documents.save(
        svc.documents.get(record.id).replace(
            status=Status.PROCESSING, lease_until=clock.now.replace(minute=5)
        )
    )
    assert stuck.status is Status.PROCESSING

    with pytest.raises(LeaseHeldError):
        svc.processor.handle(uploaded(record.id))

    clock.advance(minutes=10)  # the lease has expired
    done = svc.processor.handle(uploaded(record.id))
    assert done is not None and done.status is Status.COMPLETED
    assert len(publisher.of_type(DOCUMENT_COMPLETED)) == 1


def test_crash_during_work_releases_the_claim_and_the_redelivery_completes(
    svc: Services, publisher: RecordingPublisher, extract: CountingExtract
) -> None:
    record = svc.uploads.accept(TEXT, "a.txt")
    extract.crash = RuntimeError("worker died")
    with pytest.raises(RuntimeError):
        svc.processor.handle(uploaded(record.id))
    assert svc.documents.get(record.id).status is Status.QUEUED
    assert publisher.of_type(DOCUMENT_COMPLETED) == []

    extract.crash = None
    done = svc.processor.handle(uploaded(record.id))
    assert done is not None and done.status is Status.COMPLETED
    assert done.attempts == 2


def test_document_error_is_permanent_failure_with_failed_event(
    svc: Services, publisher: RecordingPublisher, extract: CountingExtract
) -> None:
    record = svc.uploads.accept(TEXT, "a.txt")
    extract.crash = CorruptDocumentError("cannot parse")
    done = svc.processor.handle(uploaded(record.id))
    assert done is not None and done.status is Status.FAILED
    assert done.to_api()["error"] == {"code": "corrupt", "message": "cannot parse"}
    [event] = publisher.of_type(DOCUMENT_FAILED)
    assert event["id"] == completion_event_id(record.id, "failed")
    assert event["data"]["error"]["code"] == "corrupt"
    # Redelivery of a failed document does not retry the work.
    svc.processor.handle(uploaded(record.id))
    assert extract.calls == 1


def test_identical_bytes_reuse_the_cached_result_but_get_their_own_record_and_event(
    svc: Services, publisher: RecordingPublisher, extract: CountingExtract
) -> None:
    first = svc.uploads.accept(TEXT, "first.txt")
    second = svc.uploads.accept(TEXT, "second.txt")
    svc.processor.handle(uploaded(first.id))
    svc.processor.handle(uploaded(second.id))

    assert extract.calls == 1
    assert len(publisher.of_type(DOCUMENT_COMPLETED)) == 2
    result = json.loads(svc.platform.stores.blobs.get("results", f"{second.id}.json"))
    assert result["document"]["filename"] == "second.txt"


def test_blob_drop_processes_each_blob_version_once(
    svc: Services, publisher: RecordingPublisher
) -> None:
    svc.platform.stores.blobs.put("inbox", "reports/q1.txt", TEXT)
    for _ in range(3):
        svc.processor.handle(blob_created("reports/q1.txt", "etag-1"))
    [record] = svc.documents.recent()
    assert record.source.value == "blob"
    assert record.filename == "q1.txt"
    assert record.status is Status.COMPLETED
    assert len(publisher.of_type(DOCUMENT_COMPLETED)) == 1

    svc.platform.stores.blobs.put(
        "inbox", "reports/q1.txt", TEXT + b"More text in a new version.\n"
    )
    svc.processor.handle(blob_created("reports/q1.txt", "etag-2"))
    assert len(svc.documents.recent()) == 2


@pytest.mark.parametrize(
    ("container", "api"), [("uploads", "PutBlob"), ("inbox", "CreateFile"), ("inbox", "PutBlock")]
)
def test_blob_events_from_other_containers_or_partial_writes_are_ignored(
    svc: Services, publisher: RecordingPublisher, container: str, api: str
) -> None:
    assert svc.processor.handle(blob_created("x.txt", "e", container=container, api=api)) is None
    assert svc.documents.recent() == []
    assert publisher.events == []


def test_blob_deleted_before_processing_fails_with_source_missing(
    svc: Services, publisher: RecordingPublisher
) -> None:
    done = svc.processor.handle(blob_created("gone.txt", "etag-9"))
    assert done is not None and done.status is Status.FAILED
    assert done.error_code == "source_missing"


def test_unpublished_outcome_is_published_on_redelivery_with_the_same_event_id(
    svc: Services, publisher: RecordingPublisher
) -> None:
    record = svc.uploads.accept(TEXT, "a.txt")
    publisher.unavailable = True
    with pytest.raises(Exception, match="topic is unavailable"):
        svc.processor.handle(uploaded(record.id))
    stored = svc.documents.get(record.id)
    assert stored.status is Status.COMPLETED and not stored.event_published

    publisher.unavailable = False
    svc.processor.handle(uploaded(record.id))
    [event] = publisher.of_type(DOCUMENT_COMPLETED)
    assert event["id"] == completion_event_id(record.id, "completed")
    assert svc.documents.get(record.id).event_published


def test_unknown_event_types_are_rejected_as_invalid(svc: Services) -> None:
    with pytest.raises(InvalidEventError):
        svc.processor.handle(InboundEvent(id="x", type="something.else", subject="s", data={}))


def test_reconciler_reannounces_stale_uploads_and_unpublished_outcomes(
    svc: Services, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    publisher.unavailable = True
    stale = svc.uploads.accept(TEXT, "stale.txt")  # accepted although the topic is down
    assert svc.documents.get(stale.id).status is Status.QUEUED
    publisher.unavailable = False

    assert svc.reconciler.run() == {"uploads": 0, "exhausted": 0, "completions": 0}  # not yet
    clock.advance(minutes=11)
    assert svc.reconciler.run() == {"uploads": 1, "exhausted": 0, "completions": 0}
    [announcement] = publisher.of_type(DOCUMENT_UPLOADED)
    assert announcement["data"]["document_id"] == stale.id
