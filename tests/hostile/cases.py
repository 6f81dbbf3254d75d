"""The hostile-file cases: each a generator, a file name and the outcome it must have.

Shared by the suite (``test_hostile_files.py``, through the isolated pool)
and the measurement script (``measure.py``, one fresh limited process per
case). A case's ``expected`` is ``"completed"`` or a document error code;
cases routed "via pypdf" are built so that PDFium refuses them and the pypdf
fallback has to read the hostile structure (see ``serialise_pdf``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from processing.extraction.errors import DocumentError
from processing.extraction.limits import Limits
from processing.extraction.result import ProcessingResult
from tests.builders import hostile
from tests.builders.docx_files import billion_laughs_document as billion_laughs
from tests.builders.docx_files import docx_package, forge_declared_size, paragraph
from tests.builders.docx_files import set_encrypted_flag as encrypt_member
from tests.builders.pdfs import build_reportlab_pdf, encrypt_pdf

COMPLETED = "completed"
#: Per-case wall-clock budget handed to the pipeline (``Limits.timeout_seconds``).
CASE_TIMEOUT_SECONDS = 20.0
#: Text that would only appear in a result or message if a local file leaked into it.
LEAK_MARKER = "root:x:0:0"

Call = Callable[[bytes, str, Limits], ProcessingResult]


@dataclass(frozen=True, slots=True)
class HostileCase:
    name: str
    build: Callable[[], bytes]
    filename: str
    #: ``"completed"`` or the :class:`DocumentError` code the case must end with.
    expected: str
    why: str
    #: A warning code a completed result must carry.
    warning: str | None = None
    #: Further assertions on a completed result.
    check: Callable[[ProcessingResult], None] | None = None
    timeout_seconds: float = CASE_TIMEOUT_SECONDS

    @property
    def limits(self) -> Limits:
        return Limits(timeout_seconds=self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened: ``"completed"`` or an error code, the time taken and the evidence."""

    outcome: str
    seconds: float
    result: ProcessingResult | None
    message: str


def run_case(case: HostileCase, data: bytes, call: Call) -> Outcome:
    """Process ``data`` with ``call`` and capture the outcome; other exceptions propagate."""
    started = time.monotonic()
    try:
        result = call(data, case.filename, case.limits)
    except DocumentError as exc:
        return Outcome(exc.code, time.monotonic() - started, None, exc.message)
    return Outcome(COMPLETED, time.monotonic() - started, result, "")


def problems(case: HostileCase, outcome: Outcome) -> list[str]:
    """Every way ``outcome`` differs from what ``case`` expects (empty when it matches)."""
    found = []
    if outcome.outcome != case.expected:
        found.append(f"expected {case.expected}, got {outcome.outcome} ({outcome.message})")
    evidence = outcome.message if outcome.result is None else outcome.result.to_json()
    try:
        evidence.encode("utf-8")
    except UnicodeEncodeError as exc:
        found.append(f"the output cannot be stored as UTF-8: {exc}")
    if LEAK_MARKER in evidence:
        found.append("a local file's content reached the output")
    if outcome.result is not None:
        codes = [warning.code for warning in outcome.result.warnings]
        if case.warning is not None and case.warning not in codes:
            found.append(f"expected warning {case.warning}, got {codes}")
        if case.check is not None:
            try:
                case.check(outcome.result)
            except AssertionError as exc:
                found.append(f"check failed: {exc}")
    return found


# --- checks -------------------------------------------------------------------------


def _text_is(expected: str, encoding: str | None = None) -> Callable[[ProcessingResult], None]:
    def check(result: ProcessingResult) -> None:
        assert result.text == expected, repr(result.text[:200])
        if encoding is not None:
            assert result.metadata.encoding == encoding, result.metadata.encoding

    return check


def _pages_are(count: int) -> Callable[[ProcessingResult], None]:
    def check(result: ProcessingResult) -> None:
        assert len(result.pages) == count, len(result.pages)

    return check


def _text_contains(*pieces: str) -> Callable[[ProcessingResult], None]:
    def check(result: ProcessingResult) -> None:
        for piece in pieces:
            assert piece in result.text, f"{piece!r} missing from {result.text[:200]!r}"

    return check


# --- generators that need more than one call ------------------------------------------


def _encrypted_pdf() -> bytes:
    return encrypt_pdf(
        build_reportlab_pdf([["Confidential figures."]]),
        user_password="correct horse",
        owner_password="battery staple",
    )


