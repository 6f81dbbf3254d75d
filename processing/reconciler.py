"""Finding documents that stopped short of an announced outcome, and nudging them.

Run by a timer, every minute: with leases of a minute that a heartbeat renews,
a document whose holder died is announced again within about two minutes of
the crash. It covers the gaps at-least-once delivery leaves: an upload
stored but never announced (Event Grid was down), a document whose worker died
after Event Grid stopped retrying, and an outcome recorded but not published.

It also ends retention: documents created more than ``RESULTS_RETENTION_DAYS``
ago are deleted as ``DELETE /api/documents/{id}`` deletes them (bytes, result,
record, ``document.deleted``), a batch per run. In Azure a lifecycle rule on
the results container deletes old result blobs too; records are only ever
deleted here.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from kernel.clock import Clock, utcnow
from kernel.errors import ClaimLostError
from kernel.events.ports import EventPublisher
from processing.deletion import DeletionService
from processing.events import uploaded_event
from processing.processor import DocumentProcessor
from processing.records import DocumentRecord, Status
from processing.repository import DocumentRepository

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(
        self,
        *,
        documents: DocumentRepository,
        publisher: EventPublisher,
        processor: DocumentProcessor,
        older_than: timedelta,
        deletions: DeletionService | None = None,
        retention: timedelta | None = None,
        max_attempts: int = 5,
        batch: int = 500,
        clock: Clock = utcnow,
    ) -> None:
        self._max_attempts = max_attempts
        self._deletions = deletions
        self._retention = retention
        self._documents = documents
        self._publisher = publisher
        self._processor = processor
        self._older_than = older_than
        self._batch = batch
        self._clock = clock

    def run(self) -> dict[str, int]:
        """One pass; returns how many documents were nudged, by reason.

        A document whose attempts have run out is ended here (``failed``,
        ``attempts_exhausted``, with its one failed event) instead of being
        announced once more; terminal documents are never announced again.
        """
        now = self._clock()
        cutoff = now - self._older_than
        # A claim is stale as soon as its lease has run out: its holder renews it
        # while alive (a heartbeat), so an expired lease means the holder is gone.
        stalled = [r for r in self._find(Status.QUEUED) if r.updated_at <= cutoff] + [
            r
            for r in self._find(Status.PROCESSING)
            if r.lease_until is None or r.lease_until <= now
        ]
        exhausted = [r for r in stalled if r.attempts >= self._max_attempts]
        unannounced = [r for r in stalled if r.attempts < self._max_attempts]
        for record in exhausted:
            self._end(record)
        for record in unannounced:
            self._publisher.publish([uploaded_event(record, self._clock()).to_cloudevent()])
        unpublished = [
            r
            for status in (Status.COMPLETED, Status.FAILED)
            for r in self._find(status, event_published=False)
            if r.updated_at <= cutoff
        ]
        for record in unpublished:
            self._processor.announce(record)
        counts = {
            "uploads": len(unannounced),
            "exhausted": len(exhausted),
            "completions": len(unpublished),
            "expired": self._expire(now),
        }
        if any(counts.values()):
            log.info("reconciler.nudged", extra=counts)
        return counts

    def _expire(self, now: datetime) -> int:
        if self._deletions is None or self._retention is None:
            return 0
        expired = self._documents.created_before(now - self._retention, limit=self._batch)
        for record in expired:
            self._deletions.remove(record)
        return len(expired)

    def _end(self, record: DocumentRecord) -> None:
        # A late delivery may take it meanwhile (ClaimLostError); it ends it the same way.
        with contextlib.suppress(ClaimLostError):
            self._processor.announce(self._processor.exhaust(record))

    def _find(self, status: Status, *, event_published: bool | None = None) -> list[DocumentRecord]:
        return self._documents.recent(
            status=status, event_published=event_published, limit=self._batch
        )
