"""PDF extraction: text per page through PDFium, pypdf where PDFium cannot read.

Engines. pypdfium2 (PDFium) opens the document, reads its metadata and page
count and extracts each page's text: on the corpus it is about 20x faster than
pypdf, and pypdf's reader alone (xref, page tree and Info, no text) costs a
third of PDFium's whole extraction time on a 400-page file, so pypdf is not
opened on the normal path at all. pypdf is the fallback: for the whole
document when PDFium cannot open it (for a reason other than a password), and
for single pages PDFium fails to load.

Encryption. Both engines first try the empty user password, so a PDF with only
an owner password ("copy protected") is read normally; one that needs a user
password fails with ``encrypted``.

Text. Pages are joined with :data:`PAGE_SEPARATOR` (a blank line, so sentence
splitting and summaries treat a page break as a paragraph break); each
:class:`~processing.extraction.result.Page` span covers its page's text only, never the
separator. An empty page adds no separator and has ``start == end``, so a
scan's text is ``""``. Line breaks become ``\\n``; PDFium's end-of-line
hyphen marker (U+FFFE) is removed, rejoining the word (``im-\nportant`` is
``important``); other control characters (NUL, glyph
codes of fonts without Unicode maps, form feeds) are dropped; each page is
stripped of surrounding whitespace.

Warnings, not failures: ``no_text_layer`` (pages but no text: a scan; no OCR
is done), ``pages_without_text`` (some pages without text), ``pages_unreadable``
(pages neither engine could read) and ``pdf_parser_warning`` (what pypdf logged
or warned while reading this document, which otherwise would reach stderr).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from processing.extraction.errors import (
    CorruptDocumentError,
    DocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    LimitsExceededError,
    ProcessingTimeoutError,
)
from processing.extraction.limits import Deadline, Limits
from processing.extraction.result import DocumentMetadata, Extraction, Page, ProcessingWarning

if TYPE_CHECKING:
    from pypdf import PdfReader
    from pypdfium2 import PdfDocument

log = logging.getLogger(__name__)

#: Put between the texts of consecutive pages; an empty page adds neither
#: text nor separator, and its span is empty where its text would have begun.
PAGE_SEPARATOR = "\n\n"

_T = TypeVar("_T")

# PDFium keeps global state (font caches, the library's error slot) and is not
# safe to call from two threads at once, even for different documents; the
# function host runs several documents on threads of one process. Every PDFium
# call therefore runs under this lock, taken per page so that a long document
# does not hold up a short one. Documents are closed explicitly under the lock:
# left to garbage collection, pypdfium2's finalizers would call PDFium from
# whichever thread happens to collect.
_PDFIUM_LOCK = threading.Lock()

# pypdf readers share no state, but capturing what pypdf reports through the
# ``warnings`` module means swapping that module's process-wide filters and
# hook, which only one thread may do at a time. While one thread holds it, a
# warning another thread emits is recorded for this document instead of shown;
# pypdf runs only when PDFium failed, so that window is rare and short.
_PYPDF_LOCK = threading.Lock()

_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD

# pypdf fails on hostile input with almost any exception type, and each of
# those means "unreadable" here; these keep their own meaning (the pipeline
# maps memory and recursion exhaustion to limits_exceeded).
_PASS_THROUGH = (DocumentError, MemoryError, RecursionError)

# \t and \n stay; \r is rewritten to \n; U+FFFE is PDFium's marker for a
# hyphen it joined across a line break, dropped because in typeset text such
# hyphens are nearly always syllable breaks ("de-tection"); U+FFFF is a
# noncharacter.
_ODD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_ODD_CHAR_REPLACEMENTS = {"\r": "\n"}

_METADATA_BUFFER_BYTES = 1024
_METADATA_KEYS = ("Title", "Author", "Subject", "Creator", "Producer", "CreationDate", "ModDate")

# D:YYYYMMDDHHmmSSOHH'mm' with everything after the year optional (ISO 32000
# 7.9.4); seen in the wild: "Z00'00'", a missing or extra apostrophe, "+0100",
# no "D:" prefix, trailing spaces.
_PDF_DATE = re.compile(
    r"\s*(?:D:)?\s*(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"\s*(?:(Z)[\d']*|([+-])(\d{2})'?(?:(\d{2})'?)?)?\s*"
)

_MAX_PARSER_WARNINGS = 5
_MAX_WARNING_CHARS = 200
_MAX_LISTED_PAGES = 10

_parser_sink: ContextVar[_ParserDiagnostics | None] = ContextVar(
    "pdf_parser_diagnostics", default=None
)
_router_installed = threading.Event()
_router_install_lock = threading.Lock()


def extract_pdf(data: bytes, limits: Limits, deadline: Deadline) -> Extraction:
    """Extract the text, page spans and metadata of a PDF.

    Raises ``encrypted`` when a user password is needed, ``corrupt`` when
    neither engine can read it, ``empty`` when it has no pages,
    ``limits_exceeded`` for too many pages or too much text and ``timeout``
    when ``deadline`` passes.
    """
    diagnostics = _ParserDiagnostics()
    extraction = _extract_with_pdfium(data, limits, deadline, diagnostics)
    if extraction is None:
        extraction = _extract_with_pypdf(data, limits, deadline, diagnostics)
    if diagnostics.warnings:
        return dataclasses.replace(extraction, warnings=extraction.warnings + diagnostics.warnings)
    return extraction


def parse_pdf_date(value: str | None) -> str | None:
    """A PDF date string (``D:20240314120000+01'00'``) as ISO 8601, or ``None``.

    Missing month/day default to 1 and missing time parts to 0, as the PDF
    specification says; without an offset the result has none either.
    """
    if not value:
        return None
    match = _PDF_DATE.fullmatch(value)
    if match is None:
        return _parse_iso_date(value)
    year, month, day, hour, minute, second, zulu, sign, tz_hours, tz_minutes = match.groups()
    tzinfo: timezone | None = None
    if zulu:
        tzinfo = UTC
    elif sign:
        offset = timedelta(hours=int(tz_hours), minutes=int(tz_minutes or 0))
        if offset >= timedelta(hours=24):
            return None
        tzinfo = timezone(-offset if sign == "-" else offset)
    try:
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tzinfo,
        )
    except ValueError:
        return None
    return moment.isoformat()


def _parse_iso_date(value: str) -> str | None:
    """Some producers write ISO 8601 instead of a PDF date; accept it as is."""
    try:
        return datetime.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


# --- PDFium -------------------------------------------------------------------


def _extract_with_pdfium(
    data: bytes, limits: Limits, deadline: Deadline, diagnostics: _ParserDiagnostics
) -> Extraction | None:
    """The extraction, or ``None`` when PDFium cannot open the document."""
    from pypdfium2 import PdfiumError  # deferred: heavy, cold start

    with _pdfium_turn(deadline):
        try:
            document = _open_pdfium(data)
        except PdfiumError as exc:
            if exc.err_code == _PDFIUM_PASSWORD_ERROR:
                raise EncryptedDocumentError("the PDF needs a password to be opened") from exc
            log.info("pdf.pdfium_open_failed", extra={"pdfium_error": exc.err_code})
            return None
    try:
        with _pdfium_turn(deadline):
            page_count = len(document)
            metadata = _read_pdfium_metadata(document, page_count)
        _check_page_count(page_count, limits)
        fallback = _PypdfPages(data, deadline, diagnostics)
        builder = _TextBuilder(limits)
        for index in range(page_count):
            deadline.check()
            with _pdfium_turn(deadline):
                text = _read_pdfium_page(document, index)
            if text is None:
                text = fallback.read_page(index)
            builder.add(text)
        return builder.build(metadata)
    finally:
        # Not _pdfium_turn: closing must happen even after the deadline passed.
        with _PDFIUM_LOCK:
            document.close()


def _open_pdfium(data: bytes) -> PdfDocument:
    from pypdfium2 import PdfDocument  # deferred: heavy, cold start

    return PdfDocument(data)


def _read_pdfium_page(document: PdfDocument, index: int) -> str | None:
    """The page's raw text, or ``None`` when PDFium cannot load the page."""
    from pypdfium2 import PdfiumError  # deferred: heavy, cold start

    try:
        page = document.get_page(index)
    except PdfiumError:
        return None
    try:
        textpage = page.get_textpage()
        try:
            return str(textpage.get_text_range())
        finally:
            textpage.close()
    except PdfiumError:
        return None
    finally:
        page.close()


