"""Reindex jobs: rebuild an owner's part of the index from the stored results.

``POST /api/search/reindex`` records a job and queues its first step; each
step (the ``reindex_documents`` queue trigger) indexes one page of completed
documents, whatever their fingerprint, saves the cursor and counts, and
queues the next step until the documents run out. ``GET
/api/search/reindex/{id}`` shows the progress. A step that fails is retried
by the queue (documents it already indexed are indexed again, which writes
the same chunks); on the queue's last try the job ends ``failed`` with the
error's code.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kernel.clock import Clock, iso
from kernel.errors import AppError, InvalidValueError, NotFoundError
from kernel.storage.ports import QueueStore, Row, TableStore
from search.documents import DocumentSource
from search.indexer import Indexer
from search.status import IndexState

JOB_PARTITION = "reindex"
#: Documents one step reads (each is indexed in full within the step).
STEP_DOCUMENTS = 20
#: The reindex queue's maxDequeueCount in host.json: a step's last try.
MAX_STEP_DEQUEUES = 5


@dataclass(frozen=True, slots=True)
class ReindexJob:
    id: str
    owner: str
    status: str  # running | completed | failed
    created_at: datetime
    updated_at: datetime
    cursor: str | None = None
    indexed: int = 0
    failed: int = 0
    error_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "indexed": self.indexed,
            "failed": self.failed,
            "error_code": self.error_code,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def to_row(self) -> Row:
        return {
            "PartitionKey": JOB_PARTITION,
            "RowKey": self.id,
            "owner": self.owner,
            "status": self.status,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "cursor": self.cursor,
            "indexed": self.indexed,
            "failed": self.failed,
            "error_code": self.error_code,
        }

    @classmethod
    def from_row(cls, row: Row) -> ReindexJob:
        return cls(
            id=str(row["RowKey"]),
            owner=str(row["owner"]),
            status=str(row["status"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            cursor=row.get("cursor"),
            indexed=int(row.get("indexed") or 0),
            failed=int(row.get("failed") or 0),
            error_code=row.get("error_code"),
        )


class ReindexService:
    def __init__(
        self,
        *,
        tables: TableStore,
        table: str,
        queues: QueueStore,
        queue: str,
        documents: DocumentSource,
        indexer: Indexer,
        clock: Clock,
    ) -> None:
        self._tables = tables
        self._table = table
        self._queues = queues
        self._queue = queue
        self._documents = documents
        self._indexer = indexer
        self._clock = clock

    def start(self, owner: str) -> ReindexJob:
        now = self._clock()
        job = ReindexJob(f"rx_{secrets.token_hex(8)}", owner, "running", now, now)
        self._tables.insert(self._table, job.to_row())
        self._queues.send(self._queue, json.dumps({"job": job.id}))
        return job

    def get(self, owner: str, job_id: str) -> ReindexJob:
        """The owner's job; NotFoundError for anyone else's or none."""
        try:
            job = ReindexJob.from_row(self._tables.get(self._table, JOB_PARTITION, job_id))
        except (NotFoundError, InvalidValueError):
            raise NotFoundError(f"no reindex job {job_id!r}") from None
        if job.owner != owner:
            raise NotFoundError(f"no reindex job {job_id!r}")
        return job

    def step(self, message: str, *, dequeue_count: int = 1) -> ReindexJob | None:
        """One page of the job named by ``message``; queues the next while any remain.

        A step that fails on the queue's last try ends the job ``failed``.
        """
        try:
            job_id = json.loads(message)["job"]
            job = ReindexJob.from_row(self._tables.get(self._table, JOB_PARTITION, str(job_id)))
        except (ValueError, KeyError, TypeError, NotFoundError):
            logging.getLogger(__name__).warning("search_reindex.unknown_job")
            return None
        if job.status != "running":
            return job
        try:
            return self._advance(job)
        except AppError as exc:
            if dequeue_count < MAX_STEP_DEQUEUES:
                raise
            failed = dataclasses.replace(
                job, status="failed", error_code=exc.code, updated_at=self._clock()
            )
            self._tables.upsert(self._table, failed.to_row())
            logging.getLogger(__name__).warning(
                "search_reindex.failed", extra={"job_id": job.id, "code": exc.code}
            )
            return failed

    def _advance(self, job: ReindexJob) -> ReindexJob:
        page = self._documents.completed(after=job.cursor, limit=STEP_DOCUMENTS)
        indexed = failed = 0
        for document in page:
            if document.owner != job.owner:
                continue
            status = self._indexer.index(document, force=True)
            if status.state is IndexState.INDEXED:
                indexed += 1
            else:
                failed += 1
        done = len(page) < STEP_DOCUMENTS
        job = dataclasses.replace(
            job,
            cursor=page[-1].id if page else job.cursor,
            indexed=job.indexed + indexed,
            failed=job.failed + failed,
            status="completed" if done else "running",
            updated_at=self._clock(),
        )
        self._tables.upsert(self._table, job.to_row())
        if not done:
            self._queues.send(self._queue, json.dumps({"job": job.id}))
        return job