def _forged_small_size() -> bytes:
    # A 4 MB part whose directory entry claims 1,000 bytes.
    return forge_declared_size(docx_package("<w:p/>" * 700_000), "word/document.xml", 1000)


def _forged_huge_size() -> bytes:
    return forge_declared_size(docx_package(paragraph("tiny")), "word/document.xml", 2**32 - 1)


def _encrypted_member() -> bytes:
    return encrypt_member(docx_package(paragraph("secret")), "word/document.xml")


def _xinclude_docx() -> bytes:
    include = (
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        'href="file:///etc/passwd" parse="text"/>'
    )
    body = paragraph("Visible text.") + f"<w:p><w:r><w:t>{include}</w:t></w:r>{include}</w:p>"
    return docx_package(body)


def _utf8_with_one_stray_byte() -> bytes:
    text = hostile.SAMPLE_TEXT.encode()
    return text * 3 + b"\x80" + text * 3


def _utf16_unpaired_surrogates() -> bytes:
    return hostile.BOM_ENCODINGS["utf-16-le"][0] + b"\x00\xd8A\x00" * 100


# --- the cases ------------------------------------------------------------------------

_PDF_CASES = [
    HostileCase(
        "pdf_truncated_to_header",
        lambda: hostile.truncated_pdf(9),
        "cut.pdf",
        "corrupt",
        "nine bytes: '%PDF-1.4' and nothing else",
    ),
    *(
        HostileCase(
            f"pdf_truncated_at_{int(fraction * 100)}pct",
            functools.partial(hostile.truncated_pdf, fraction),
            "cut.pdf",
            "corrupt",
            "a download cut short mid-object; the page objects are gone",
        )
        for fraction in (0.1, 0.5, 0.9)
    ),
    HostileCase(
        "pdf_truncated_before_trailer",
        lambda: hostile.truncated_pdf(-30),
        "cut.pdf",
        "corrupt",
        "everything but the last 30 bytes (startxref and %%EOF)",
    ),
    HostileCase(
        "pdf_xref_prev_cycle",
        hostile.looping_xref_pdf,
        "loop.pdf",
        "completed",
        "two xref sections whose /Prev point at each other; PDFium stops at the repeat",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_xref_prev_self",
        lambda: hostile.looping_xref_pdf(self_loop=True),
        "loop.pdf",
        "completed",
        "an xref section whose /Prev is itself",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_xref_prev_cycle_via_pypdf",
        lambda: hostile.looping_xref_pdf(fallback=True),
        "loop.pdf",
        "completed",
        "the /Prev cycle read by the pypdf fallback, which also detects the repeat",
        warning="pdf_parser_warning",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_nested_arrays_100k_in_page",
        lambda: hostile.deeply_nested_pdf(100_000),
        "nested.pdf",
        "completed",
        "[[[...]]] 100,000 deep in the page dictionary; PDFium caps parser recursion",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_nested_dicts_100k_in_page",
        lambda: hostile.deeply_nested_pdf(100_000, kind="dict"),
        "nested.pdf",
        "completed",
        "<< /A << /A ... >> >> 100,000 deep in the page dictionary",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_nested_arrays_100k_in_content",
        lambda: hostile.deeply_nested_pdf(100_000, where="content"),
        "nested.pdf",
        "completed",
        "an operand nested 100,000 deep in the content stream",
        check=_text_is("Nested operand"),
    ),
    HostileCase(
        "pdf_nested_arrays_100k_via_pypdf",
        lambda: hostile.deeply_nested_pdf(100_000, fallback=True),
        "nested.pdf",
        "corrupt",
        "pypdf's recursive object parser gives up on the page: its tree is unreadable",
    ),
    HostileCase(
        "pdf_nested_dicts_100k_via_pypdf",
        lambda: hostile.deeply_nested_pdf(100_000, kind="dict", fallback=True),
        "nested.pdf",
        "completed",
        "pypdf skips the over-deep dictionary and reads the page",
        warning="pdf_parser_warning",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_nested_content_100k_via_pypdf",
        lambda: hostile.deeply_nested_pdf(100_000, where="content", fallback=True),
        "nested.pdf",
        "limits_exceeded",
        "pypdf's content parser recurses: RecursionError becomes limits_exceeded",
    ),
    HostileCase(
        "pdf_declares_100k_pages",
        lambda: hostile.page_tree_pdf(declared=100_000, real=1),
        "pages.pdf",
        "limits_exceeded",
        "/Count 100000 over one real page: refused by max_pages before any text is read",
    ),
    HostileCase(
        "pdf_100k_real_pages",
        lambda: hostile.page_tree_pdf(declared=100_000, real=100_000),
        "pages.pdf",
        "limits_exceeded",
        "100,000 real page objects (16 MB): refused by max_pages before any text is read",
    ),
    HostileCase(
        "pdf_100k_real_pages_declaring_1",
        lambda: hostile.page_tree_pdf(declared=1, real=100_000),
        "pages.pdf",
        "completed",
        "100,000 kids under /Count 1: PDFium believes the count and reads one page",
        check=_pages_are(1),
    ),
    HostileCase(
        "pdf_100k_real_pages_via_pypdf",
        lambda: hostile.page_tree_pdf(declared=100_000, real=100_000, fallback=True),
        "pages.pdf",
        "limits_exceeded",
        "the pypdf fallback checks the page tree's declared /Count against max_pages "
        "before walking 100,000 pages",
        timeout_seconds=5.0,
    ),
    HostileCase(
        "pdf_cyclic_page_tree",
        hostile.cyclic_page_tree_pdf,
        "cycle.pdf",
        "completed",
        "a /Pages node listing itself and the root among its kids",
        check=_text_contains("Cycle"),
    ),
    HostileCase(
        "pdf_cyclic_page_tree_via_pypdf",
        lambda: hostile.cyclic_page_tree_pdf(fallback=True),
        "cycle.pdf",
        "corrupt",
        "pypdf detects the cycle and refuses the page tree",
    ),
    HostileCase(
        "pdf_xref_size_2_billion",
        hostile.huge_xref_size_pdf,
        "size.pdf",
        "completed",
        "a trailer declaring /Size 2147483647: no reader should allocate for it",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_xref_size_2_billion_via_pypdf",
        lambda: hostile.huge_xref_size_pdf(fallback=True),
        "size.pdf",
        "completed",
        "the same trailer read by pypdf",
        check=_text_is("Hostile page"),
    ),
    HostileCase(
        "pdf_encrypted_user_password",
        _encrypted_pdf,
        "secret.pdf",
        "encrypted",
        "AES-256 with a user password",
    ),
    HostileCase(
        "pdf_flate_bomb_2gib",
        hostile.flate_bomb_pdf,
        "bomb.pdf",
        "limits_exceeded",
        "a 2 MB content stream inflating to 2 GiB: PDFium inflates it whole and aborts at "
        "the worker's 1 GiB address-space limit; the pool reports the dead worker",
    ),
    HostileCase(
        "pdf_flate_bomb_2gib_via_pypdf",
        lambda: hostile.flate_bomb_pdf(fallback=True),
        "bomb.pdf",
        "corrupt",
        "pypdf caps inflated stream size, so its only page is unreadable",
    ),
    HostileCase(
        "pdf_xobject_laughs_10x10",
        hostile.xobject_laughs_pdf,
        "laughs.pdf",
        "limits_exceeded",
        "found by the fuzzer: 3 KB of form XObjects, each drawing the next ten times; PDFium "
        "expands all 10^9 draws while loading the page and aborts at the 1 GiB limit",
    ),
    HostileCase(
        "pdf_xobject_laughs_10x10_via_pypdf",
        lambda: hostile.xobject_laughs_pdf(fallback=True),
        "laughs.pdf",
        "completed",
        "the same forms read by pypdf, which bounds the expansion",
        check=_text_contains("Laughs", "lol"),
    ),
    HostileCase(
        "pdf_4000_tiny_pages",
        lambda: hostile.many_pages_pdf(4000),
        "register.pdf",
        "completed",
        "4,000 real pages of one line each, under the 5,000-page limit",
        check=_pages_are(4000),
    ),
]

