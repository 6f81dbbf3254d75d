"""Plain-text decoding: BOM first, then UTF-8, then charset-normalizer."""

from __future__ import annotations

import codecs
import re

from processing.extraction.errors import CorruptDocumentError, UnsupportedTypeError
from processing.extraction.result import DocumentMetadata, Extraction, ProcessingWarning

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NEWLINES = re.compile(r"\r\n?|\u2028|\u2029|\x85")
# C0/C1 controls other than tab, newlines and form feed: a few are tolerated in
# real text files, many mean the bytes are not text at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_MAX_CONTROL_RATIO = 0.01
# UTF-8 with at most this share of undecodable sequences is still text.
_MAX_BROKEN_RATIO = 0.05
# charset-normalizer's own "chaos" measure; above this the guess is noise.
_MAX_CHAOS = 0.2
_SNIFF_BYTES = 64 * 1024
_CHAOS_TOLERANCE = 0.1
_PREFERENCE = {
    name: rank
    for rank, name in enumerate(
        (
            "utf_8",
            "cp1252",
            "latin_1",
            "iso8859_15",
            "cp1250",
            "cp1251",
            "koi8_r",
            "cp1253",
            "cp1254",
            "cp1255",
            "cp1256",
            "shift_jis",
            "euc_jp",
            "gb18030",
            "big5",
            "euc_kr",
        )
    )
}


def bom_encoding(data: bytes) -> str | None:
    """The encoding named by a byte-order mark at the start of ``data``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def detect_encoding(data: bytes) -> str | None:
    """The encoding ``data`` is text in, or ``None`` if it is not text.

    Only the first 64 KiB are examined, so detection stays cheap on large files;
    :func:`decode_text` then decodes the whole.
    """
    encoding = bom_encoding(data)
    if encoding is not None:
        return encoding
    sample = data[:_SNIFF_BYTES]
    if b"\x00" in sample:
        # NUL bytes without a BOM: UTF-16/32 text is possible but rare; let
        # charset-normalizer decide, and require a clean decode.
        return _guess_encoding(sample)
    try:
        text = _decode_prefix(sample, "utf-8")
    except UnicodeDecodeError:
        if _has_utf8_characters(sample):
            # Real UTF-8 characters around the damage: a legacy code page would
            # turn them into mojibake, so keep UTF-8 and replace the bad bytes.
            return _mostly_utf8(sample) or _guess_encoding(sample)
        return _guess_encoding(sample) or _mostly_utf8(sample)
    return "utf-8" if _looks_like_text(text) else None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode ``data`` as text with normalised newlines; returns ``(text, encoding)``.

    Bytes the encoding cannot decode become U+FFFD. Raises
    :class:`UnsupportedTypeError` when the bytes are not text.
    """
    encoding = detect_encoding(data)
    if encoding is None:
        raise UnsupportedTypeError("the file is not a PDF, a DOCX or text in a known encoding")
    # Mostly good text with a few broken bytes (a bad copy, a truncated
    # multi-byte character) is kept, with the damage marked, not refused.
    text = data.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return _NEWLINES.sub("\n", text), _canonical_name(encoding)


def extract_text(data: bytes) -> Extraction:
    """Extract a plain-text document."""
    try:
        text, encoding = decode_text(data)
    except LookupError as exc:  # an encoding Python does not know
        raise CorruptDocumentError("the text encoding could not be decoded") from exc
    warnings: tuple[ProcessingWarning, ...] = ()
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    if replaced > 0:
        warnings = (
            ProcessingWarning(
                "invalid_bytes_replaced",
                f"{replaced} undecodable byte sequence(s) were replaced with U+FFFD",
            ),
        )
    return Extraction(text=text, metadata=DocumentMetadata(encoding=encoding), warnings=warnings)


def _decode_prefix(sample: bytes, encoding: str) -> str:
    """Decode a prefix that may end inside a multi-byte character."""
    decoder = codecs.getincrementaldecoder(encoding)()
    return decoder.decode(sample, final=False)


def _has_utf8_characters(sample: bytes) -> bool:
    """Whether ``sample`` holds at least one well-formed non-ASCII UTF-8 character."""
    return any(
        char > "\x7f" and char != "\ufffd" for char in sample.decode("utf-8", errors="replace")
    )


def _mostly_utf8(sample: bytes) -> str | None:
    """``"utf-8"`` for UTF-8 text with a few undecodable bytes, else ``None``."""
    text = sample.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    if broken <= len(text) * _MAX_BROKEN_RATIO and _looks_like_text(text):
        return "utf-8"
    return None


def _looks_like_text(text: str) -> bool:
    if not text:
        return True
    controls = len(_CONTROL.findall(text))
    return controls <= len(text) * _MAX_CONTROL_RATIO


def _guess_encoding(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes  # deferred: only for non-UTF-8 input

    candidates = [m for m in from_bytes(sample) if m.chaos <= _MAX_CHAOS]
    if not candidates:
        return None
    # Single-byte code pages often decode the same bytes almost equally
    # cleanly; among the near-cleanest prefer the widely used ones (cp1252
    # over cp1257), since charset-normalizer's own ranking is a coin toss there.
    cleanest = min(m.chaos for m in candidates)
    best = min(
        (m for m in candidates if m.chaos <= cleanest + _CHAOS_TOLERANCE),
        key=lambda m: (_PREFERENCE.get(m.encoding, len(_PREFERENCE)), m.chaos, -m.coherence),
    )
    encoding = best.encoding
    try:
        text = _decode_prefix(sample, encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    return encoding if _looks_like_text(text) else None


def _canonical_name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "utf-8" if name == "utf-8-sig" else name
