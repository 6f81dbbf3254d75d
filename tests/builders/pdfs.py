"""Small PDFs generated for tests: reportlab documents and hand-written minimal bytes.

reportlab gives realistic files (compressed streams, real fonts); the
hand-written builder gives exact control over the Info dictionary, the page
content and broken structure, which reportlab will not produce.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

# A PDF date a test can assert on: 14 March 2024, 12:00:00 at UTC+01:00.
SAMPLE_PDF_DATE = "D:20240314120000+01'00'"


def build_reportlab_pdf(
    pages: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    author: str | None = None,
    subject: str | None = None,
    creator: str | None = None,
) -> bytes:
    """A PDF with one page per item of ``pages``, each line of it drawn on its own row."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    # invariant=1 fixes the dates and ID reportlab writes, so output is reproducible.
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    if title is not None:
        canvas.setTitle(title)
    if author is not None:
        canvas.setAuthor(author)
    if subject is not None:
        canvas.setSubject(subject)
    if creator is not None:
        canvas.setCreator(creator)
    _, height = A4
    for lines in pages:
        canvas.setFont("Helvetica", 12)
        for row, line in enumerate(lines):
            canvas.drawString(72, height - 72 - 16 * row, line)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def build_minimal_pdf(
    pages: Sequence[Sequence[str]],
    *,
    info: Mapping[str, str] | None = None,
    image_only_pages: Sequence[int] = (),
    leading_junk: bytes = b"",
) -> bytes:
    """A hand-written uncompressed PDF: one page per item of ``pages``.

    Strings in ``pages`` are lines of Helvetica text (ASCII). ``info`` becomes
    the Info dictionary verbatim (values written as literal strings, e.g.
    ``{"CreationDate": SAMPLE_PDF_DATE}``). Pages whose 0-based index is in
    ``image_only_pages`` carry a small grey image and no text, as a scan does.
    ``leading_junk`` goes before the header, with the xref offsets still right
    (as when a mail or HTTP header is glued onto a file).
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled once the page tree's number is known
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    image = add(_grey_image_stream())
    kids: list[int] = []
    for index, lines in enumerate(pages):
        if index in image_only_pages:
            content = b"q 400 0 0 500 100 200 cm /Im1 Do Q"
        else:
            content = _text_content(lines)
        stream = add(_stream(content))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> "
                b"/Contents %d 0 R >>" % (pages_obj, font, image, stream)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )
    info_obj = None
    if info:
        entries = b" ".join(
            b"/%s %s" % (key.encode("ascii"), _literal(value)) for key, value in info.items()
        )
        info_obj = add(b"<< " + entries + b" >>")
    return _serialise(objects, root=catalog, info=info_obj, prefix=leading_junk)


def encrypt_pdf(
    data: bytes,
    *,
    user_password: str,
    owner_password: str,
    algorithm: str = "AES-256",
) -> bytes:
    """``data`` encrypted by pypdf; an empty ``user_password`` opens without asking."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _text_content(lines: Sequence[str]) -> bytes:
    parts = [b"BT /F1 12 Tf 16 TL 72 720 Td"]
    for line in lines:
        parts.append(_literal(line) + b" Tj T*")
    parts.append(b"ET")
    return b"\n".join(parts)


def _grey_image_stream() -> bytes:
    pixels = bytes(range(0, 256, 16)) * 16  # 16x16 8-bit grey gradient
    header = b"<< /Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceGray "
    header += b"/BitsPerComponent 8 /Length %d >>" % len(pixels)
    return header + b"\nstream\n" + pixels + b"\nendstream"


def _stream(content: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def _literal(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _serialise(
    objects: Sequence[bytes], *, root: int, info: int | None, prefix: bytes = b""
) -> bytes:
    out = bytearray(prefix + b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"/Size %d /Root %d 0 R" % (len(objects) + 1, root)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
