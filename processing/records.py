"""Document status records and their repository on a :class:`TableStore`.

Layout of the documents table:

- ``PartitionKey="doc"``, ``RowKey=<document id>``: one status record per
  document. Ids start with an inverted timestamp, so RowKey order is newest
  first and listing is a single ordered range query.
- ``PartitionKey="blob"``, ``RowKey=<hash of container/name@etag>``: which
  document a dropped blob version became (the idempotency claim for BlobCreated).
- ``PartitionKey="cache"``, ``RowKey=<sha256>-<pipeline version>``: where the
  result for identical bytes is stored (the content cache).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from processing.extraction.result import PIPELINE_VERSION
from processing.ports import ConflictError, Entity, NotFoundError, TableStore

DOC_PARTITION = "doc"
BLOB_PARTITION = "blob"
CACHE_PARTITION = "cache"

_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")
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


def new_document_id(now: datetime) -> str:
    """24 hex digits: an inverted millisecond timestamp, then randomness.

    Newer documents sort first, which makes "recent documents" one ordered query.
    """
    inverted = _MAX_MS - int(now.timestamp() * 1000)
    return f"{inverted:012x}{secrets.token_hex(6)}"


def is_document_id(value: str) -> bool:
    return bool(_ID_PATTERN.match(value))


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
    etag: str | None = None

    def replace(self, **changes: Any) -> DocumentRecord:
        return dataclasses.replace(self, **changes)

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
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "error": (
                {"code": self.error_code, "message": self.error_message or ""}
                if self.error_code
                else None
            ),
        }

    def to_entity(self) -> Entity:
        return {
            "PartitionKey": DOC_PARTITION,
            "RowKey": self.id,
            "status": self.status.value,
            "source": self.source.value,
            "filename": self.filename,
            "container": self.container,
            "blob_name": self.blob_name,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "result_blob": self.result_blob,
            "lease_until": _iso(self.lease_until) if self.lease_until else None,
            "attempts": self.attempts,
            "event_published": self.event_published,
            "traceparent": self.traceparent,
        }

    @classmethod
    def from_entity(cls, entity: Entity) -> DocumentRecord:
        lease = entity.get("lease_until")
        return cls(
            id=str(entity["RowKey"]),
            status=Status(entity["status"]),
            source=Source(entity["source"]),
            filename=entity.get("filename"),
            container=str(entity["container"]),
            blob_name=str(entity["blob_name"]),
            created_at=datetime.fromisoformat(entity["created_at"]),
            updated_at=datetime.fromisoformat(entity["updated_at"]),
            content_type=entity.get("content_type"),
            size_bytes=_optional_int(entity.get("size_bytes")),
            sha256=entity.get("sha256"),
            error_code=entity.get("error_code"),
            error_message=entity.get("error_message"),
            result_blob=entity.get("result_blob"),
            lease_until=datetime.fromisoformat(lease) if lease else None,
            attempts=int(entity.get("attempts") or 0),
            event_published=bool(entity.get("event_published")),
            traceparent=entity.get("traceparent"),
            etag=entity.get("etag"),
        )


class DocumentRepository:
    """Reads and writes document records with optimistic concurrency."""

    def __init__(self, tables: TableStore, table: str) -> None:
        self._tables = tables
        self._table = table

    def add(self, record: DocumentRecord) -> DocumentRecord:
        etag = self._tables.insert(self._table, record.to_entity())
        return record.replace(etag=etag)

    def get(self, document_id: str) -> DocumentRecord:
        """The record; NotFoundError for unknown (or malformed) ids."""
        if not is_document_id(document_id):
            raise NotFoundError(f"no document {document_id!r}")
        return DocumentRecord.from_entity(self._tables.get(self._table, DOC_PARTITION, document_id))

    def save(self, record: DocumentRecord) -> DocumentRecord:
        """Write ``record`` if nobody changed it since it was read (ConflictError otherwise)."""
        if record.etag is None:
            raise ValueError("save needs a record read from the repository")
        etag = self._tables.update(self._table, record.to_entity(), etag=record.etag)
        return record.replace(etag=etag)

    def recent(
        self,
        *,
        status: Status | None = None,
        event_published: bool | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[DocumentRecord]:
        """Newest first; ``after`` is the last id of the previous page."""
        equals: dict[str, str | int | bool] = {}
        if status is not None:
            equals["status"] = status.value
        if event_published is not None:
            equals["event_published"] = event_published
        entities = self._tables.query(
            self._table,
            DOC_PARTITION,
            equals=equals or None,
            row_key_after=after,
            limit=limit,
        )
        return [DocumentRecord.from_entity(e) for e in entities]

    def claim_blob(self, container: str, name: str, etag: str, document_id: str) -> str:
        """Map a blob version to a document id, first writer wins; returns the winner."""
        key = hashlib.sha256(f"{container}/{name}@{etag}".encode()).hexdigest()[:40]
        try:
            self._tables.insert(
                self._table,
                {"PartitionKey": BLOB_PARTITION, "RowKey": key, "document_id": document_id},
            )
        except ConflictError:
            existing = self._tables.get(self._table, BLOB_PARTITION, key)
            return str(existing["document_id"])
        return document_id

    def cached_result(self, sha256: str) -> str | None:
        """The result blob of an earlier document with the same bytes, if any."""
        try:
            entity = self._tables.get(self._table, CACHE_PARTITION, _cache_key(sha256))
        except NotFoundError:
            return None
        return str(entity["result_blob"])

    def cache_result(self, sha256: str, result_blob: str) -> None:
        self._tables.upsert(
            self._table,
            {
                "PartitionKey": CACHE_PARTITION,
                "RowKey": _cache_key(sha256),
                "result_blob": result_blob,
            },
        )


def _cache_key(sha256: str) -> str:
    return f"{sha256}-{PIPELINE_VERSION}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
