"""Byte-level and structure-aware mutations of seed documents.

A :class:`Mutation` is plain data (a kind and a few integers), so Hypothesis
can generate it and shrink it toward the simplest change that still fails.
Positions and choices are taken modulo what they index, so every value is
valid for every input. A mutation with ``member`` set is applied to one part
inside a ZIP, which is then re-packed with correct CRCs: without that, almost
every change to a DOCX ends as a CRC error before any XML is parsed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

KINDS = (
    "flip",  # flip one bit
    "byte",  # overwrite one byte with an interesting value
    "truncate",  # cut the data at a position
    "insert",  # insert the payload
    "token",  # insert a format token (PDF, XML, text)
    "delete",  # remove a range
    "duplicate",  # repeat a range a few times
    "amplify",  # repeat a short piece thousands of times: nesting, counts, long runs
    "splice",  # the head of this input on the tail of another seed
    "number",  # replace a decimal number with an interesting one
)

INTERESTING_BYTES = bytes(
    (0x00, 0xFF, 0x7F, 0x80, 0x20, 0x0A, 0x0D, 0x3C, 0x3E, 0x2F, 0x28, 0x29, 0x5B, 0x5D, 0x26, 0x22)
)
INTERESTING_NUMBERS = (
    b"0", b"1", b"-1", b"2", b"255", b"256", b"65535", b"65536", b"2147483647", b"2147483648",
    b"4294967295", b"4294967296", b"9223372036854775808", b"99999999999999999999", b"-2147483648",
    b"1e308", b"0.000001", b"3.4e38",
)  # fmt: skip
TOKENS = (
    # PDF structure
    b" obj ", b"endobj", b"<<", b">>", b"[", b"]", b"(", b")", b"<", b">", b"\\", b" 0 R",
    b"/Length 0", b"/Length 99999999", b"stream\n", b"\nendstream", b"/Type /Pages",
    b"/Kids [", b"/Count 100000", b"/Parent 1 0 R", b"/Prev 0", b"/Filter /FlateDecode",
    b"/Filter /LZWDecode", b"/Filter /ASCIIHexDecode", b"/Filter /RunLengthDecode",
    b"/Filter [/ASCII85Decode /FlateDecode]", b"/DecodeParms << /Predictor 12 /Columns 4 >>",
    b"/Encrypt", b"/Type /ObjStm /N 100 /First 0", b"/Type /XRef /W [1 2 1]", b"/XRefStm 0",
    b"xref\n0 1\n", b"trailer", b"startxref\n0\n", b"%%EOF", b"BT ", b" ET", b" Tj", b" TJ",
    b" Tf", b" Td", b"/Font", b"/ToUnicode", b"beginbfchar", b"<FEFF", b"<D800>", b"%PDF-1.7",
    b" Do", b"/XObject", b"/Subtype /Form", b" q ", b" Q ", b" cm", b"/Info", b"/Root",
    b"(D:20260314120000+01'00')", b"/Title <FEFFD800>",
    # WordprocessingML and XML
    b"<w:p>", b"</w:p>", b"<w:r>", b"</w:r>", b"<w:t>", b"</w:t>", b"<w:tbl>", b"<w:tr>",
    b"<w:tc>", b"</w:tc></w:tr></w:tbl>", b'<w:fldChar w:fldCharType="begin"/>',
    b'<w:fldChar w:fldCharType="separate"/>', b'<w:fldChar w:fldCharType="end"/>',
    b"<w:instrText>", b"<w:tab/>", b"<w:br/>", b"<w:sdt><w:sdtContent>", b"</w:sdtContent></w:sdt>",
    b"<mc:AlternateContent>", b"<mc:Choice>", b"<mc:Fallback>", b"<w:txbxContent>",
    b'<w:pStyle w:val="Heading1"/>', b'<w:outlineLvl w:val="', b'<w:vMerge/>',
    b'<w:basedOn w:val="Heading1"/>', b"<!DOCTYPE x [<!ENTITY a \"b\">]>", b"&a;", b"&amp;",
    b"&#0;", b"&#x10FFFF;", b"&#xD800;", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b'<?xml version="1.0" encoding="UTF-16"?>', b'encoding="ISO-8859-1"', b' xmlns:w="',
    b' xml:space="preserve"', b'<w:headerReference r:id="rIdH"/>', b' TargetMode="External"',
    b' Target="../../../etc/passwd"', b' Target="/word/document.xml"', b' Target="%2e%2e/x"',
    b'<Relationship Id="rIdS" Type="x/styles" Target="document.xml"/>',
    # text and encodings
    b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\r\n", b"\x00", b"\xc3",
    b"\xe2\x80\xa8", b"\xed\xa0\x80", b"@example.com", b"https://", b"www.", b"+49 30 1234567",
    b"DE89 3704 0044 0532 0130 00", b"4111 1111 1111 1111", b"14 March 2026", b"2026-03-14",
    b"$1,000.00", b"12.5%", b"192.168.0.1", b"::1", b"%PDF-", b"PK\x03\x04",
)  # fmt: skip

_NUMBER = re.compile(rb"-?\d+")
_MAX_DUPLICATED = 512
_MAX_COPIES = 64
_MAX_AMPLIFIED = 64
_MAX_AMPLIFICATION = 5_000
# Archives the mutator itself will unpack: the seeds are far smaller.
_MAX_PARTS = 200
_MAX_UNPACKED_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Mutation:
    kind: str
    position: int = 0
    length: int = 0
    value: int = 0
    payload: bytes = b""
    #: Index (modulo the part count) of the ZIP part to apply this to, or ``None``.
    member: int | None = None


def apply_all(data: bytes, mutations: Sequence[Mutation], others: Sequence[bytes]) -> bytes:
    """``data`` after each of ``mutations`` in turn; ``others`` feed splicing."""
    for mutation in mutations:
        data = apply(data, mutation, others)
    return data


def apply(data: bytes, mutation: Mutation, others: Sequence[bytes]) -> bytes:
    """``data`` after one mutation."""
    if mutation.member is not None and data.startswith(b"PK\x03\x04"):
        repacked = _apply_to_member(data, mutation, others)
        if repacked is not None:
            return repacked
    return _apply_bytes(data, mutation, others)


def _apply_bytes(data: bytes, mutation: Mutation, others: Sequence[bytes]) -> bytes:
    mutated = _OPERATIONS[mutation.kind](data, mutation, others)
    # Nothing to act on (an empty input, no numbers): grow the input instead.
    return data + mutation.payload if mutated is None else mutated


def _flip(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes | None:
    if not data:
        return None
    bit = mutation.position % (len(data) * 8)
    index = bit // 8
    return data[:index] + bytes([data[index] ^ (1 << (bit % 8))]) + data[index + 1 :]


def _set_byte(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes | None:
    if not data:
        return None
    index = mutation.position % len(data)
    value = INTERESTING_BYTES[mutation.value % len(INTERESTING_BYTES)]
    return data[:index] + bytes([value]) + data[index + 1 :]


def _truncate(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes:
    return data[: _at(data, mutation)]


def _insert(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes:
    at = _at(data, mutation)
    return data[:at] + mutation.payload + data[at:]


def _insert_token(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes:
    at = _at(data, mutation)
    return data[:at] + TOKENS[mutation.value % len(TOKENS)] + data[at:]


def _delete(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes:
    at = _at(data, mutation)
    return data[:at] + data[at + mutation.length :]


def _duplicate(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes:
    at = _at(data, mutation)
    piece = data[at : at + 1 + mutation.length % _MAX_DUPLICATED]
    return data[:at] + piece * (1 + mutation.value % _MAX_COPIES) + data[at:]


def _amplify(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes:
    at = _at(data, mutation)
    piece = data[at : at + 1 + mutation.length % _MAX_AMPLIFIED] or mutation.payload
    return data[:at] + piece * (100 + mutation.value % _MAX_AMPLIFICATION) + data[at:]


def _splice(data: bytes, mutation: Mutation, others: Sequence[bytes]) -> bytes | None:
    if not others:
        return None
    other = others[mutation.value % len(others)]
    return data[: _at(data, mutation)] + other[mutation.length % (len(other) + 1) :]


def _replace_number(data: bytes, mutation: Mutation, _others: Sequence[bytes]) -> bytes | None:
    numbers = list(_NUMBER.finditer(data))
    if not numbers:
        return None
    match = numbers[mutation.position % len(numbers)]
    replacement = INTERESTING_NUMBERS[mutation.value % len(INTERESTING_NUMBERS)]
    return data[: match.start()] + replacement + data[match.end() :]


def _at(data: bytes, mutation: Mutation) -> int:
    return mutation.position % (len(data) + 1)


_Operation = Callable[[bytes, Mutation, Sequence[bytes]], "bytes | None"]
_OPERATIONS: dict[str, _Operation] = {
    "flip": _flip,
    "byte": _set_byte,
    "truncate": _truncate,
    "insert": _insert,
    "token": _insert_token,
    "delete": _delete,
    "duplicate": _duplicate,
    "amplify": _amplify,
    "splice": _splice,
    "number": _replace_number,
}


def _apply_to_member(data: bytes, mutation: Mutation, others: Sequence[bytes]) -> bytes | None:
    """The archive with one part mutated and everything re-packed, or ``None`` if unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if not infos or len(infos) > _MAX_PARTS:
                return None
            if sum(info.file_size for info in infos) > _MAX_UNPACKED_BYTES:
                return None
            parts = [(info.filename, archive.read(info)) for info in infos]
    except Exception:  # a broken archive is mutated as plain bytes instead
        return None
    assert mutation.member is not None
    index = mutation.member % len(parts)
    name, content = parts[index]
    parts[index] = (name, _apply_bytes(content, mutation, others))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for part_name, part in parts:
            out.writestr(part_name, part)
    return buffer.getvalue()