def _read_pdfium_metadata(document: PdfDocument, page_count: int) -> DocumentMetadata:
    # The raw call with one reused buffer: pypdfium2's get_metadata_value asks
    # for the size first and allocates per key, which measured 80 µs a
    # document against 25 µs, as much as the text of a small page costs.
    import ctypes  # beside pypdfium2, whose only user it is

    from pypdfium2 import raw as pdfium_raw  # deferred: heavy

    buffer = ctypes.create_string_buffer(_METADATA_BUFFER_BYTES)
    values: dict[str, str] = {}
    for key in _METADATA_KEYS:
        name = key.encode("ascii")  # a NUL-terminated char*, which ctypes adds
        size = int(pdfium_raw.FPDF_GetMetaText(document.raw, name, buffer, len(buffer)))
        if size > len(buffer):
            buffer = ctypes.create_string_buffer(size)
            size = int(pdfium_raw.FPDF_GetMetaText(document.raw, name, buffer, size))
        # UTF-16-LE with a two-byte NUL terminator, which is not text.
        values[key] = ctypes.string_at(buffer, max(size - 2, 0)).decode("utf-16-le", "replace")
    return _build_metadata(values, page_count)


@contextlib.contextmanager
def _pdfium_turn(deadline: Deadline) -> Iterator[None]:
    """Hold the PDFium lock, waiting no longer than the deadline allows."""
    wait = min(max(deadline.remaining(), 0.0), threading.TIMEOUT_MAX)
    if not _PDFIUM_LOCK.acquire(timeout=wait):
        deadline.check()
        raise ProcessingTimeoutError("the PDF engine stayed busy past the time limit")
    try:
        yield
    finally:
        _PDFIUM_LOCK.release()


