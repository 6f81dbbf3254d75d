"""Web ingestion's rows in the table store (layout in :mod:`webingest.records`).

Every read of a crawl or batch is by owner: another owner's is not found.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kernel.errors import ConflictError, NotFoundError
from kernel.identity import Reach
from kernel.storage.ports import TableStore
from webingest.records import (
    BATCH_DOC_PARTITION,
    BATCH_PARTITION,
    CRAWL_PARTITION,
    OPEN_STATES,
    BatchItem,
    BatchRecord,
    CrawlRecord,
    UrlRow,
    item_partition,
    url_partition,
)

_ATTEMPTS = 50
#: ``crawl_`` or ``batch_`` and 24 hex digits (:func:`webingest.records.new_id`).
_ID = re.compile(r"^(?:crawl|batch)_[0-9a-f]{24}$")


class WebIngestRepository:
    def __init__(self, tables: TableStore, table: str) -> None:
        self._tables = tables
        self._table = table

    # Crawls

    def add_crawl(self, crawl: CrawlRecord) -> CrawlRecord:
        etag = self._tables.insert(self._table, crawl.to_row())
        return crawl.replace(etag=etag)

    def crawl(self, crawl_id: str, reach: Reach | None = None) -> CrawlRecord:
        """The crawl; NotFoundError when absent or (with ``reach``) outside it."""
        if not _ID.match(crawl_id):
            raise NotFoundError(f"no crawl {crawl_id!r}")
        try:
            crawl = CrawlRecord.from_row(self._tables.get(self._table, CRAWL_PARTITION, crawl_id))
        except NotFoundError:
            raise NotFoundError(f"no crawl {crawl_id!r}") from None
        if reach is not None and not reach.admits(crawl.owner):
            raise NotFoundError(f"no crawl {crawl_id!r}")
        return crawl

    def crawls(self, owner: str, *, after: str | None, limit: int) -> list[CrawlRecord]:
        rows = self._tables.query(
            self._table, CRAWL_PARTITION, equals={"owner": owner}, row_key_after=after, limit=limit
        )
        return [CrawlRecord.from_row(row) for row in rows]

    def change_crawl(
        self, crawl_id: str, change: Callable[[CrawlRecord], CrawlRecord | None]
    ) -> CrawlRecord:
        """Apply ``change`` to the latest crawl row until it sticks (ETag-guarded);
        ``change`` returning None leaves the row as it is."""
        for _ in range(_ATTEMPTS):
            current = self.crawl(crawl_id)
            changed = change(current)
            if changed is None:
                return current
            try:
                etag = self._tables.update(self._table, changed.to_row(), etag=str(current.etag))
                return changed.replace(etag=etag)
            except ConflictError:
                continue
        raise ConflictError("the crawl is changing too often to update")

    # A crawl's URLs

    def add_url(self, row: UrlRow) -> UrlRow | None:
        """Insert ``row``; None when the crawl has seen its URL already."""
        try:
            return row.replace(etag=self._tables.insert(self._table, row.to_row()))
        except ConflictError:
            return None

    def url(self, crawl_id: str, key: str) -> UrlRow:
        return UrlRow.from_row(
            crawl_id, self._tables.get(self._table, url_partition(crawl_id), key)
        )

    def save_url(self, row: UrlRow) -> UrlRow:
        """Replace ``row`` if unchanged since read; ConflictError otherwise."""
        return row.replace(etag=self._tables.update(self._table, row.to_row(), etag=str(row.etag)))

    def urls(self, crawl_id: str) -> list[UrlRow]:
        rows = self._tables.query(self._table, url_partition(crawl_id))
        return [UrlRow.from_row(crawl_id, row) for row in rows]

    def children(self, crawl_id: str, parent: str) -> list[UrlRow]:
        rows = self._tables.query(self._table, url_partition(crawl_id), equals={"parent": parent})
        return [UrlRow.from_row(crawl_id, row) for row in rows]

    def has_open_urls(self, crawl_id: str) -> bool:
        partition = url_partition(crawl_id)
        return any(
            self._tables.query(self._table, partition, equals={"state": state.value}, limit=1)
            for state in OPEN_STATES
        )

    # Batches

    def add_batch(self, batch: BatchRecord, items: list[BatchItem]) -> BatchRecord:
        for item in items:
            self._tables.upsert(self._table, item.to_row(batch.id))
            if item.document_id:
                self.link_document(item.document_id, batch.id, item.index)
        return batch.replace(etag=self._tables.insert(self._table, batch.to_row()))

    def batch(self, batch_id: str, reach: Reach | None = None) -> BatchRecord:
        if not _ID.match(batch_id):
            raise NotFoundError(f"no batch {batch_id!r}")
        try:
            batch = BatchRecord.from_row(self._tables.get(self._table, BATCH_PARTITION, batch_id))
        except NotFoundError:
            raise NotFoundError(f"no batch {batch_id!r}") from None
        if reach is not None and not reach.admits(batch.owner):
            raise NotFoundError(f"no batch {batch_id!r}")
        return batch

    def save_batch(self, batch: BatchRecord) -> BatchRecord:
        etag = self._tables.update(self._table, batch.to_row(), etag=str(batch.etag))
        return batch.replace(etag=etag)

    def items(self, batch_id: str) -> list[BatchItem]:
        rows = self._tables.query(self._table, item_partition(batch_id))
        return [BatchItem.from_row(row) for row in rows]

    def item(self, batch_id: str, index: int) -> BatchItem:
        return BatchItem.from_row(
            self._tables.get(self._table, item_partition(batch_id), f"{index:05d}")
        )

    def save_item(self, batch_id: str, item: BatchItem) -> BatchItem:
        etag = self._tables.update(self._table, item.to_row(batch_id), etag=str(item.etag))
        return item.replace(etag=etag)

    def link_document(self, document_id: str, batch_id: str, index: int) -> None:
        self._tables.upsert(
            self._table,
            {
                "PartitionKey": BATCH_DOC_PARTITION,
                "RowKey": document_id,
                "batch_id": batch_id,
                "index": index,
            },
        )

    def batch_of(self, document_id: str) -> tuple[str, int] | None:
        try:
            row = self._tables.get(self._table, BATCH_DOC_PARTITION, document_id)
        except NotFoundError:
            return None
        return str(row["batch_id"]), int(row["index"])
