"""Generators of hostile documents: malformed, looping, nested, bombs and odd encodings.

Every generator builds its bytes from scratch (nothing is read from disk) and
is deterministic, so a failing case reproduces exactly. Large payloads are
produced without materialising them: a deflate stream of a long run of one
byte value is the same ~1 KiB block repeated (see :func:`deflate_run`).
"""

from __future__ import annotations

import codecs
import functools
import random
import struct
import zipfile
import zlib
from collections.abc import Sequence

from tests.builders.docx_files import (
    document_part,
    docx_package,
    paragraph,
    zip_bytes,
)
from tests.builders.pdfs import build_reportlab_pdf

MIB = 1024 * 1024
GIB = 1024 * MIB

#: Text every text-encoding case carries, with characters beyond Latin-1.
SAMPLE_TEXT = "Grüße aus Zürich: Straße, café, naïve Ωμέγα and 日本語 on 14 March 2026.\n"

_CHUNK = MIB
_HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


# --- PDF ------------------------------------------------------------------------


def serialise_pdf(
    objects: Sequence[bytes],
    *,
    root: int = 1,
    fallback: bool = False,
) -> bytes:
    """A PDF of ``objects`` (numbered from 1) with a correct xref table and trailer.

    With ``fallback`` the trailer does not name the catalog: PDFium then
    refuses the file while pypdf finds the catalog by searching, which is how
    a hostile structure is sent through the pypdf fallback instead of PDFium.
    """
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += _xref_table(offsets)
    out += b"trailer\n<< /Size %d %s>>\n" % (len(objects) + 1, _root_entry(root, fallback))
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _root_entry(root: int, fallback: bool) -> bytes:
    return b"" if fallback else b"/Root %d 0 R " % root


def stream_object(content: bytes, *, dictionary: bytes = b"") -> bytes:
    """An indirect stream object's body around raw (already encoded) ``content``."""
    return b"<< /Length %d %s>>\nstream\n" % (len(content), dictionary) + content + b"\nendstream"


def text_page_objects(
    page_extra: bytes = b"", content: bytes = b"BT /F1 12 Tf 72 720 Td (Hostile page) Tj ET"
) -> list[bytes]:
    """Catalog (1), page tree (2), page (3), its content (4) and font (5) of a one-page PDF."""
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R " + page_extra + b">>",
        stream_object(content),
        _HELVETICA,
    ]


def truncated_pdf(keep: float | int) -> bytes:
    """A three-page reportlab PDF cut after ``keep`` bytes (an int) or that fraction of it."""
    data = _three_page_pdf()
    cut = keep if isinstance(keep, int) else int(len(data) * keep)
    return data[:cut]


@functools.cache
def _three_page_pdf() -> bytes:
    return build_reportlab_pdf(
        [
            ["Quarterly report of the board.", "Revenue grew in March 2026."],
            ["Second page: the budget meeting was held in Berlin."],
            ["Third page: contact finance@example.com for details."],
        ],
        title="Truncation target",
    )


def looping_xref_pdf(*, self_loop: bool = False, fallback: bool = False) -> bytes:
    """A one-page PDF whose xref sections' ``/Prev`` pointers form a cycle.

    With ``self_loop`` the only section names itself; otherwise two sections
    name each other. Offsets are written zero-padded so they can be known
    before the sections they point to are written.
    """
    objects = text_page_objects()
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    size = len(objects) + 1
    first_at = len(out)
    first_table = _xref_table(offsets)
    # The trailer's length does not depend on the offset value: it is padded.
    first_trailer_length = len(_prev_trailer(size, 0, fallback))
    second_at = first_at + len(first_table) + first_trailer_length
    out += first_table + _prev_trailer(size, first_at if self_loop else second_at, fallback)
    if not self_loop:
        out += b"xref\n0 1\n0000000000 65535 f \n" + _prev_trailer(size, first_at, fallback)
    out += b"startxref\n%d\n%%%%EOF\n" % first_at
    return bytes(out)


def _prev_trailer(size: int, prev: int, fallback: bool) -> bytes:
    return b"trailer\n<< /Size %d %s/Prev %010d >>\n" % (size, _root_entry(1, fallback), prev)


def _xref_table(offsets: Sequence[int]) -> bytes:
    rows = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1) + rows


def nested_arrays(depth: int) -> bytes:
    """``[[[...]]]`` nested ``depth`` deep."""
    return b"[" * depth + b"]" * depth


