"""PDF extraction: page spans, metadata, encryption, scans, broken files and limits."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from processing.extraction.errors import (
    CorruptDocumentError,
    DocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    LimitsExceededError,
    ProcessingTimeoutError,
)
from processing.extraction.extractors import pdf as pdf_module
from processing.extraction.extractors.pdf import PAGE_SEPARATOR, extract_pdf, parse_pdf_date
from processing.extraction.limits import Deadline, Limits
from processing.extraction.result import Extraction
from tests.builders.pdfs import (
    SAMPLE_PDF_DATE,
    build_minimal_pdf,
    build_reportlab_pdf,
    encrypt_pdf,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# Enough junk before the header that PDFium no longer finds it (it looks in
# the first 1 KiB) while pypdf, which reads from the end, still opens the file.
HEADER_JUNK = b"X-Mailer: junk\n" * 150


class _RootRecords(logging.Handler):
    """Records reaching the root logger's handlers, as the host's log would get them.

    caplog cannot tell: pytest also attaches its handler to non-propagating
    loggers such as ``pypdf`` once the extractor has routed it.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root_records() -> Iterator[_RootRecords]:
    handler = _RootRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _extract(data: bytes, *, limits: Limits | None = None) -> Extraction:
    return extract_pdf(data, limits or Limits(), Deadline(30))


def _codes(extraction: Extraction) -> list[str]:
    return [warning.code for warning in extraction.warnings]


def _page_texts(extraction: Extraction) -> list[str]:
    return [extraction.text[page.start : page.end] for page in extraction.pages]


# --- text and page spans ---------------------------------------------------------


def test_multi_page_text_keeps_each_page_span_without_the_separator() -> None:
    data = build_reportlab_pdf(
        [["First page says hello."], ["Second page, line one.", "Line two."], ["Third."]]
    )

    result = _extract(data)

    assert [page.number for page in result.pages] == [1, 2, 3]
    assert _page_texts(result) == [
        "First page says hello.",
        "Second page, line one.\nLine two.",
        "Third.",
    ]
    for before, after in zip(result.pages, result.pages[1:], strict=False):
        assert result.text[before.end : after.start] == PAGE_SEPARATOR
    assert result.pages[-1].end == len(result.text)
    assert result.warnings == ()


def test_line_breaks_are_newlines_and_words_hyphenated_across_lines_are_rejoined() -> None:
    """PDFium returns CRLF and marks a hyphen it joined across lines with U+FFFE."""
    data = build_reportlab_pdf([["a long docu-", "ment about people", "second line"]])

    result = _extract(data)

    assert result.text == "a long document about people\nsecond line"
    assert "\r" not in result.text
    assert "\ufffe" not in result.text


def test_page_without_text_gets_an_empty_span_and_no_extra_separator() -> None:
    data = build_minimal_pdf([["Alpha"], [], ["Gamma"]])

    result = _extract(data)

    assert result.text == "Alpha" + PAGE_SEPARATOR + "Gamma"
    empty = result.pages[1]
    assert empty.start == empty.end == len("Alpha")
    assert _page_texts(result) == ["Alpha", "", "Gamma"]
    assert _codes(result) == ["pages_without_text"]
    assert "pages 2" in result.warnings[0].message


def test_scan_with_only_images_completes_with_a_no_text_layer_warning() -> None:
    data = build_minimal_pdf([[], []], image_only_pages=[0, 1])

    result = _extract(data)

    assert result.text == ""
    assert [(page.start, page.end) for page in result.pages] == [(0, 0), (0, 0)]
    assert result.metadata.page_count == 2
    assert _codes(result) == ["no_text_layer"]


def test_pdf_without_pages_is_empty() -> None:
    with pytest.raises(EmptyDocumentError) as caught:
        _extract(build_minimal_pdf([]))
    assert caught.value.code == "empty"


# --- metadata ----------------------------------------------------------------------


