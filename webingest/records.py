"""Crawls, their URLs, and batches, and how they map to table entities.

One table (``WEBINGEST_TABLE``), partitioned by kind:

``crawl`` / ``<crawl id>``
    The crawl: owner, request, status, how many page slots are taken
    (``reserved``, counted atomically against ``max_pages``), the outbox flag
    of its one ``crawl.completed``.
``u.<crawl id>`` / ``<url key>``
    One URL of the crawl (the key is a hash of the normalised URL, so
    inserting it is the atomic "seen" check). Its ``state`` goes new → queued →
    fetched → done; ``outcome`` says what happened (``fetched`` or a skip
    reason); ``duplicates``/``excluded``/``out_of_scope`` count the links of
    this page that were not followed, by reason.
``batch`` / ``<batch id>``
    The batch: owner, size, the outbox flag of its one ``batch.completed``.
``b.<batch id>`` / ``<item index>``
    One item of a batch: a file or URL, its document and status.
``bdoc`` / ``<document id>``
    Which batch (and item) a document belongs to, for completion events.
``host`` and ``robots``: see :mod:`webingest.politeness` and :mod:`webingest.robots`.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.clock import iso, optional_iso, optional_time, parse_time
from kernel.storage.ports import Row

CRAWL_PARTITION = "crawl"
BATCH_PARTITION = "batch"
BATCH_DOC_PARTITION = "bdoc"
_MAX_MS = 16**12 - 1


def new_id(prefix: str, now: datetime) -> str:
    """``prefix`` + an inverted millisecond timestamp + randomness (newest first)."""
    inverted = _MAX_MS - int(now.timestamp() * 1000)
    return f"{prefix}{inverted:012x}{secrets.token_hex(6)}"


def url_partition(crawl_id: str) -> str:
    return f"u.{crawl_id}"


def item_partition(batch_id: str) -> str:
    return f"b.{batch_id}"


class CrawlStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class UrlState(StrEnum):
    NEW = "new"
    QUEUED = "queued"
    FETCHED = "fetched"
    DONE = "done"


#: States of a URL the crawl still has to finish.
OPEN_STATES = (UrlState.NEW, UrlState.QUEUED, UrlState.FETCHED)
FETCHED = "fetched"


@dataclass(frozen=True, slots=True)
class CrawlRecord:
    id: str
    owner: str
    status: CrawlStatus
    url: str  # as given: what is fetched
    shown_url: str  # query secrets redacted: what is shown
    max_pages: int
    max_depth: int
    same_site: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    reserved: int = 0
    event_published: bool = False
    finished_at: datetime | None = None
    etag: str | None = None

    def replace(self, **changes: Any) -> CrawlRecord:
        return dataclasses.replace(self, **changes)

    @property
    def terminal(self) -> bool:
        return self.status is not CrawlStatus.RUNNING

    def to_row(self) -> Row:
        return {
            "PartitionKey": CRAWL_PARTITION,
            "RowKey": self.id,
            "owner": self.owner,
            "status": self.status.value,
            "url": self.url,
            "shown_url": self.shown_url,
            "max_pages": self.max_pages,
            "max_depth": self.max_depth,
            "same_site": self.same_site,
            "include": json.dumps(list(self.include)),
            "exclude": json.dumps(list(self.exclude)),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "reserved": self.reserved,
            "event_published": self.event_published,
            "finished_at": optional_iso(self.finished_at),
        }

    @classmethod
    def from_row(cls, row: Row) -> CrawlRecord:
        return cls(
            id=str(row["RowKey"]),
            owner=str(row["owner"]),
            status=CrawlStatus(row["status"]),
            url=str(row["url"]),
            shown_url=str(row["shown_url"]),
            max_pages=int(row["max_pages"]),
            max_depth=int(row["max_depth"]),
            same_site=bool(row["same_site"]),
            include=tuple(json.loads(row.get("include") or "[]")),
            exclude=tuple(json.loads(row.get("exclude") or "[]")),
            created_at=parse_time(row["created_at"]),
            updated_at=parse_time(row["updated_at"]),
            reserved=int(row.get("reserved") or 0),
            event_published=bool(row.get("event_published")),
            finished_at=optional_time(row.get("finished_at")),
            etag=row.get("etag"),
        )


@dataclass(frozen=True, slots=True)
class UrlRow:
    """One URL of a crawl."""

    crawl_id: str
    key: str
    url: str  # normalised
    depth: int
    state: UrlState
    parent: str = ""
    kind: str = "page"  # or "sitemap"
    outcome: str | None = None
    error: str | None = None
    document_id: str | None = None
    container: str | None = None
    blob_name: str | None = None
    slot: bool = False
    attempts: int = 0
    duplicates: int = 0
    excluded: int = 0
    out_of_scope: int = 0
    etag: str | None = None

    def replace(self, **changes: Any) -> UrlRow:
        return dataclasses.replace(self, **changes)

    def to_row(self) -> Row:
        return {
            "PartitionKey": url_partition(self.crawl_id),
            "RowKey": self.key,
            "url": self.url,
            "depth": self.depth,
            "state": self.state.value,
            "parent": self.parent,
            "kind": self.kind,
            "outcome": self.outcome,
            "error": self.error,
            "document_id": self.document_id,
            "container": self.container,
            "blob_name": self.blob_name,
            "slot": self.slot,
            "attempts": self.attempts,
            "duplicates": self.duplicates,
            "excluded": self.excluded,
            "out_of_scope": self.out_of_scope,
        }

    @classmethod
    def from_row(cls, crawl_id: str, row: Row) -> UrlRow:
        return cls(
            crawl_id=crawl_id,
            key=str(row["RowKey"]),
            url=str(row["url"]),
            depth=int(row["depth"]),
            state=UrlState(row["state"]),
            parent=str(row.get("parent") or ""),
            kind=str(row.get("kind") or "page"),
            outcome=row.get("outcome"),
            error=row.get("error"),
            document_id=row.get("document_id"),
            container=row.get("container"),
            blob_name=row.get("blob_name"),
            slot=bool(row.get("slot")),
            attempts=int(row.get("attempts") or 0),
            duplicates=int(row.get("duplicates") or 0),
            excluded=int(row.get("excluded") or 0),
            out_of_scope=int(row.get("out_of_scope") or 0),
            etag=row.get("etag"),
        )


@dataclass(frozen=True, slots=True)
class CrawlCounts:
    discovered: int = 0
    fetched: int = 0
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: list[UrlRow]) -> CrawlCounts:
        skipped: dict[str, int] = {}

        def add(reason: str, n: int = 1) -> None:
            if n:
                skipped[reason] = skipped.get(reason, 0) + n

        pages = [r for r in rows if r.kind == "page"]
        for row in rows:
            add("duplicate", row.duplicates)
            add("excluded", row.excluded)
            add("out_of_scope", row.out_of_scope)
            if row.kind == "page" and row.state is UrlState.DONE and row.outcome != FETCHED:
                add(row.outcome or "failed")
        return cls(
            discovered=len(pages),
            fetched=sum(1 for r in pages if r.outcome == FETCHED),
            queued=sum(1 for r in pages if r.state is not UrlState.DONE),
            skipped=dict(sorted(skipped.items())),
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "queued": self.queued,
            "skipped": sum(self.skipped.values()),
            "skipped_by_reason": self.skipped,
        }


class ItemStatus(StrEnum):
    PENDING = "pending"  # a URL not fetched yet
    ACCEPTED = "accepted"  # a document exists and is being processed
    COMPLETED = "completed"
    FAILED = "failed"  # the document failed processing
    REJECTED = "rejected"  # never became a document (bad item, fetch failed)

    @property
    def terminal(self) -> bool:
        return self in (ItemStatus.COMPLETED, ItemStatus.FAILED, ItemStatus.REJECTED)


@dataclass(frozen=True, slots=True)
class BatchItem:
    index: int
    kind: str  # "file" or "url"
    name: str  # file name or shown URL
    status: ItemStatus
    url: str | None = None  # what is fetched (URL items)
    document_id: str | None = None
    error: dict[str, str] | None = None
    etag: str | None = None

    def replace(self, **changes: Any) -> BatchItem:
        return dataclasses.replace(self, **changes)

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "index": self.index,
            "kind": self.kind,
            ("filename" if self.kind == "file" else "url"): self.name,
            "status": self.status.value,
            "document_id": self.document_id,
            "error": self.error,
        }
        if self.document_id:
            body["links"] = {"document": f"/api/documents/{self.document_id}"}
        return body

    def to_row(self, batch_id: str) -> Row:
        return {
            "PartitionKey": item_partition(batch_id),
            "RowKey": f"{self.index:05d}",
            "kind": self.kind,
            "name": self.name,
            "status": self.status.value,
            "url": self.url,
            "document_id": self.document_id,
            "error": json.dumps(self.error) if self.error else None,
        }

    @classmethod
    def from_row(cls, row: Row) -> BatchItem:
        return cls(
            index=int(row["RowKey"]),
            kind=str(row["kind"]),
            name=str(row["name"]),
            status=ItemStatus(row["status"]),
            url=row.get("url"),
            document_id=row.get("document_id"),
            error=json.loads(row["error"]) if row.get("error") else None,
            etag=row.get("etag"),
        )


@dataclass(frozen=True, slots=True)
class BatchRecord:
    id: str
    owner: str
    size: int
    created_at: datetime
    updated_at: datetime
    event_published: bool = False
    etag: str | None = None

    def replace(self, **changes: Any) -> BatchRecord:
        return dataclasses.replace(self, **changes)

    def to_row(self) -> Row:
        return {
            "PartitionKey": BATCH_PARTITION,
            "RowKey": self.id,
            "owner": self.owner,
            "size": self.size,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "event_published": self.event_published,
        }

    @classmethod
    def from_row(cls, row: Row) -> BatchRecord:
        return cls(
            id=str(row["RowKey"]),
            owner=str(row["owner"]),
            size=int(row["size"]),
            created_at=parse_time(row["created_at"]),
            updated_at=parse_time(row["updated_at"]),
            event_published=bool(row.get("event_published")),
            etag=row.get("etag"),
        )


def batch_view(batch: BatchRecord, items: list[BatchItem]) -> dict[str, Any]:
    """``GET /api/batches/{id}``: the batch, its counts by item status, its items."""
    counts = {status.value: 0 for status in ItemStatus}
    for item in items:
        counts[item.status.value] += 1
    done = all(item.status.terminal for item in items)
    return {
        "id": batch.id,
        "status": "completed" if done else "running",
        "created_at": iso(batch.created_at),
        "counts": {"items": len(items), **counts},
        "items": [item.to_api() for item in items],
        "links": {"self": f"/api/batches/{batch.id}"},
    }