def nested_dictionaries(depth: int) -> bytes:
    """``<< /A << /A ... >> >>`` nested ``depth`` deep."""
    return b"<< /A " * depth + b"<< >>" + b" >>" * depth


def deeply_nested_pdf(
    depth: int, *, kind: str = "array", where: str = "page", fallback: bool = False
) -> bytes:
    """A one-page PDF carrying a ``kind`` ("array" or "dict") structure nested ``depth`` deep.

    ``where`` is "page" (an entry of the page dictionary, which every reader
    parses to load the page) or "content" (an operand in the content stream).
    """
    nested = nested_arrays(depth) if kind == "array" else nested_dictionaries(depth)
    if where == "page":
        objects = text_page_objects(page_extra=b"/Hostile " + nested + b" ")
    else:
        content = b"BT /F1 12 Tf 72 720 Td (Nested operand) Tj ET\n" + nested + b" pop\n"
        objects = text_page_objects(content=content)
    return serialise_pdf(objects, fallback=fallback)


def page_tree_pdf(
    *, declared: int, real: int, fallback: bool = False, shared_text: bytes = b"p"
) -> bytes:
    """A PDF whose page tree declares ``/Count declared`` over ``real`` page objects.

    All pages share one tiny content stream and font, so a file with a
    hundred thousand real pages stays a few MB.
    """
    catalog, pages, content, font = 1, 2, 3, 4
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the tree, once the kids are numbered
        stream_object(b"BT /F1 8 Tf 20 20 Td (" + shared_text + b") Tj ET"),
        _HELVETICA,
    ]
    page = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 100 100] " % pages
    page += b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, content)
    first_kid = len(objects) + 1
    objects.extend([page] * real)
    kids = b" ".join(b"%d 0 R" % number for number in range(first_kid, first_kid + real))
    objects[pages - 1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % declared
    return serialise_pdf(objects, root=catalog, fallback=fallback)


def cyclic_page_tree_pdf(*, fallback: bool = False) -> bytes:
    """A page tree whose intermediate node lists itself (and the root) among its kids."""
    return serialise_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 3 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            stream_object(b"BT /F1 12 Tf 72 720 Td (Cycle) Tj ET"),
            _HELVETICA,
            b"<< /Type /Pages /Parent 2 0 R /Kids [6 0 R 2 0 R] /Count 2 >>",
        ],
        fallback=fallback,
    )


def huge_xref_size_pdf(*, fallback: bool = False) -> bytes:
    """A one-page PDF whose trailer declares two billion objects."""
    data = serialise_pdf(text_page_objects(), fallback=fallback)
    return data.replace(b"/Size 6 ", b"/Size 2147483647 ", 1)


def flate_bomb_pdf(inflated_bytes: int = 2 * GIB, *, fallback: bool = False) -> bytes:
    """A one-page PDF whose content stream is ~2 MB of deflate inflating to ``inflated_bytes``.

    The payload is spaces (content-stream whitespace), so a reader that
    inflates it fully holds gigabytes of valid, meaningless content.
    """
    bomb = deflate_run(ord(" "), inflated_bytes)
    objects = text_page_objects()
    objects.append(stream_object(bomb, dictionary=b"/Filter /FlateDecode "))
    # The bomb is the page's second content stream, after the one with text.
    objects[2] = objects[2].replace(b"/Contents 4 0 R", b"/Contents [4 0 R 6 0 R]")
    return serialise_pdf(objects, fallback=fallback)


