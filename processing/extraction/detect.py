"""Document type detection from content, never from the file name."""

from __future__ import annotations

import re

from processing.extraction.errors import EmptyDocumentError, UnsupportedTypeError
from processing.extraction.extractors.text import detect_encoding
from processing.extraction.result import DocumentType

_PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024
_ZIP_MAGIC = b"PK\x03\x04"
_DOCX_MAIN_PART = b"word/document.xml"
_HTML_WINDOW = 1024
#: What the WHATWG MIME sniffing algorithm takes for HTML at the start of the
#: bytes (after whitespace), each followed by a space or ``>``.
_HTML_STARTS = re.compile(
    rb"^(?:<!doctype\s+html|<html|<head|<body|<title|<script|<iframe|<h1|<div|<font"
    rb"|<table|<a|<style|<b|<br|<p|<!--)[\s>]",
    re.IGNORECASE,
)
_XHTML = re.compile(rb"^<\?xml[^>]*>.*?<html[^>]*xmlns=[\"']http://www\.w3\.org/1999/xhtml", re.S)


def detect_type(data: bytes) -> DocumentType:
    """Detect the type of ``data``.

    A ``%PDF-`` header anywhere in the first KiB means PDF (as readers accept);
    a ZIP holding ``word/document.xml`` means DOCX; otherwise the bytes are text
    if they decode (HTML when they start like a page). Anything else is ``unsupported_type``.
    """
    if not data:
        raise EmptyDocumentError("the document is empty (0 bytes)")
    if _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]:
        return DocumentType.PDF
    if data.startswith(_ZIP_MAGIC):
        # The part name stands in the local header and the central directory. A
        # byte search, not zipfile: building the archive's directory here would
        # come before the DOCX extractor's entry-count limit (a ZIP of millions
        # of entries). The extractor validates the archive properly.
        if _DOCX_MAIN_PART in data:
            return DocumentType.DOCX
        raise UnsupportedTypeError("the file is a ZIP archive but not a Word (DOCX) document")
    if detect_encoding(data) is not None:
        return DocumentType.HTML if looks_like_html(data) else DocumentType.TXT
    raise UnsupportedTypeError("the file is not a PDF, a DOCX or text in a known encoding")


def looks_like_html(data: bytes) -> bool:
    """Whether ``data`` starts like an HTML or XHTML page (a UTF-8 BOM and
    leading whitespace skipped)."""
    head = data[:_HTML_WINDOW].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x0c")
    return bool(_HTML_STARTS.match(head) or _XHTML.match(head))