def test_metadata_fields_and_dates_are_read_from_the_info_dictionary() -> None:
    data = build_minimal_pdf(
        [["Body"], ["More"]],
        info={
            "Title": "Quarterly report",
            "Author": "Ada Lovelace",
            "Subject": "Finance",
            "Creator": "Writer",
            "Producer": "Hand-made",
            "CreationDate": SAMPLE_PDF_DATE,
            "ModDate": "D:20240401083000Z00'00'",
        },
    )

    metadata = _extract(data).metadata

    assert metadata.title == "Quarterly report"
    assert metadata.author == "Ada Lovelace"
    assert metadata.subject == "Finance"
    assert metadata.creator == "Writer"
    assert metadata.producer == "Hand-made"
    assert metadata.created == "2024-03-14T12:00:00+01:00"
    assert metadata.modified == "2024-04-01T08:30:00+00:00"
    assert metadata.page_count == 2


def test_missing_blank_and_unparseable_metadata_are_none() -> None:
    data = build_minimal_pdf(
        [["Body"]], info={"Title": "   ", "CreationDate": "last Tuesday", "ModDate": ""}
    )

    metadata = _extract(data).metadata

    assert metadata.title is None
    assert metadata.author is None
    assert metadata.created is None
    assert metadata.modified is None
    assert metadata.page_count == 1


def test_reportlab_metadata_reaches_the_result() -> None:
    data = build_reportlab_pdf([["x"]], title="Title é", author="Author", subject="Subj")

    metadata = _extract(data).metadata

    assert (metadata.title, metadata.author, metadata.subject) == ("Title é", "Author", "Subj")
    assert metadata.producer is not None
    assert metadata.producer.startswith("ReportLab")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D:20240314120000+01'00'", "2024-03-14T12:00:00+01:00"),
        ("D:20240314120000-05'30'", "2024-03-14T12:00:00-05:30"),
        ("D:20240314120000+01'00", "2024-03-14T12:00:00+01:00"),
        ("D:20240314120000+0100", "2024-03-14T12:00:00+01:00"),
        ("D:20240314120000+01", "2024-03-14T12:00:00+01:00"),
        ("D:20240314120000Z", "2024-03-14T12:00:00+00:00"),
        ("D:20240314120000Z00'00'", "2024-03-14T12:00:00+00:00"),
        ("D:20240314120000", "2024-03-14T12:00:00"),
        ("20240314120000", "2024-03-14T12:00:00"),
        ("D:2024", "2024-01-01T00:00:00"),
        ("D:202403", "2024-03-01T00:00:00"),
        (" D:20240314 ", "2024-03-14T00:00:00"),
        ("2024-03-14T12:00:00Z", "2024-03-14T12:00:00+00:00"),
        ("D:20241314120000", None),  # month 13
        ("D:20240230", None),  # 30 February
        ("D:20240314120000+25'00'", None),  # offset beyond a day
        ("D:2024031412000", None),  # odd digit count
        ("Thu Mar 14 12:00:00 2024", None),
        ("", None),
        (None, None),
    ],
)
def test_pdf_dates_parse_to_iso_8601_or_none(raw: str | None, expected: str | None) -> None:
    assert parse_pdf_date(raw) == expected


# --- encryption ------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["AES-256", "RC4-128"])
def test_pdf_needing_a_user_password_fails_as_encrypted(algorithm: str) -> None:
    data = encrypt_pdf(
        build_reportlab_pdf([["secret"]]),
        user_password="user",
        owner_password="owner",
        algorithm=algorithm,
    )

    with pytest.raises(EncryptedDocumentError) as caught:
        _extract(data)
    assert caught.value.code == "encrypted"


def test_pdf_with_only_an_owner_password_opens_with_the_empty_password() -> None:
    data = encrypt_pdf(
        build_reportlab_pdf([["Readable text"]], title="Protected"),
        user_password="",
        owner_password="owner",
    )

    result = _extract(data)

    assert result.text == "Readable text"
    assert result.metadata.title == "Protected"


# --- broken files and the pypdf fallback ----------------------------------------