@functools.cache
def deflate_run(value: int, length: int, *, wrap: bool = True) -> bytes:
    """Deflate data inflating to ``length`` bytes of ``value``, built without holding them.

    After a full flush the compressor's state is reset, so each further MiB of
    the same byte compresses to the same block: the stream is built from one
    block repeated. ``wrap`` adds the zlib header and Adler-32 (PDF
    ``FlateDecode``); without it the data is raw deflate (a ZIP member).
    """
    if length % _CHUNK:
        raise ValueError("length must be a whole number of MiB")
    chunk = bytes([value]) * _CHUNK
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS if wrap else -zlib.MAX_WBITS)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    # The final block is empty: the check value belongs to the whole run, not
    # to the two chunks this compressor saw, so it is appended by hand.
    tail = compressor.flush(zlib.Z_FINISH)
    if wrap:
        tail = tail[:-4] + struct.pack(">L", run_adler32(value, length))
    return first + block * (length // _CHUNK - 1) + tail


def run_adler32(value: int, length: int) -> int:
    """Adler-32 of ``length`` bytes of ``value``, in closed form.

    Adler-32 keeps A = 1 + the sum of the bytes and B = the sum of A after
    each byte, both modulo 65521; for a run both sums are arithmetic series.
    """
    modulus = 65521
    low = (1 + length * value) % modulus
    high = (length + value * length * (length + 1) // 2) % modulus
    return (high << 16) | low


def xobject_laughs_pdf(levels: int = 10, fan_out: int = 10, *, fallback: bool = False) -> bytes:
    """The billion laughs of PDF: form XObjects each drawing the one below ``fan_out`` times.

    Level 0 shows one word; the page draws the top level once, so a reader
    that expands forms as it loads the page holds ``fan_out ** (levels - 1)``
    copies of that word. Every form is distinct, so no recursion check stops it.
    """
    objects = text_page_objects(
        content=b"BT /F1 12 Tf 72 720 Td (Laughs) Tj ET q /X%d Do Q" % (levels - 1)
    )
    first_form = len(objects) + 1
    for level in range(levels):
        if level == 0:
            content = b"BT /F1 12 Tf 10 10 Td (lol) Tj ET"
        else:
            content = b" ".join([b"q /X%d Do Q" % (level - 1)] * fan_out)
        below = b"/X%d %d 0 R" % (level - 1, first_form + level - 1) if level else b""
        resources = b"/Resources << /Font << /F1 5 0 R >> /XObject << %s >> >> " % below
        objects.append(
            stream_object(
                content,
                dictionary=b"/Type /XObject /Subtype /Form /BBox [0 0 100 100] " + resources,
            )
        )
    top = b"/X%d %d 0 R" % (levels - 1, first_form + levels - 1)
    objects[2] = objects[2].replace(
        b"/Font << /F1 5 0 R >>", b"/Font << /F1 5 0 R >> /XObject << " + top + b" >>"
    )
    return serialise_pdf(objects, fallback=fallback)


def many_pages_pdf(pages: int) -> bytes:
    """``pages`` real pages, each with its own short line of text."""
    catalog, tree, font = 1, 2, 3
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", _HELVETICA]
    kids = []
    for index in range(pages):
        content = b"BT /F1 8 Tf 20 20 Td (Page %d of the register.) Tj ET" % (index + 1)
        objects.append(stream_object(content))
        objects.append(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 200 100] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (tree, font, len(objects))
        )
        kids.append(len(objects))
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    objects[tree - 1] = b"<< /Type /Pages /Kids [" + refs + b"] /Count %d >>" % pages
    return serialise_pdf(objects, root=catalog)


# --- DOCX / ZIP -------------------------------------------------------------------


def zip_bomb_docx(inflated_bytes: int = GIB) -> bytes:
    """A valid DOCX plus a part of ``inflated_bytes`` zeros that compresses ~1000:1.

    The part's sizes and CRC are honest: only the limits stand between a
    reader and the gigabyte.
    """
    package = docx_package(paragraph("A small document carrying a bomb."))
    member = deflate_run(0, inflated_bytes, wrap=False)
    crc = _zero_run_crc(inflated_bytes)
    return append_zip_member(package, "word/media/image1.png", member, inflated_bytes, crc)


@functools.cache
def _zero_run_crc(length: int) -> int:
    chunk = bytes(_CHUNK)
    crc = 0
    for _ in range(length // _CHUNK):
        crc = zlib.crc32(chunk, crc)
    return crc


def append_zip_member(archive: bytes, name: str, deflated: bytes, size: int, crc: int) -> bytes:
    """``archive`` with one more member whose raw deflate data and sizes are given as is."""
    eocd_at = archive.rfind(b"PK\x05\x06")
    entries, directory_size, directory_at = struct.unpack_from("<HLL", archive, eocd_at + 10)
    encoded = name.encode()
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, crc,
        len(deflated), size, len(encoded), 0,
    )  # fmt: skip
    local_at = directory_at
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, crc,
        len(deflated), size, len(encoded), 0, 0, 0, 0, 0, local_at,
    )  # fmt: skip
    old_directory = archive[directory_at : directory_at + directory_size]
    new_directory_at = local_at + len(local) + len(encoded) + len(deflated)
    new_directory = old_directory + central + encoded
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, entries + 1, entries + 1,
        len(new_directory), new_directory_at, 0,
    )  # fmt: skip
    return archive[:directory_at] + local + encoded + deflated + new_directory + end


