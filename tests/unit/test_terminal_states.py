"""Every failure path ends in a terminal, coded state: poison documents,
workers that die every time and blobs over the size limit end ``failed`` with
one failed event, and the reconciler never announces them again."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from kernel.events.catalog import BLOB_CREATED, DOCUMENT_FAILED, DOCUMENT_UPLOADED
from kernel.events.cloudevents import InboundEvent
from processing.extraction.limits import Limits
from processing.extraction.result import ProcessingResult
from processing.processor import extract_in_process
from processing.records import MAX_ERROR_MESSAGE_CHARS, Status
from processing.runtime import Services
from tests.support.app import RecordingPublisher, embedded_services
from tests.support.clock import START, FakeClock

TEXT = b"A short memo about the annual budget, sent on 14 March 2026.\n"


def poison_docx() -> bytes:
    """The reviewed finding: a 785-byte DOCX whose main-part target name makes
    the parser's message longer than a table property may be."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/'
            + "A" * 40000
            + '.xml"/></Relationships>',
        )
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body/></w:document>",
        )
    return buffer.getvalue()


class DyingExtract:
    """A parsing worker that dies on every document (an exception, as the pool
    reports a lost worker to a host that survives it)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes, filename: str | None, limits: Limits) -> ProcessingResult:
        self.calls += 1
        raise RuntimeError("the worker died")


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def uploaded(document_id: str) -> InboundEvent:
    return InboundEvent(
        id="evt-1",
        type=DOCUMENT_UPLOADED,
        subject=f"documents/{document_id}",
        data={"document_id": document_id},
    )


def test_a_poison_document_ends_failed_with_a_bounded_message_and_is_not_retried(
    tmp_path: Path, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    svc = embedded_services(tmp_path, publisher, clock=clock)
    record = svc.uploads.accept(poison_docx(), "poison.docx")

    done = svc.processor.handle(uploaded(record.id))

    assert done.status is Status.FAILED and done.error_code == "corrupt"
    stored = svc.documents.get(record.id)
    assert stored.status is Status.FAILED
    assert stored.error_message is not None
    assert len(stored.error_message) <= MAX_ERROR_MESSAGE_CHARS
    [failed] = publisher.of_type(DOCUMENT_FAILED)
    assert len(failed["data"]["error"]["message"]) <= MAX_ERROR_MESSAGE_CHARS
    clock.advance(hours=1)
    assert svc.reconciler.run() == {"uploads": 0, "exhausted": 0, "completions": 0, "expired": 0}
    assert len(publisher.of_type(DOCUMENT_UPLOADED)) == 1  # only the upload's own


def test_a_document_whose_worker_dies_every_time_ends_attempts_exhausted(
    tmp_path: Path, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    extract = DyingExtract()
    svc = embedded_services(tmp_path, publisher, clock=clock, extract=extract, max_attempts=3)
    record = svc.uploads.accept(TEXT, "memo.txt")
    for _ in range(3):
        with pytest.raises(RuntimeError):
            svc.processor.handle(uploaded(record.id))
    done = svc.processor.handle(uploaded(record.id))

    assert (done.status, done.error_code) == (Status.FAILED, "attempts_exhausted")
    assert extract.calls == 3  # the fourth delivery ends it without parsing again
    assert len(publisher.of_type(DOCUMENT_FAILED)) == 1
    svc.processor.handle(uploaded(record.id))  # a late duplicate changes nothing
    assert len(publisher.of_type(DOCUMENT_FAILED)) == 1


def test_the_reconciler_ends_a_document_whose_host_died_on_its_last_attempt(
    tmp_path: Path, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    svc: Services = embedded_services(tmp_path, publisher, clock=clock, max_attempts=2)
    record = svc.uploads.accept(TEXT, "memo.txt")
    # The host died mid-document twice: the record is left processing, its lease running out.
    svc.documents.save(
        svc.documents.get(record.id).replace(
            status=Status.PROCESSING, attempts=2, lease_until=clock.now
        )
    )
    clock.advance(minutes=11)

    assert svc.reconciler.run() == {"uploads": 0, "exhausted": 1, "completions": 0, "expired": 0}

    ended = svc.documents.get(record.id)
    assert (ended.status, ended.error_code) == (Status.FAILED, "attempts_exhausted")
    assert len(publisher.of_type(DOCUMENT_FAILED)) == 1
    assert len(publisher.of_type(DOCUMENT_UPLOADED)) == 1  # never announced again
    assert svc.reconciler.run() == {"uploads": 0, "exhausted": 0, "completions": 0, "expired": 0}


def blob_created(name: str, size: int) -> InboundEvent:
    return InboundEvent(
        id=f"blob-{name}",
        type=BLOB_CREATED,
        subject=f"/blobServices/default/containers/inbox/blobs/{name}",
        data={"api": "PutBlob", "eTag": f"etag-{name}", "contentLength": size},
    )


def test_a_dropped_blob_announced_over_the_limit_fails_without_being_read(
    tmp_path: Path, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    extract = DyingExtract()
    svc = embedded_services(
        tmp_path, publisher, clock=clock, extract=extract, limits=Limits(max_document_bytes=100)
    )
    svc.platform.stores.blobs.put("inbox", "big.txt", b"x" * 500)
    done = svc.processor.handle(blob_created("big.txt", 500))
    assert done is not None and (done.status, done.error_code) == (Status.FAILED, "too_large")
    assert extract.calls == 0


def test_a_dropped_blob_larger_than_its_event_said_is_cut_off_at_the_limit(
    tmp_path: Path, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    """The event's size is a claim: the read itself is capped."""
    svc = embedded_services(
        tmp_path,
        publisher,
        clock=clock,
        extract=extract_in_process,
        limits=Limits(max_document_bytes=100),
    )
    svc.platform.stores.blobs.put("inbox", "grew.txt", b"x" * 500)
    done = svc.processor.handle(blob_created("grew.txt", 50))
    assert done is not None and (done.status, done.error_code) == (Status.FAILED, "too_large")
