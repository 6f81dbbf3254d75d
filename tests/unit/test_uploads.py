"""Upload acceptance: validation before storage, storage before announcement."""

from __future__ import annotations

from pathlib import Path

import pytest

from processing.events import DOCUMENT_UPLOADED
from processing.extraction.errors import EmptyDocumentError, TooLargeError, UnsupportedTypeError
from processing.extraction.limits import Limits
from processing.filenames import sanitize_filename
from processing.records import Status
from tests.support.app import RecordingPublisher, embedded_services
from tests.support.clock import START


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\secret.docx", "secret.docx"),
        ("bad\x00name\x1f.txt", "bad_name_.txt"),
        ("e\u0301t\u00e9.txt", "\u00e9t\u00e9.txt"),  # NFC
        ("...", None),
        ("", None),
        (None, None),
        # Characters that make a name display as another.
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066evil\u2069\u202a.txt", "evil.txt"),
        ("pay\u200bpal\u200d\ufeff.pdf", "paypal.pdf"),
        ("line\u2028break\u2029.txt", "linebreak.txt"),
        ("next\x85line.txt", "next_line.txt"),
        # Names Windows keeps for devices.
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1.docx", "_com1.docx"),
        ("console.txt", "console.txt"),
    ],
)
def test_filenames_are_sanitised(raw: str | None, expected: str | None) -> None:
    assert sanitize_filename(raw) == expected


def test_overlong_filenames_are_cut_keeping_the_extension() -> None:
    name = sanitize_filename("a" * 500 + ".pdf")
    assert name is not None and len(name) <= 200 and name.endswith(".pdf")


def test_bad_uploads_are_refused_before_anything_is_stored(tmp_path: Path) -> None:
    publisher = RecordingPublisher()
    svc = embedded_services(tmp_path, publisher, limits=Limits(max_document_bytes=100))
    with pytest.raises(EmptyDocumentError):
        svc.uploads.accept(b"", "a.txt")
    with pytest.raises(TooLargeError):
        svc.uploads.accept(b"x" * 101, "a.txt")
    with pytest.raises(UnsupportedTypeError):
        svc.uploads.accept(b"\x7fELF\x02\x01" + bytes(range(90)), "a.pdf")
    assert list(svc.platform.stores.blobs.list("uploads")) == []
    assert svc.documents.recent() == []
    assert publisher.events == []


def test_accepted_upload_is_stored_recorded_and_announced(tmp_path: Path) -> None:
    publisher = RecordingPublisher()
    svc = embedded_services(tmp_path, publisher)
    record = svc.uploads.accept(b"hello world, a small text document.", "../x/notes.txt")
    assert record.filename == "notes.txt"
    assert record.status is Status.QUEUED
    assert (
        svc.platform.stores.blobs.get("uploads", record.blob_name)
        == b"hello world, a small text document."
    )
    assert svc.documents.get(record.id).sha256 == record.sha256
    [event] = publisher.of_type(DOCUMENT_UPLOADED)
    assert event["subject"] == f"documents/{record.id}"


def test_upload_is_accepted_even_when_the_topic_is_down(tmp_path: Path) -> None:
    publisher = RecordingPublisher()
    publisher.unavailable = True
    svc = embedded_services(tmp_path, publisher)
    record = svc.uploads.accept(b"some text that must not be lost", "a.txt")
    assert svc.documents.get(record.id).status is Status.QUEUED


def test_document_ids_list_newest_first(tmp_path: Path) -> None:
    from tests.support.app import FakeClock

    clock = FakeClock(START)
    svc = embedded_services(tmp_path, RecordingPublisher(), clock=clock)
    ids = []
    for _ in range(3):
        ids.append(svc.uploads.accept(b"text body", "a.txt").id)
        clock.advance(seconds=1)
    assert [r.id for r in svc.documents.recent()] == ids[::-1]
    assert [r.id for r in svc.documents.recent(after=ids[2], limit=1)] == [ids[1]]
