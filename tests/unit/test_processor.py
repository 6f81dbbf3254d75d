"""The processor: exactly one outcome per document under at-least-once delivery, with a
claim renewed by a heartbeat while it works and never written over once taken over."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from kernel.errors import (
    ClaimLostError,
    InvalidEventError,
    LeaseHeldError,
    NotFoundError,
    SettingsError,
)
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
from processing.processor import DocumentProcessor, Extract, extract_in_process
from processing.records import Status
from processing.runtime import Services
from processing.settings import ProcessingSettings
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

    assert svc.reconciler.run() == {
        "uploads": 0,
        "exhausted": 0,
        "completions": 0,
        "expired": 0,
    }  # not yet
    clock.advance(minutes=11)
    assert svc.reconciler.run() == {"uploads": 1, "exhausted": 0, "completions": 0, "expired": 0}
    [announcement] = publisher.of_type(DOCUMENT_UPLOADED)
    assert announcement["data"]["document_id"] == stale.id


LEASE = timedelta(seconds=60)


def leased_processor(
    svc: Services, publisher: RecordingPublisher, clock: FakeClock, extract: Extract
) -> DocumentProcessor:
    """The processor with a heartbeat every 10 ms (the settings count whole seconds)."""
    return DocumentProcessor(
        blobs=svc.platform.stores.blobs,
        documents=svc.documents,
        publisher=publisher,
        inbox_container="inbox",
        results_container="results",
        public_base_url="http://127.0.0.1:7071",
        limits=Limits(),
        lease=LEASE,
        heartbeat=timedelta(milliseconds=10),
        extract=extract,
        clock=clock,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_the_claim_is_renewed_while_the_document_is_worked_on(
    svc: Services, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    record = svc.uploads.accept(TEXT, "minutes.txt")

    def slow_extract(data: bytes, filename: str | None, limits: Limits) -> ProcessingResult:
        claimed = svc.documents.get(record.id)
        assert claimed.lease_until == START + LEASE
        clock.advance(minutes=5)  # far past the first lease: only renewals keep it
        wait_until(lambda: svc.documents.get(record.id).lease_until == clock.now + LEASE)
        return extract_in_process(data, filename, limits)

    done = leased_processor(svc, publisher, clock, slow_extract).handle(uploaded(record.id))

    assert done is not None and done.status is Status.COMPLETED
    assert (done.lease_until, done.attempts) == (None, 1)
    assert len(publisher.of_type(DOCUMENT_COMPLETED)) == 1


def test_a_holder_whose_claim_was_taken_over_writes_nothing(
    svc: Services, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    record = svc.uploads.accept(TEXT, "minutes.txt")
    taken = threading.Event()

    def extract_while_taken_over(
        data: bytes, filename: str | None, limits: Limits
    ) -> ProcessingResult:
        # Another instance decided this holder was dead and claimed the document.
        stolen = svc.documents.get(record.id)
        svc.documents.save(
            stolen.replace(attempts=stolen.attempts + 1, lease_until=clock.now + LEASE)
        )
        taken.set()
        return extract_in_process(data, filename, limits)

    with pytest.raises(ClaimLostError):
        leased_processor(svc, publisher, clock, extract_while_taken_over).handle(
            uploaded(record.id)
        )

    assert taken.is_set()
    after = svc.documents.get(record.id)
    assert (after.status, after.attempts) == (Status.PROCESSING, 2)  # the new holder's claim
    with pytest.raises(NotFoundError):
        svc.platform.stores.blobs.get("results", f"{record.id}.json")
    assert publisher.of_type(DOCUMENT_COMPLETED) == []


def test_the_reconciler_announces_a_claim_again_as_soon_as_its_lease_ran_out(
    svc: Services, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    record = svc.uploads.accept(TEXT, "minutes.txt")
    svc.documents.save(
        svc.documents.get(record.id).replace(
            status=Status.PROCESSING, attempts=1, lease_until=clock.now + LEASE
        )
    )
    clock.advance(seconds=59)
    assert svc.reconciler.run()["uploads"] == 0  # the holder may still be alive
    clock.advance(seconds=1)
    assert svc.reconciler.run()["uploads"] == 1
    assert len(publisher.of_type(DOCUMENT_UPLOADED)) == 2


def test_the_lease_defaults_to_four_heartbeats_and_must_cover_two() -> None:
    defaults = ProcessingSettings.from_env({})
    assert (defaults.lease_seconds, defaults.heartbeat_seconds) == (60, 15)
    with pytest.raises(SettingsError, match="at most half"):
        ProcessingSettings.from_env(
            {"PROCESSING_LEASE_SECONDS": "20", "PROCESSING_HEARTBEAT_SECONDS": "15"}
        )


def test_an_inbox_folder_names_the_owner_only_when_tokens_authenticate() -> None:
    """With several owners (AUTH_MODE=jwt) ``<owner>/name`` belongs to that
    owner; with authentication off every drop is the one local owner's."""
    from processing.records import inbox_owner

    assert inbox_owner("tenant-a:alice/memo.txt", owner_folders=True) == "tenant-a:alice"
    assert inbox_owner("memo.txt", owner_folders=True) == "local"
    assert inbox_owner("drops/memo.txt", owner_folders=False) == "local"


def test_an_inbox_drop_outside_an_owner_folder_belongs_to_the_configured_default() -> None:
    """INBOX_DEFAULT_OWNER names who owns ``memo.txt`` (no folder) under
    AUTH_MODE=jwt; an unusable owner id is refused with the setting named."""
    from processing.records import inbox_owner

    settings = ProcessingSettings.from_env({"INBOX_DEFAULT_OWNER": "tenant-a:ops"})
    assert settings.inbox_default_owner == "tenant-a:ops"
    assert inbox_owner("memo.txt", owner_folders=True, default="tenant-a:ops") == "tenant-a:ops"
    assert inbox_owner("t:b/memo.txt", owner_folders=True, default="tenant-a:ops") == "t:b"
    assert inbox_owner("memo.txt", owner_folders=False, default="tenant-a:ops") == "local"
    with pytest.raises(SettingsError, match="INBOX_DEFAULT_OWNER"):
        ProcessingSettings.from_env({"INBOX_DEFAULT_OWNER": "a/b"})
