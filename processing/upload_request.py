"""Decoding an upload request into the document's bytes and its name.

The trigger hands over headers, query and body; what comes back is plain
data, so the decoding is tested without the Functions runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kernel.errors import RequestError


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    filename: str | None


def decode_upload(
    headers: Mapping[str, str], params: Mapping[str, str], body: bytes, *, max_bytes: int
) -> Upload:
    """The document in a request: ``multipart/form-data`` field ``file``, or
    the raw body with its name from ``?filename=`` or ``Content-Disposition``."""
    content_type = _header(headers, "content-type")
    if content_type.lower().startswith("multipart/form-data"):
        return _decode_multipart(content_type, body, max_bytes=max_bytes)
    filename = params.get("filename") or _disposition_filename(
        _header(headers, "content-disposition")
    )
    return Upload(data=body, filename=filename)


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


def _decode_multipart(content_type: str, body: bytes, *, max_bytes: int) -> Upload:
    from python_multipart import MultipartParser
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise RequestError("multipart/form-data without a boundary")

    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    header_name = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        parts.append(({}, bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1][0][bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
        },
        max_size=max_bytes + 64 * 1024,
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        raise RequestError("the multipart/form-data body is malformed") from None

    for part_headers, data in parts:
        disposition = part_headers.get(b"content-disposition", b"").decode("latin-1")
        _, disp_options = parse_options_header(disposition)
        if disp_options.get(b"name") == b"file":
            return Upload(data=bytes(data), filename=_disposition_filename(disposition))
    raise RequestError("multipart/form-data upload without a 'file' field")