def test_truncated_pdf_is_corrupt() -> None:
    data = build_reportlab_pdf([["Some text"], ["More text"]])

    with pytest.raises(CorruptDocumentError) as caught:
        _extract(data[: len(data) * 6 // 10])
    assert caught.value.code == "corrupt"


def test_garbage_after_the_header_is_corrupt() -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 8

    with pytest.raises(CorruptDocumentError):
        _extract(data)


def test_pypdf_reads_what_pdfium_cannot_open_and_its_complaints_become_warnings(
    capfd: pytest.CaptureFixture[str], root_records: _RootRecords
) -> None:
    data = build_minimal_pdf(
        [["Found by the fallback"], ["Page two"]],
        info={"Title": "Fallback", "CreationDate": SAMPLE_PDF_DATE},
        leading_junk=HEADER_JUNK,
    )

    result = _extract(data)

    assert _page_texts(result) == ["Found by the fallback", "Page two"]
    assert result.metadata.title == "Fallback"
    assert result.metadata.created == "2024-03-14T12:00:00+01:00"
    assert result.metadata.page_count == 2
    parser_warnings = [w for w in result.warnings if w.code == "pdf_parser_warning"]
    assert any("invalid pdf header" in w.message for w in parser_warnings)
    assert not [record for record in root_records.records if record.name.startswith("pypdf")]
    assert capfd.readouterr().err == ""


def test_parser_warnings_are_deduplicated_and_capped() -> None:
    diagnostics = pdf_module._ParserDiagnostics()
    for number in range(20):
        diagnostics.add("same complaint")
        diagnostics.add(f"complaint {number}")

    messages = [warning.message for warning in diagnostics.warnings]

    assert len(messages) == 5
    assert len(set(messages)) == 5
    assert messages[0] == "pypdf: same complaint"


def test_pypdf_logs_outside_an_extraction_still_reach_the_root_handlers(
    root_records: _RootRecords,
) -> None:
    """Routing pypdf's logs into results must not silence pypdf for the rest of the process."""
    _extract(build_minimal_pdf([["x"]], leading_junk=HEADER_JUNK))
    root_records.records.clear()

    logging.getLogger("pypdf._reader").warning("outside any extraction")

    assert [record.getMessage() for record in root_records.records] == ["outside any extraction"]


def test_a_fresh_process_prints_nothing_on_stderr_during_the_fallback() -> None:
    """Without logging configured, Python prints warnings to stderr; pypdf's must not get there."""
    script = textwrap.dedent(
        f"""
        from processing.extraction.extractors.pdf import extract_pdf
        from processing.extraction.limits import Deadline, Limits
        from tests.builders.pdfs import build_minimal_pdf

        data = build_minimal_pdf([["Hello"]], leading_junk={HEADER_JUNK!r})
        result = extract_pdf(data, Limits(), Deadline(30))
        assert result.text == "Hello", result.text
        assert any(w.code == "pdf_parser_warning" for w in result.warnings)
        """
    )

    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""


def test_page_pdfium_cannot_load_is_read_by_pypdf(monkeypatch: pytest.MonkeyPatch) -> None:
    data = build_minimal_pdf([["One"], ["Two from pypdf"], ["Three"]])
    read_with_pdfium = pdf_module._read_pdfium_page

    def fail_on_second_page(document: object, index: int) -> str | None:
        return None if index == 1 else read_with_pdfium(document, index)

    monkeypatch.setattr(pdf_module, "_read_pdfium_page", fail_on_second_page)

    result = _extract(data)

    assert _page_texts(result) == ["One", "Two from pypdf", "Three"]
    assert result.warnings == ()


def test_page_neither_engine_can_read_is_reported_and_the_rest_kept() -> None:
    """A page tree claiming three pages over two: PDFium fails on the third, pypdf has none."""
    data = build_minimal_pdf([["One"], ["Two"]]).replace(b"/Count 2", b"/Count 3")

    result = _extract(data)

    assert _page_texts(result) == ["One", "Two", ""]
    assert result.metadata.page_count == 3
    assert _codes(result) == ["pages_unreadable"]
    assert "pages 3" in result.warnings[0].message


# --- limits and deadline ---------------------------------------------------------


def test_page_limit_is_checked_before_any_text_is_extracted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = build_minimal_pdf([["a"], ["b"], ["c"]])
    pages_read: list[int] = []

    def record_page(document: object, index: int) -> str | None:
        pages_read.append(index)
        return ""

    monkeypatch.setattr(pdf_module, "_read_pdfium_page", record_page)

    with pytest.raises(LimitsExceededError) as caught:
        _extract(data, limits=Limits(max_pages=2))
    assert caught.value.code == "limits_exceeded"
    assert pages_read == []


def test_page_limit_applies_in_the_pypdf_fallback_too() -> None:
    data = build_minimal_pdf([["a"], ["b"], ["c"]], leading_junk=HEADER_JUNK)

    with pytest.raises(LimitsExceededError):
        _extract(data, limits=Limits(max_pages=2))


def test_page_count_at_the_limit_is_accepted() -> None:
    result = _extract(build_minimal_pdf([["a"], ["b"]]), limits=Limits(max_pages=2))

    assert _page_texts(result) == ["a", "b"]


def test_text_beyond_the_character_limit_stops_extraction() -> None:
    data = build_reportlab_pdf([["x" * 40], ["y" * 40], ["z" * 40]])

    with pytest.raises(LimitsExceededError) as caught:
        _extract(data, limits=Limits(max_text_chars=60))
    assert caught.value.code == "limits_exceeded"


def test_passed_deadline_stops_with_timeout() -> None:
    data = build_minimal_pdf([["a"], ["b"]])

    with pytest.raises(ProcessingTimeoutError) as caught:
        extract_pdf(data, Limits(), Deadline(-1))
    assert caught.value.code == "timeout"


def test_deadline_is_checked_between_pages() -> None:
    class ExpiresAfterTwoChecks(Deadline):
        __slots__ = ("checks",)

        def __init__(self) -> None:
            super().__init__(30)
            self.checks = 0

        def check(self) -> None:
            self.checks += 1
            if self.checks > 2:
                raise ProcessingTimeoutError("test deadline")

    deadline = ExpiresAfterTwoChecks()

    with pytest.raises(ProcessingTimeoutError):
        extract_pdf(build_minimal_pdf([["a"], ["b"], ["c"], ["d"]]), Limits(), deadline)
    assert deadline.checks == 3


# --- concurrency ------------------------------------------------------------------


def test_concurrent_extractions_match_sequential_ones() -> None:
    documents = [
        build_reportlab_pdf([[f"Document {n} page {p}"] for p in range(1, 6)]) for n in range(6)
    ]
    expected = [_extract(data).text for data in documents]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda data: _extract(data).text, documents * 3))

    assert results == expected * 3