# --- pypdf --------------------------------------------------------------------


def _declared_page_count(reader: PdfReader) -> int | None:
    """The root page tree's /Count, or ``None`` when it cannot be read."""
    try:
        # root_object also finds a catalog the trailer does not name.
        root: Any = reader.root_object
        return max(0, int(root["/Pages"]["/Count"]))
    except Exception:  # any damage: len(reader.pages) walks the tree and decides
        return None


def _extract_with_pypdf(
    data: bytes, limits: Limits, deadline: Deadline, diagnostics: _ParserDiagnostics
) -> Extraction:
    reader = _open_pypdf(data, deadline, diagnostics)
    # len(reader.pages) walks the whole page tree, without deadline checks:
    # check the tree's declared /Count against the limit first.
    declared = _call_pypdf(lambda: _declared_page_count(reader), deadline, diagnostics)
    if declared is None:
        # A failed catalog lookup can leave pypdf's reader half-updated: start afresh.
        reader = _open_pypdf(data, deadline, diagnostics)
    else:
        _check_page_count(declared, limits)
    try:
        page_count = _call_pypdf(lambda: len(reader.pages), deadline, diagnostics)
    except _PASS_THROUGH:
        raise
    except Exception as exc:
        raise CorruptDocumentError("the PDF's page tree could not be read") from exc
    _check_page_count(page_count, limits)
    metadata = _read_pypdf_metadata(reader, page_count, deadline, diagnostics)
    builder = _TextBuilder(limits)
    for index in range(page_count):
        deadline.check()
        builder.add(_read_pypdf_page(reader, index, deadline, diagnostics))
    return builder.build(metadata)


def _open_pypdf(data: bytes, deadline: Deadline, diagnostics: _ParserDiagnostics) -> PdfReader:
    """A decrypted pypdf reader; ``corrupt`` or ``encrypted`` when there is none."""
    from pypdf import PasswordType, PdfReader  # deferred: heavy

    def open_reader() -> PdfReader:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except _PASS_THROUGH:
                raise
            except Exception as exc:  # an algorithm pypdf cannot run
                raise EncryptedDocumentError(
                    "the PDF is encrypted with an unsupported method"
                ) from exc
            if unlocked == PasswordType.NOT_DECRYPTED:
                raise EncryptedDocumentError("the PDF needs a password to be opened")
        return reader

    try:
        return _call_pypdf(open_reader, deadline, diagnostics)
    except _PASS_THROUGH:
        raise
    except Exception as exc:
        raise CorruptDocumentError("the PDF could not be parsed") from exc


def _read_pypdf_page(
    reader: PdfReader, index: int, deadline: Deadline, diagnostics: _ParserDiagnostics
) -> str | None:
    def read_text() -> str:
        # Indexing is inside the call too: pypdf resolves the page lazily and may fail there.
        return reader.pages[index].extract_text()

    try:
        return _call_pypdf(read_text, deadline, diagnostics)
    except _PASS_THROUGH:
        raise
    except Exception:
        return None


