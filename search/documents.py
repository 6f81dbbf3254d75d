"""What search reads of the document workflow: its events, records and stored results.

Search never imports the workflow's code (capabilities meet through
:mod:`kernel.events.catalog` and stored data): it reads the documents table
(``PartitionKey="doc"``, one row per document, as ``processing.repository``
lays it out) and the result blob through the kernel's stores, and decodes the
result with :func:`processing.extraction.result.result_from_dict`, the
published result schema's own checker (the one import of the workflow's
package allowed, in ``pyproject.toml``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kernel.errors import InvalidEventError, NotFoundError
from kernel.events.cloudevents import InboundEvent
from kernel.storage.ports import BlobStore, Row, TableStore
from processing.extraction.result import InvalidResultError, ProcessingResult, result_from_dict
from search.errors import UnindexableResultError
from search.owners import document_owner
from search.requests import DOCUMENT_ID

#: The documents table's partition of status records (``processing.records.DOC_PARTITION``).
DOC_PARTITION = "doc"
COMPLETED = "completed"
#: A stored result larger than this is not read (the workflow caps text far below it).
MAX_RESULT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DocumentEvent:
    """``document.processing.completed`` or ``document.deleted``: which document, and
    the event's data (which may name the owner)."""

    document_id: str
    data: Mapping[str, Any]

    @classmethod
    def from_event(cls, event: InboundEvent) -> DocumentEvent:
        data = event.data_object()
        document_id = data.get("document_id")
        if not isinstance(document_id, str) or not DOCUMENT_ID.match(document_id):
            raise InvalidEventError(f"{event.type} event without a document id")
        return cls(document_id=document_id, data=data)


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document as its record describes it."""

    id: str
    owner: str
    status: str
    filename: str | None
    content_type: str | None
    created_at: datetime | None
    result_blob: str | None

    @classmethod
    def from_row(cls, row: Row, event_data: Mapping[str, Any] | None = None) -> StoredDocument:
        created = row.get("created_at")
        created_at = datetime.fromisoformat(created) if isinstance(created, str) else None
        if created_at is not None and created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        return cls(
            id=str(row["RowKey"]),
            owner=document_owner(row, event_data),
            status=str(row.get("status") or ""),
            filename=row.get("filename"),
            content_type=row.get("content_type"),
            created_at=created_at,
            result_blob=row.get("result_blob"),
        )


class DocumentSource:
    """Read-only access to the workflow's records and results."""

    def __init__(
        self, tables: TableStore, blobs: BlobStore, *, table: str, results_container: str
    ) -> None:
        self._tables = tables
        self._blobs = blobs
        self._table = table
        self._results = results_container

    def get(self, document_id: str, event_data: Mapping[str, Any] | None = None) -> StoredDocument:
        """The document's record; NotFoundError when there is none."""
        row = self._tables.get(self._table, DOC_PARTITION, document_id)
        return StoredDocument.from_row(row, event_data)

    def completed(self, *, after: str | None, limit: int) -> list[StoredDocument]:
        """Completed documents in id order (newest first), after ``after``."""
        rows = self._tables.query(
            self._table,
            DOC_PARTITION,
            equals={"status": COMPLETED},
            row_key_after=after,
            limit=limit,
        )
        return [StoredDocument.from_row(row) for row in rows]

    def result(self, document: StoredDocument) -> ProcessingResult:
        """The stored result; NotFoundError when it is gone, UnindexableResultError when
        it is not a result this version reads."""
        if document.status != COMPLETED or not document.result_blob:
            raise NotFoundError(f"document {document.id} has no stored result")
        data = self._blobs.get(self._results, document.result_blob, max_bytes=MAX_RESULT_BYTES)
        try:
            return result_from_dict(json.loads(data))
        except (ValueError, InvalidResultError) as exc:
            raise UnindexableResultError(f"the stored result is not readable: {exc}") from None