def zip_with_many_entries(entries: int) -> bytes:
    """A ZIP holding ``word/document.xml`` whose directory lists ``entries`` more members.

    The extra members have no local headers or data, only directory records
    of 47 bytes each: the cheapest way to make a reader that builds the whole
    directory in memory hold millions of entries.
    """
    document = document_part(paragraph("Many entries.")).encode()
    name = b"word/document.xml"
    crc = zlib.crc32(document)
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, 0, zipfile.ZIP_STORED, 0, 0x21, crc,
        len(document), len(document), len(name), 0,
    )  # fmt: skip
    records = bytearray()
    members = [(name, crc, len(document))] + [(b"%x" % index, 0, 0) for index in range(entries)]
    for member, member_crc, size in members:
        records += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, member_crc, size, size,
            len(member), 0, 0, 0, 0, 0, 0,
        )  # fmt: skip
        records += member
    directory_at = len(local) + len(name) + len(document)
    # The count fields hold 16 bits; readers walk the directory by its size.
    count = min(len(members), 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(records), directory_at, 0)
    return local + name + document + bytes(records) + end


def nested_tables_docx(depth: int, *, text: str = "innermost cell") -> bytes:
    """A DOCX whose body is a table nested ``depth`` levels deep, built without recursion."""
    opening = "<w:tbl><w:tblPr/><w:tblGrid/><w:tr><w:tc><w:tcPr/>"
    closing = "</w:tc></w:tr></w:tbl>"
    body = opening * depth + paragraph(text) + closing * depth
    return docx_package(body)


def many_paragraphs_docx(count: int) -> bytes:
    """A DOCX of ``count`` paragraphs, each a few characters (``P0.``, ``P1.``, ...).

    Short on purpose: the count stresses the XML walk, not the text analysis.
    """
    return docx_package("".join(paragraph(f"P{index}.") for index in range(count)))


def xxe_docx(*, internal_subset: bool, target: str = "file:///etc/passwd") -> bytes:
    """A DOCX whose main part refers to ``target`` as an external entity or external DTD.

    With ``internal_subset`` the entity is declared in the DOCTYPE and used in
    the text; otherwise the DOCTYPE only names ``target`` as its external DTD.
    """
    if internal_subset:
        prolog = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{target}">]>'
        body = paragraph("Before the entity.") + "<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>"
    else:
        prolog = f'<!DOCTYPE w:document SYSTEM "{target}">'
        body = paragraph("A document naming an external DTD.")
    return docx_package(document=document_part(body, prolog=prolog))


def plain_zip() -> bytes:
    """A ZIP archive that is not a DOCX."""
    return zip_bytes({"readme.txt": "hello", "data/values.csv": "a,b\n1,2\n"})


# --- text and raw bytes ---------------------------------------------------------

BOM_ENCODINGS: dict[str, tuple[bytes, str]] = {
    "utf-8": (codecs.BOM_UTF8, "utf-8"),
    "utf-16-le": (codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-16-be": (codecs.BOM_UTF16_BE, "utf-16-be"),
    "utf-32-le": (codecs.BOM_UTF32_LE, "utf-32-le"),
    "utf-32-be": (codecs.BOM_UTF32_BE, "utf-32-be"),
}


def bom_text(encoding: str, text: str = SAMPLE_TEXT) -> bytes:
    """``text`` encoded as ``encoding`` (a key of :data:`BOM_ENCODINGS`) after its BOM."""
    bom, codec = BOM_ENCODINGS[encoding]
    return bom + text.encode(codec)


def invalid_utf8_text() -> bytes:
    """UTF-8 text interrupted by byte sequences no UTF-8 decoder accepts.

    A lone continuation byte, an overlong encoding, a surrogate encoded
    directly, a truncated sequence and bytes that never occur in UTF-8.
    """
    good = SAMPLE_TEXT.encode()
    broken = (b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xfe\xff")
    return b"".join(good + piece for piece in broken) + good


def random_bytes(length: int, seed: int = 20260314) -> bytes:
    """``length`` reproducible random bytes."""
    return random.Random(seed).randbytes(length)