def _read_pypdf_metadata(
    reader: PdfReader, page_count: int, deadline: Deadline, diagnostics: _ParserDiagnostics
) -> DocumentMetadata:
    def read_values() -> dict[str, str]:
        info = reader.metadata
        values: dict[str, str] = {}
        for key in _METADATA_KEYS:
            raw = info.get("/" + key) if info is not None else None
            value = raw.get_object() if raw is not None else None
            if isinstance(value, str):  # text strings; byte strings are not text
                values[key] = value
        return values

    try:
        values = _call_pypdf(read_values, deadline, diagnostics)
    except _PASS_THROUGH:
        raise
    except Exception:
        # Unreadable metadata does not make the text unreadable.
        values = {}
    return _build_metadata(values, page_count)


class _PypdfPages:
    """pypdf's view of a document PDFium opened, made only if a page needs it."""

    def __init__(self, data: bytes, deadline: Deadline, diagnostics: _ParserDiagnostics) -> None:
        self._data = data
        self._deadline = deadline
        self._diagnostics = diagnostics
        self._reader: PdfReader | None = None
        self._unavailable = False

    def read_page(self, index: int) -> str | None:
        """The page's text from pypdf, or ``None`` when pypdf cannot read it either."""
        reader = self._open()
        if reader is None:
            return None
        try:
            count = _call_pypdf(lambda: len(reader.pages), self._deadline, self._diagnostics)
        except _PASS_THROUGH:
            raise
        except Exception:
            return None
        if index >= count:
            return None
        return _read_pypdf_page(reader, index, self._deadline, self._diagnostics)

    def _open(self) -> PdfReader | None:
        if self._reader is None and not self._unavailable:
            try:
                self._reader = _open_pypdf(self._data, self._deadline, self._diagnostics)
            except (CorruptDocumentError, EncryptedDocumentError):
                self._unavailable = True
        return self._reader


def _call_pypdf(call: Callable[[], _T], deadline: Deadline, diagnostics: _ParserDiagnostics) -> _T:
    """Run one pypdf call, collecting what it logs or warns into ``diagnostics``."""
    _install_pypdf_log_router()
    wait = min(max(deadline.remaining(), 0.0), threading.TIMEOUT_MAX)
    if not _PYPDF_LOCK.acquire(timeout=wait):
        deadline.check()
        raise ProcessingTimeoutError("the PDF fallback parser stayed busy past the time limit")
    token = _parser_sink.set(diagnostics)
    try:
        with warnings.catch_warnings(record=True) as caught:
            try:
                return call()
            finally:
                for warning in caught:
                    diagnostics.add(str(warning.message))
    finally:
        _parser_sink.reset(token)
        _PYPDF_LOCK.release()


class _ParserDiagnostics:
    """Distinct parser messages for one document, in order, at most a handful."""

    def __init__(self) -> None:
        self._messages: dict[str, None] = {}

    def add(self, message: str) -> None:
        # pypdf's IndirectObject repr ends in id() of its reader: a memory address, new each run.
        message = re.sub(r"(IndirectObject\(\d+, \d+), \d+\)", r"\1)", message)
        message = " ".join(message.split())[:_MAX_WARNING_CHARS]
        if message and len(self._messages) < _MAX_PARSER_WARNINGS:
            self._messages.setdefault(message)

    @property
    def warnings(self) -> tuple[ProcessingWarning, ...]:
        return tuple(
            ProcessingWarning("pdf_parser_warning", f"pypdf: {message}")
            for message in self._messages
        )


