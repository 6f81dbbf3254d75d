"""Document status records: what the workflow knows of each document, and
how a record maps to a table row (the table's layout is in
:mod:`processing.repository`)."""

from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.clock import iso
from kernel.identity import LOCAL_OWNER, tenant_of
from kernel.storage.ports import Row
from processing.errors import NotFinishedError

DOC_PARTITION = "doc"

_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")
#: Stored error messages are cut to this many characters (codes stay exact).
MAX_ERROR_MESSAGE_CHARS = 1000
_MAX_MS = 16**12 - 1


class Status(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED)


class Source(StrEnum):
    UPLOAD = "upload"
    BLOB = "blob"
    URL = "url"


def new_document_id(now: datetime) -> str:
    """24 hex digits: an inverted millisecond timestamp, then randomness.

    Newer documents sort first, which makes "recent documents" one ordered query.
    """
    inverted = _MAX_MS - int(now.timestamp() * 1000)
    return f"{inverted:012x}{secrets.token_hex(6)}"


def created_before_key(moment: datetime) -> str:
    """A RowKey after every id of a document created before ``moment`` and before
    every later one (ids invert their creation time, so older sorts later)."""
    inverted = _MAX_MS - int(moment.timestamp() * 1000)
    return f"{inverted:012x}{'f' * 12}"


def bounded_message(message: str, limit: int = MAX_ERROR_MESSAGE_CHARS) -> str:
    """``message`` cut to ``limit`` characters, the cut marked with an ellipsis."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


_OWNER_SEGMENT = re.compile(r"^[A-Za-z0-9._:-]{1,256}$")


def inbox_owner(blob_name: str, *, owner_folders: bool, default: str = LOCAL_OWNER) -> str:
    """Who owns a document dropped into the inbox. With ``owner_folders``
    (token authentication on: several owners exist) the first folder of its
    name (``<owner>/report.pdf``); otherwise, and for a name without a folder,
    ``default`` (``INBOX_DEFAULT_OWNER``). Writing to the inbox is granted by
    storage roles, not by the API, so the folder is trusted as the operator's
    statement of ownership."""
    first, separator, _ = blob_name.partition("/")
    if owner_folders and separator and _OWNER_SEGMENT.match(first):
        return first
    return default if owner_folders else LOCAL_OWNER


def is_owner_id(value: str) -> bool:
    """Whether ``value`` can name an owner (and so an inbox folder)."""
    return bool(_OWNER_SEGMENT.match(value))


def is_document_id(value: str) -> bool:
    return bool(_ID_PATTERN.match(value))


@dataclass(frozen=True, slots=True)
class WebSource:
    """Where a fetched page came from, as shown (query secrets redacted)."""

    source_url: str
    final_url: str
    fetched_at: datetime
    http_status: int


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    id: str
    status: Status
    source: Source
    filename: str | None
    container: str
    blob_name: str
    created_at: datetime
    updated_at: datetime
    content_type: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    result_blob: str | None = None
    lease_until: datetime | None = None
    attempts: int = 0
    #: Whether this outcome's completion event has been published (outbox flag).
    event_published: bool = False
    traceparent: str | None = None
    #: Whose document this is (kernel.identity): every read is filtered by it.
    owner: str = LOCAL_OWNER
    etag: str | None = None
    #: A fetched page (``source`` url): the URL asked for and the one the bytes
    #: came from after redirects, both with query secrets redacted; when and
    #: with which status it was fetched.
    source_url: str | None = None
    final_url: str | None = None
    fetched_at: datetime | None = None
    http_status: int | None = None

    def replace(self, **changes: Any) -> DocumentRecord:
        return dataclasses.replace(self, **changes)

    def require_result(self) -> str:
        """The result blob's name; NotFinishedError unless the document completed."""
        if self.status is not Status.COMPLETED or self.result_blob is None:
            raise NotFinishedError(f"the document is {self.status.value}, not completed")
        return self.result_blob

    def to_api(self) -> dict[str, Any]:
        """The public status representation (``GET /api/documents/{id}``)."""
        return {
            "id": self.id,
            "status": self.status.value,
            "filename": self.filename,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "source": self.source.value,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "error": (
                {"code": self.error_code, "message": self.error_message or ""}
                if self.error_code
                else None
            ),
            **self.web_source(),
        }

    def web_source(self) -> dict[str, Any]:
        """Where a fetched page came from (empty for uploads and dropped blobs)."""
        if self.source is not Source.URL:
            return {}
        return {
            "source_url": self.source_url,
            "final_url": self.final_url,
            "fetched_at": iso(self.fetched_at) if self.fetched_at else None,
            "http_status": self.http_status,
        }

    def to_row(self) -> Row:
        return {
            "PartitionKey": DOC_PARTITION,
            "RowKey": self.id,
            "status": self.status.value,
            "source": self.source.value,
            "filename": self.filename,
            "container": self.container,
            "blob_name": self.blob_name,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "result_blob": self.result_blob,
            "lease_until": iso(self.lease_until) if self.lease_until else None,
            "attempts": self.attempts,
            "event_published": self.event_published,
            "traceparent": self.traceparent,
            "owner": self.owner,
            "tenant": tenant_of(self.owner),
            "source_url": self.source_url,
            "final_url": self.final_url,
            "fetched_at": iso(self.fetched_at) if self.fetched_at else None,
            "http_status": self.http_status,
        }

    @classmethod
    def from_row(cls, row: Row) -> DocumentRecord:
        lease = row.get("lease_until")
        return cls(
            id=str(row["RowKey"]),
            status=Status(row["status"]),
            source=Source(row["source"]),
            filename=row.get("filename"),
            container=str(row["container"]),
            blob_name=str(row["blob_name"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            content_type=row.get("content_type"),
            size_bytes=_optional_int(row.get("size_bytes")),
            sha256=row.get("sha256"),
            error_code=row.get("error_code"),
            error_message=row.get("error_message"),
            result_blob=row.get("result_blob"),
            lease_until=datetime.fromisoformat(lease) if lease else None,
            attempts=int(row.get("attempts") or 0),
            event_published=bool(row.get("event_published")),
            traceparent=row.get("traceparent"),
            # Records written before owners existed are the local owner's.
            owner=str(row.get("owner") or LOCAL_OWNER),
            etag=row.get("etag"),
            source_url=row.get("source_url"),
            final_url=row.get("final_url"),
            fetched_at=_optional_time(row.get("fetched_at")),
            http_status=_optional_int(row.get("http_status")),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
