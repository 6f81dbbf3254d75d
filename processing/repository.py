"""Document records on a :class:`~kernel.storage.ports.TableStore`.

Layout of the documents table:

- ``PartitionKey="doc"``, ``RowKey=<document id>``: one status record per
  document. Ids start with an inverted timestamp, so RowKey order is newest
  first and listing is a single ordered range query.
- ``PartitionKey="blob"``, ``RowKey=<hash of container/name@etag>``: which
  document a dropped blob version became (the idempotency claim for BlobCreated).
- ``PartitionKey="cache"``, ``RowKey=<sha256>-<pipeline version>[-<variant>]``:
  where the result for identical bytes is stored (the content cache); the
  variant is the enrichment settings' fingerprint when cloud providers or
  spaCy are configured, so changing them never serves a stale result.
- ``PartitionKey="owners"``, ``RowKey=<owner>``: how many documents the owner
  stores (``documents``), counted up before a document is stored and down when
  it is deleted, under ETag concurrency: the ``DOCUMENTS_MAX_PER_OWNER`` check
  reads one row instead of counting the owner's records.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from datetime import datetime

from kernel.errors import ConflictError, NotFoundError
from kernel.identity import Reach
from kernel.storage.ports import TableStore
from processing.errors import DocumentQuotaError
from processing.extraction.result import PIPELINE_VERSION
from processing.records import (
    DOC_PARTITION,
    DocumentRecord,
    Status,
    created_before_key,
    is_document_id,
)

BLOB_PARTITION = "blob"
CACHE_PARTITION = "cache"
OWNER_PARTITION = "owners"
#: Rounds of read-and-replace a counter change tries before giving up (409).
_COUNTER_ROUNDS = 20


class DocumentRepository:
    """Reads and writes document records with optimistic concurrency."""

    def __init__(self, tables: TableStore, table: str, *, cache_variant: str = "") -> None:
        self._tables = tables
        self._table = table
        self._cache_variant = cache_variant

    def add(self, record: DocumentRecord) -> DocumentRecord:
        etag = self._tables.insert(self._table, record.to_row())
        return record.replace(etag=etag)

    def get(self, document_id: str, *, reach: Reach | None = None) -> DocumentRecord:
        """The record; NotFoundError for unknown (or malformed) ids and, when
        ``reach`` is given, for a document outside it, exactly as for an
        unknown id (the caller learns nothing of what is not theirs)."""
        if not is_document_id(document_id):
            raise NotFoundError(f"no document {document_id!r}")
        record = DocumentRecord.from_row(self._tables.get(self._table, DOC_PARTITION, document_id))
        if reach is not None and not reach.admits(record.owner):
            raise NotFoundError(f"no document {document_id!r}")
        return record

    def save(self, record: DocumentRecord) -> DocumentRecord:
        """Write ``record`` if nobody changed it since it was read (ConflictError otherwise)."""
        if record.etag is None:
            raise ValueError("save needs a record read from the repository")
        etag = self._tables.update(self._table, record.to_row(), etag=record.etag)
        return record.replace(etag=etag)

    def recent(
        self,
        *,
        status: Status | None = None,
        event_published: bool | None = None,
        reach: Reach | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[DocumentRecord]:
        """Newest first; ``after`` is the last id of the previous page; only
        those within ``reach`` when given (filtered by the storage query itself)."""
        equals: dict[str, str | int | bool] = {}
        if reach is not None:
            equals.update(reach.where)
        if status is not None:
            equals["status"] = status.value
        if event_published is not None:
            equals["event_published"] = event_published
        rows = self._tables.query(
            self._table,
            DOC_PARTITION,
            equals=equals or None,
            row_key_after=after,
            limit=limit,
        )
        return [DocumentRecord.from_row(row) for row in rows]

    def created_before(self, moment: datetime, *, limit: int) -> list[DocumentRecord]:
        """Documents created before ``moment``, newest of them first (one range query)."""
        rows = self._tables.query(
            self._table, DOC_PARTITION, row_key_after=created_before_key(moment), limit=limit
        )
        return [DocumentRecord.from_row(row) for row in rows]

    def reserve(self, owner: str, limit: int = 0) -> None:
        """Count one more document for ``owner``, before it is stored;
        DocumentQuotaError (nothing counted) when ``limit`` is set and reached."""
        for _ in range(_COUNTER_ROUNDS):
            try:
                row = self._tables.get(self._table, OWNER_PARTITION, owner)
            except NotFoundError:
                row = None
            count = int(row["documents"]) if row else 0
            if limit and count >= limit:
                raise DocumentQuotaError(
                    f"at most {limit} documents per owner may be stored; delete some first"
                )
            counter = {"PartitionKey": OWNER_PARTITION, "RowKey": owner, "documents": count + 1}
            try:
                if row is None:
                    self._tables.insert(self._table, counter)
                else:
                    self._tables.update(self._table, counter, etag=row["etag"])
            except ConflictError:
                continue  # another upload of this owner counted meanwhile
            return
        raise ConflictError("too many concurrent uploads for one owner; retry")

    def release(self, owner: str) -> None:
        """Count one document fewer for ``owner`` (deleted, or never stored)."""
        for _ in range(_COUNTER_ROUNDS):
            try:
                row = self._tables.get(self._table, OWNER_PARTITION, owner)
            except NotFoundError:
                return
            counter = {
                "PartitionKey": OWNER_PARTITION,
                "RowKey": owner,
                "documents": max(int(row["documents"]) - 1, 0),
            }
            try:
                self._tables.update(self._table, counter, etag=row["etag"])
            except NotFoundError:
                return
            except ConflictError:
                continue
            return
        raise ConflictError("too many concurrent changes for one owner; retry")

    def stored(self, owner: str) -> int:
        """How many documents ``owner`` stores, by its counter."""
        try:
            return int(self._tables.get(self._table, OWNER_PARTITION, owner)["documents"])
        except NotFoundError:
            return 0

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
            row = self._tables.get(
                self._table, CACHE_PARTITION, _cache_key(sha256, self._cache_variant)
            )
        except NotFoundError:
            return None
        return str(row["result_blob"])

    def result_users(self, result_blob: str) -> list[str]:
        """Ids of the documents whose record points at ``result_blob`` (the
        content cache lets documents with the same bytes share one)."""
        rows = self._tables.query(self._table, DOC_PARTITION, equals={"result_blob": result_blob})
        return [str(row["RowKey"]) for row in rows]

    def forget_cached(self, sha256: str, result_blob: str) -> None:
        """Drop the content-cache entry for ``sha256`` if it points at
        ``result_blob`` (an entry naming another document's result stays)."""
        key = _cache_key(sha256, self._cache_variant)
        try:
            row = self._tables.get(self._table, CACHE_PARTITION, key)
        except NotFoundError:
            return
        if row.get("result_blob") == result_blob:
            with suppress(NotFoundError):
                self._tables.delete(self._table, CACHE_PARTITION, key)

    def delete(self, record: DocumentRecord) -> None:
        with suppress(NotFoundError):
            self._tables.delete(self._table, DOC_PARTITION, record.id)

    def cache_result(self, sha256: str, result_blob: str) -> None:
        self._tables.upsert(
            self._table,
            {
                "PartitionKey": CACHE_PARTITION,
                "RowKey": _cache_key(sha256, self._cache_variant),
                "result_blob": result_blob,
            },
        )


def _cache_key(sha256: str, variant: str = "") -> str:
    key = f"{sha256}-{PIPELINE_VERSION}"
    return f"{key}-{variant}" if variant else key
