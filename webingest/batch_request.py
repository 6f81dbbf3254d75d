"""Decoding ``POST /api/batch``: multipart with many ``file`` parts, or JSON
``{"urls": [...]}``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kernel.http.bodies import json_object
from processing.upload_request import decode_file_parts
from webingest.batch import BatchService
from webingest.errors import BatchTooLargeError, InvalidBatchError

#: Room for multipart boundaries and part headers beside the files.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def decode_batch(
    headers: Mapping[str, str],
    read_body: Callable[[], bytes],
    service: BatchService,
    *,
    owner: str,
    traceparent: str | None = None,
) -> dict[str, Any]:
    content_type = _header(headers, "content-type")
    allowed = service.max_bytes + MULTIPART_OVERHEAD_BYTES
    declared = _header(headers, "content-length").strip()
    if declared.isdigit() and int(declared) > allowed:
        raise BatchTooLargeError(f"a batch holds at most {service.max_bytes} bytes of files")
    body = read_body()
    if len(body) > allowed:
        raise BatchTooLargeError(f"a batch holds at most {service.max_bytes} bytes of files")
    if content_type.lower().startswith("multipart/form-data"):
        files = decode_file_parts(content_type, body)
        return service.create_files(files, owner=owner, traceparent=traceparent)
    doc = json_object(body, example='{"urls": ["https://..."]}')
    urls = doc.get("urls")
    if not isinstance(urls, list):
        raise InvalidBatchError(
            'send multipart/form-data with "file" parts, or JSON {"urls": [...]}'
        )
    return service.create_urls(urls, owner=owner)


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""
