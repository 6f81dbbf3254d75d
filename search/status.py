"""Per-document index status records, beside the reindex jobs, in one table.

Layout of the search status table (``SEARCH_STATUS_TABLE``):

- ``PartitionKey="doc"``, ``RowKey=<document id>``: the document's index
  status (``indexing``, ``indexed``, ``indexing_failed``), how many chunks
  (and how many with vectors) it has, and the fingerprint of what indexed it
  (pipeline version, chunking, embedding model): a redelivered event with the
  same fingerprint writes nothing.
- ``PartitionKey="reindex"``, ``RowKey=<job id>``: a reindex job's progress
  (:mod:`search.reindex`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.clock import iso
from kernel.errors import NotFoundError
from kernel.storage.ports import Row, TableStore

STATUS_PARTITION = "doc"
MAX_ERROR_CHARS = 500


class IndexState(StrEnum):
    INDEXING = "indexing"
    INDEXED = "indexed"
    FAILED = "indexing_failed"


@dataclass(frozen=True, slots=True)
class IndexStatus:
    document_id: str
    owner: str
    state: IndexState
    updated_at: datetime
    fingerprint: str = ""
    chunks: int = 0
    embedded_chunks: int = 0
    error_code: str | None = None
    error_message: str | None = None

    def replace(self, **changes: Any) -> IndexStatus:
        return dataclasses.replace(self, **changes)

    def to_api(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "index_status": self.state.value,
            "chunks": self.chunks,
            "embedded_chunks": self.embedded_chunks,
            "updated_at": iso(self.updated_at),
            "error": (
                {"code": self.error_code, "message": self.error_message or ""}
                if self.error_code
                else None
            ),
        }

    def to_row(self) -> Row:
        return {
            "PartitionKey": STATUS_PARTITION,
            "RowKey": self.document_id,
            "owner": self.owner,
            "state": self.state.value,
            "updated_at": iso(self.updated_at),
            "fingerprint": self.fingerprint,
            "chunks": self.chunks,
            "embedded_chunks": self.embedded_chunks,
            "error_code": self.error_code,
            "error_message": (self.error_message or "")[:MAX_ERROR_CHARS] or None,
        }

    @classmethod
    def from_row(cls, row: Row) -> IndexStatus:
        return cls(
            document_id=str(row["RowKey"]),
            owner=str(row["owner"]),
            state=IndexState(row["state"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            fingerprint=str(row.get("fingerprint") or ""),
            chunks=int(row.get("chunks") or 0),
            embedded_chunks=int(row.get("embedded_chunks") or 0),
            error_code=row.get("error_code"),
            error_message=row.get("error_message"),
        )


class StatusRepository:
    def __init__(self, tables: TableStore, table: str) -> None:
        self._tables = tables
        self._table = table

    def get(self, document_id: str) -> IndexStatus | None:
        try:
            row = self._tables.get(self._table, STATUS_PARTITION, document_id)
        except NotFoundError:
            return None
        return IndexStatus.from_row(row)

    def save(self, status: IndexStatus) -> IndexStatus:
        self._tables.upsert(self._table, status.to_row())
        return status

    def delete(self, document_id: str) -> None:
        self._tables.delete(self._table, STATUS_PARTITION, document_id)