class _PypdfLogRouter(logging.Handler):
    """Sends pypdf's log records to the document being read, or on as before.

    pypdf logs through per-module loggers under ``pypdf``; this handler sits on
    that logger, which stops propagating, and hands records logged outside
    :func:`_call_pypdf` to the parent's handlers exactly as propagation would.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sink = _parser_sink.get()
            if sink is None:
                parent = logging.getLogger("pypdf").parent
                if parent is not None:
                    parent.callHandlers(record)
                return
            sink.add(record.getMessage())
        except Exception:
            # Drop the record rather than let logging print "--- Logging error ---"
            # to stderr: pypdf logs while unwinding a deeply nested document
            # (RecursionError) and with arguments that do not fit its format
            # (TypeError); the document itself is judged by what pypdf raises.
            return


def _install_pypdf_log_router() -> None:
    if _router_installed.is_set():
        return
    with _router_install_lock:
        logger = logging.getLogger("pypdf")
        if not any(isinstance(handler, _PypdfLogRouter) for handler in logger.handlers):
            logger.addHandler(_PypdfLogRouter())
        logger.propagate = False
        _router_installed.set()


# --- shared -------------------------------------------------------------------


class _TextBuilder:
    """Joins cleaned page texts, records their spans and enforces the text limit."""

    def __init__(self, limits: Limits) -> None:
        self._max_chars = limits.max_text_chars
        self._parts: list[str] = []
        self._pages: list[Page] = []
        self._length = 0
        self._empty: list[int] = []
        self._unreadable: list[int] = []

    def add(self, raw: str | None) -> None:
        """Append the next page; ``None`` is a page no engine could read."""
        number = len(self._pages) + 1
        text = "" if raw is None else _clean_page_text(raw)
        if raw is None:
            self._unreadable.append(number)
        elif not text:
            self._empty.append(number)
        if text and self._length:
            self._parts.append(PAGE_SEPARATOR)
            self._length += len(PAGE_SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        if self._length > self._max_chars:
            raise LimitsExceededError(
                f"the PDF holds more than {self._max_chars} characters of text"
            )
        self._pages.append(Page(number=number, start=start, end=self._length))

    def build(self, metadata: DocumentMetadata) -> Extraction:
        page_count = len(self._pages)
        if page_count == 0:
            raise EmptyDocumentError("the PDF has no pages")
        if len(self._unreadable) == page_count:
            raise CorruptDocumentError("no page of the PDF could be read")
        warnings_: list[ProcessingWarning] = []
        readable = page_count - len(self._unreadable)
        if len(self._empty) == readable:
            warnings_.append(
                ProcessingWarning(
                    "no_text_layer",
                    "the PDF has no text layer (a scan?); no OCR is performed",
                )
            )
        elif self._empty:
            warnings_.append(
                ProcessingWarning(
                    "pages_without_text",
                    f"{len(self._empty)} of {page_count} pages have no text layer: "
                    f"{_list_pages(self._empty)}",
                )
            )
        if self._unreadable:
            warnings_.append(
                ProcessingWarning(
                    "pages_unreadable",
                    f"{len(self._unreadable)} of {page_count} pages could not be read: "
                    f"{_list_pages(self._unreadable)}",
                )
            )
        return Extraction(
            text="".join(self._parts),
            metadata=metadata,
            pages=tuple(self._pages),
            warnings=tuple(warnings_),
        )


def _build_metadata(values: Mapping[str, str], page_count: int) -> DocumentMetadata:
    """Metadata from raw Info values keyed by their PDF names."""

    def text(key: str) -> str | None:
        return _clean_metadata_value(values.get(key, ""))

    return DocumentMetadata(
        title=text("Title"),
        author=text("Author"),
        subject=text("Subject"),
        creator=text("Creator"),
        producer=text("Producer"),
        created=parse_pdf_date(text("CreationDate")),
        modified=parse_pdf_date(text("ModDate")),
        page_count=page_count,
    )


def _clean_page_text(raw: str) -> str:
    text = raw.replace("\r\n", "\n")
    if _ODD_CHARS.search(text) is not None:
        text = _ODD_CHARS.sub(_replace_odd_char, text)
    return text.strip()


def _replace_odd_char(match: re.Match[str]) -> str:
    return _ODD_CHAR_REPLACEMENTS.get(match.group(), "")


def _clean_metadata_value(value: str) -> str | None:
    cleaned = " ".join(_ODD_CHARS.sub(" ", value).split())
    return cleaned or None


def _check_page_count(page_count: int, limits: Limits) -> None:
    if page_count > limits.max_pages:
        raise LimitsExceededError(
            f"the PDF has {page_count} pages; the limit is {limits.max_pages}"
        )


def _list_pages(numbers: list[int]) -> str:
    listed = ", ".join(str(number) for number in numbers[:_MAX_LISTED_PAGES])
    more = len(numbers) - _MAX_LISTED_PAGES
    return f"pages {listed}" + (f" and {more} more" if more > 0 else "")
