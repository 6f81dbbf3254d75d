"""Plain text: BOM first, then UTF-8, then charset detection; newlines normalised."""

from __future__ import annotations

import codecs

import pytest

from processing.extraction.errors import UnsupportedTypeError
from processing.extraction.extractors.text import decode_text, extract_text

SAMPLE = "Zoë's café\nsecond line"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + SAMPLE.encode(), "utf-8"),
        (codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF32_LE + SAMPLE.encode("utf-32-le"), "utf-32-le"),
        (codecs.BOM_UTF32_BE + SAMPLE.encode("utf-32-be"), "utf-32-be"),
        (SAMPLE.encode(), "utf-8"),
    ],
)
def test_bom_and_utf8_decode_exactly_and_report_encoding(data: bytes, encoding: str) -> None:
    text, detected = decode_text(data)
    assert text == SAMPLE
    assert detected == encoding


def test_newlines_are_normalised() -> None:
    text, _ = decode_text(b"a\r\nb\rc\nd")
    assert text == "a\nb\nc\nd"


def test_legacy_single_byte_text_is_detected() -> None:
    original = "Hébreu et français: déjà vu, très bien, à bientôt, où êtes-vous?\n" * 5
    extraction = extract_text(original.encode("cp1252"))
    assert extraction.text == original
    assert extraction.metadata.encoding == "cp1252"


def test_invalid_utf8_tail_after_valid_sample_is_replaced_not_rejected() -> None:
    data = b"valid text " * 10_000 + b"\xff\xfe broken tail"
    text, encoding = decode_text(data)
    assert encoding == "utf-8"
    assert text.endswith("broken tail")
    assert "\ufffd" in text


def test_binary_is_not_text() -> None:
    with pytest.raises(UnsupportedTypeError):
        decode_text(bytes(range(256)) * 16)


def test_a_stray_byte_early_in_utf8_text_is_replaced_with_a_warning() -> None:
    data = "Grüße, a line of text. ".encode() * 20 + b"\x80" + b"more text follows.\n" * 20
    extraction = extract_text(data)
    assert extraction.metadata.encoding == "utf-8"
    assert "Grüße" in extraction.text and "\ufffd" in extraction.text
    assert [w.code for w in extraction.warnings] == ["invalid_bytes_replaced"]


def test_clean_text_has_no_replacement_warning() -> None:
    assert extract_text("plain \ufffd already in the text".encode()).warnings == ()