_DOCX_CASES = [
    HostileCase(
        "docx_zip_bomb_1gib_part",
        hostile.zip_bomb_docx,
        "bomb.docx",
        "limits_exceeded",
        "a 1 MB package with an honest 1 GiB part of zeros: refused from the directory",
    ),
    HostileCase(
        "docx_declared_size_4gib",
        _forged_huge_size,
        "forged.docx",
        "limits_exceeded",
        "a tiny part whose directory entry claims 4 GiB",
    ),
    HostileCase(
        "docx_declared_size_too_small",
        _forged_small_size,
        "forged.docx",
        "corrupt",
        "a 4 MB part claiming 1,000 bytes: reading stops at the declared size",
    ),
    HostileCase(
        "docx_encrypted_member",
        _encrypted_member,
        "locked.docx",
        "encrypted",
        "the main part flagged as ZIP-encrypted",
    ),
    HostileCase(
        "docx_billion_laughs",
        lambda: docx_package(document=billion_laughs()),
        "lol.docx",
        "corrupt",
        "ten levels of ten-fold entities; any DTD is refused before expansion",
    ),
    HostileCase(
        "docx_xxe_entity",
        lambda: hostile.xxe_docx(internal_subset=True),
        "xxe.docx",
        "corrupt",
        "an external entity naming /etc/passwd, used in the text",
    ),
    HostileCase(
        "docx_xxe_external_dtd",
        lambda: hostile.xxe_docx(internal_subset=False),
        "xxe.docx",
        "corrupt",
        "a DOCTYPE naming /etc/passwd as its external DTD",
    ),
    HostileCase(
        "docx_xinclude",
        _xinclude_docx,
        "xinclude.docx",
        "completed",
        "XInclude of /etc/passwd as text: never processed, the file stays unread",
        check=_text_is("Visible text."),
    ),
    HostileCase(
        "docx_nested_tables_80",
        lambda: hostile.nested_tables_docx(80),
        "tables.docx",
        "completed",
        "80 nested tables (~245 elements deep), just under libxml2's depth limit of 256",
        check=_text_is("innermost cell"),
    ),
    HostileCase(
        "docx_nested_tables_200",
        lambda: hostile.nested_tables_docx(200),
        "tables.docx",
        "corrupt",
        "200 nested tables: past libxml2's depth limit, reported as malformed XML",
    ),
    HostileCase(
        "docx_nested_tables_5000",
        lambda: hostile.nested_tables_docx(5000),
        "tables.docx",
        "corrupt",
        "5,000 nested tables: stopped at the same depth limit",
    ),
    HostileCase(
        "docx_100k_paragraphs",
        lambda: hostile.many_paragraphs_docx(100_000),
        "long.docx",
        "completed",
        "100,000 short paragraphs (6 MB of XML)",
        check=_text_contains("P0.", "P99999."),
    ),
    HostileCase(
        "docx_zip_directory_1m_entries",
        lambda: hostile.zip_with_many_entries(1_000_000),
        "entries.docx",
        "limits_exceeded",
        "a 51 MB central directory of a million entries: counted from the raw records and "
        "refused before zipfile builds an object per entry (type detection once built them "
        "all first: 13 s and ~500 MB here, and 2M entries exhausted 1 GiB)",
    ),
    HostileCase(
        "zip_that_is_not_docx",
        hostile.plain_zip,
        "archive.docx",
        "unsupported_type",
        "a ZIP without word/document.xml under a .docx name",
    ),
]