# --- real-world corpus ------------------------------------------------------------

_EXPECTED_ERRORS = {
    "aes-256.pdf": "encrypted",
    "rc4-40.pdf": "encrypted",
    "password.pdf": "encrypted",
    "unreadablemetadata.pdf": "corrupt",
}
_EXPECTED_SCANS = {"MEDRPT-2024-PAT-3847_medical_report_scan.pdf"}
_READABLE_DESPITE_PROTECTION = {"copy-protected.pdf"}


@pytest.mark.corpus
def test_every_corpus_pdf_gives_text_a_scan_warning_or_a_documented_error(
    corpus_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    paths = sorted((corpus_dir / "pdf").glob("*.pdf"))
    assert len(paths) >= 26
    outcomes: dict[str, str] = {}
    for path in paths:
        try:
            result = extract_pdf(path.read_bytes(), Limits(), Deadline(60))
        except DocumentError as exc:
            outcomes[path.name] = exc.code
            continue
        if result.text.strip():
            outcomes[path.name] = "text"
            assert all(page.end <= len(result.text) for page in result.pages), path.name
            assert result.metadata.page_count == len(result.pages), path.name
        else:
            outcomes[path.name] = "no_text_layer" if "no_text_layer" in _codes(result) else "?"

    assert set(outcomes.values()) <= {"text", "no_text_layer", "encrypted", "corrupt"}, outcomes
    for name, code in _EXPECTED_ERRORS.items():
        assert outcomes[name] == code, name
    for name in _EXPECTED_SCANS:
        assert outcomes[name] == "no_text_layer", name
    for name in _READABLE_DESPITE_PROTECTION:
        assert outcomes[name] == "text", name
    assert capfd.readouterr().err == ""
