"""Decoding an upload request into the document's bytes and its name.

An upload is accepted only whole: a body that ends before the multipart
closing boundary, a file part cut short, two file parts or a file part
without a name is refused with a coded 400, and a body over the size limit
with 413 before any of it is parsed. The file's bytes are taken from the
request body with at most one copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kernel.egress.client import USER_AGENT
from processing.errors import MalformedUploadError, WebhookLoopError
from processing.extraction.errors import TooLargeError

#: Room for a multipart body's boundaries, part headers and small form fields
#: beside a file of the largest accepted size.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    filename: str | None


def decode_upload(
    headers: Mapping[str, str],
    params: Mapping[str, str],
    read_body: Callable[[], bytes],
    *,
    max_bytes: int,
) -> Upload:
    """The document in a request: ``multipart/form-data`` field ``file``, or
    the raw body with its name from ``?filename=`` or ``Content-Disposition``.

    ``Content-Length`` is checked before ``read_body`` is called. A request
    carrying this app's own webhook headers is refused: a webhook subscription
    pointed at the upload route would otherwise turn every notice into a new
    upload, and every upload into another notice.
    """
    if _header(headers, "webhook-id") and _header(headers, "user-agent").startswith(USER_AGENT):
        raise WebhookLoopError("the app's own webhook notices cannot be uploaded")
    content_type = _header(headers, "content-type")
    multipart = content_type.lower().startswith("multipart/form-data")
    allowed = max_bytes + (MULTIPART_OVERHEAD_BYTES if multipart else 0)
    declared = _header(headers, "content-length").strip()
    if declared.isdigit() and int(declared) > allowed:
        raise _too_large(max_bytes)
    body = read_body()
    if len(body) > allowed:
        raise _too_large(max_bytes)
    if multipart:
        return _decode_multipart(content_type, body, max_bytes=max_bytes)
    filename = params.get("filename") or _disposition_filename(
        _header(headers, "content-disposition")
    )
    return Upload(data=body, filename=filename)


def _too_large(max_bytes: int) -> TooLargeError:
    return TooLargeError(f"the document is larger than the {max_bytes}-byte limit")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _disposition_filename(value: str) -> str | None:
    """The ``filename`` (or RFC 6266 ``filename*``) of a Content-Disposition value."""
    if not value:
        return None
    from email.message import Message

    message = Message()
    message["content-disposition"] = value
    return message.get_filename()


@dataclass
class _Part:
    headers: dict[bytes, bytes]
    #: Where the part's bytes are: ``(buffer, start, end)`` pieces, in order.
    pieces: list[tuple[bytes, int, int]]
    ended: bool = False

    def data(self, body: bytes) -> bytes:
        """The part's bytes, copied once: a single slice of ``body`` when the
        parser reported them as one run of it (the usual case)."""
        if len(self.pieces) == 1 and self.pieces[0][0] is body:
            _, start, end = self.pieces[0]
            return body[start:end]
        return b"".join(memoryview(buffer)[start:end] for buffer, start, end in self.pieces)


def _decode_multipart(content_type: str, body: bytes, *, max_bytes: int) -> Upload:
    files = decode_file_parts(content_type, body)
    if not files:
        raise MalformedUploadError("multipart/form-data upload without a 'file' field")
    if len(files) > 1:
        raise MalformedUploadError("a multipart/form-data upload carries one 'file' field")
    [upload] = files
    if not upload.filename:
        raise MalformedUploadError("the 'file' field of the upload has no filename")
    if len(upload.data) > max_bytes:
        raise _too_large(max_bytes)
    return upload


def _parse_parts(boundary: bytes, body: bytes) -> list[_Part]:
    """Every part of a whole multipart body; a body cut short or malformed is refused."""
    from python_multipart import MultipartParser
    from python_multipart.exceptions import MultipartParseError

    parts: list[_Part] = []
    header_name = bytearray()
    header_value = bytearray()
    finished: list[bool] = []

    def on_part_begin() -> None:
        parts.append(_Part({}, []))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1].headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        pieces = parts[-1].pieces
        if pieces and pieces[-1][0] is data is body and pieces[-1][2] == start:
            pieces[-1] = (body, pieces[-1][1], end)  # one more stretch of the same run
        elif data is body:
            pieces.append((body, start, end))
        else:  # the parser's own look-behind buffer, which it reuses: keep a copy
            pieces.append((bytes(data[start:end]), 0, end - start))

    def on_part_end() -> None:
        parts[-1].ended = True

    def on_end() -> None:
        finished.append(True)

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        raise MalformedUploadError("the multipart/form-data body is malformed") from None
    if not finished or not all(part.ended for part in parts):
        raise MalformedUploadError(
            "the multipart/form-data body ends before its closing boundary: the upload is"
            " incomplete"
        )
    return parts


def decode_file_parts(content_type: str, body: bytes) -> list[Upload]:
    """Every ``file`` field of a ``multipart/form-data`` body, in order (a part
    without a file name keeps ``filename`` None: the caller judges each part)."""
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedUploadError("multipart/form-data without a boundary")
    uploads = []
    for part in _parse_parts(boundary, body):
        disposition = part.headers.get(b"content-disposition", b"").decode("latin-1")
        _, disposition_options = parse_options_header(disposition)
        if disposition_options.get(b"name") == b"file":
            uploads.append(
                Upload(data=part.data(body), filename=_disposition_filename(disposition))
            )
    return uploads