_TEXT_CASES = [
    HostileCase("empty_file", lambda: b"", "empty.txt", "empty", "zero bytes"),
    HostileCase(
        "random_bytes_64k",
        lambda: hostile.random_bytes(64 * 1024),
        "noise.docx",
        "unsupported_type",
        "64 KiB of random bytes under a .docx name",
    ),
    *(
        HostileCase(
            f"text_bom_{encoding.replace('-', '_')}",
            functools.partial(hostile.bom_text, encoding),
            "bom.txt",
            "completed",
            f"text after a {encoding} byte-order mark",
            check=_text_is(hostile.SAMPLE_TEXT, encoding),
        )
        for encoding in hostile.BOM_ENCODINGS
    ),
    HostileCase(
        "text_bom_only",
        lambda: hostile.bom_text("utf-8", ""),
        "bom.txt",
        "empty",
        "a UTF-8 BOM and nothing else",
    ),
    HostileCase(
        "text_invalid_utf8",
        hostile.invalid_utf8_text,
        "broken.txt",
        "completed",
        "UTF-8 with overlong, surrogate, truncated and impossible sequences: kept, "
        "with the broken bytes replaced",
        warning="invalid_bytes_replaced",
    ),
    HostileCase(
        "text_utf8_one_stray_byte",
        _utf8_with_one_stray_byte,
        "stray.txt",
        "completed",
        "one stray byte in UTF-8 text is replaced, wherever it stands",
        warning="invalid_bytes_replaced",
    ),
    HostileCase(
        "text_utf16_unpaired_surrogates",
        _utf16_unpaired_surrogates,
        "surrogates.txt",
        "completed",
        "UTF-16 with unpaired high surrogates: replaced, and the result stays valid JSON",
        check=_text_contains("\ufffdA"),
    ),
]

CASES: tuple[HostileCase, ...] = (*_PDF_CASES, *_DOCX_CASES, *_TEXT_CASES)
CASES_BY_NAME = {case.name: case for case in CASES}
