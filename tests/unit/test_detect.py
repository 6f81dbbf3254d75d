"""Type detection looks at content, never at the file name."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from processing.extraction.detect import detect_type
from processing.extraction.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    UnsupportedTypeError,
)
from processing.extraction.result import DocumentType


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_pdf_header_at_start_is_pdf() -> None:
    assert detect_type(b"%PDF-1.7\n...") is DocumentType.PDF


def test_pdf_header_after_leading_junk_within_first_kib_is_pdf() -> None:
    assert detect_type(b"\x00" * 900 + b"%PDF-1.4\n") is DocumentType.PDF


def test_pdf_header_beyond_first_kib_is_not_pdf() -> None:
    with pytest.raises(UnsupportedTypeError):
        detect_type(b"\x00" * 2000 + b"%PDF-1.4\n")


def test_zip_with_word_document_part_is_docx() -> None:
    assert detect_type(_zip({"word/document.xml": b"<w:document/>"})) is DocumentType.DOCX


def test_zip_without_word_document_part_is_unsupported() -> None:
    with pytest.raises(UnsupportedTypeError, match="ZIP"):
        detect_type(_zip({"readme.txt": b"hello"}))


def test_truncated_docx_is_detected_as_docx_and_fails_extraction_as_corrupt() -> None:
    from processing.extraction.pipeline import run_pipeline

    data = _zip({"word/document.xml": b"<w:document/>" * 100})[:60]
    assert detect_type(data) is DocumentType.DOCX
    with pytest.raises(CorruptDocumentError):
        run_pipeline(data, "x.docx")


def test_executable_is_unsupported_whatever_its_name() -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8
    with pytest.raises(UnsupportedTypeError) as info:
        detect_type(elf)
    assert info.value.code == "unsupported_type"


def test_windows_executable_is_unsupported() -> None:
    pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 4
    with pytest.raises(UnsupportedTypeError):
        detect_type(pe)


@pytest.mark.parametrize(
    "data",
    [
        b"plain ascii text\n",
        "caf\u00e9 na\u00efve r\u00e9sum\u00e9\n".encode(),
        codecs.BOM_UTF8 + b"bom text",
        codecs.BOM_UTF16_LE + "utf16 text".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "utf16 text".encode("utf-16-be"),
        codecs.BOM_UTF32_LE + "utf32 text".encode("utf-32-le"),
        codecs.BOM_UTF32_BE + "utf32 text".encode("utf-32-be"),
        "Grüße aus Köln, schöne Grüße und viele Wünsche.\n".encode("cp1252"),
    ],
)
def test_text_in_known_encodings_is_text(data: bytes) -> None:
    assert detect_type(data) is DocumentType.TXT


def test_empty_bytes_are_empty() -> None:
    with pytest.raises(EmptyDocumentError) as info:
        detect_type(b"")
    assert info.value.code == "empty"


def test_random_bytes_are_unsupported() -> None:
    import random

    noise = random.Random(7).randbytes(4096)
    with pytest.raises(UnsupportedTypeError):
        detect_type(noise)
