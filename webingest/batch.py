"""Batches: many files, or many URLs (each fetched like a scrape), in one request.

Items are judged one by one: a bad item is rejected in the answer and the
good ones go on. A file item becomes a document at once; a URL item is
checked against the SSRF policy at once and fetched by the frontier worker.
An item is terminal once its document is (completed or failed) or once it is
rejected; ``batch.completed`` is published when every item is.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from kernel.clock import Clock
from kernel.egress.addresses import AddressPolicy, UrlRejectedError
from kernel.egress.fetch import FetchError
from kernel.errors import AppError, ConflictError, DependencyError, NotFoundError
from kernel.events.ports import EventPublisher
from kernel.logcontext import bind
from processing.extraction.errors import DocumentError
from processing.upload_request import Upload
from webingest.errors import BatchTooLargeError, InvalidBatchError, UpstreamStatusError
from webingest.events import batch_completed
from webingest.ingest import PageIngester
from webingest.intake import DocumentIntake
from webingest.jobs import Frontier, FrontierJob
from webingest.politeness import Defer, HostGate, wait_for_turn
from webingest.records import BatchItem, BatchRecord, ItemStatus, batch_view, new_id
from webingest.repository import WebIngestRepository
from webingest.urls import shown_url

log = logging.getLogger(__name__)

_ATTEMPTS = 20


class DocumentStatuses(Protocol):
    def status(self, document_id: str) -> str | None:
        """The document's status (``queued`` ... ``completed``/``failed``), None if unknown."""
        ...


def _error(exc: AppError | DocumentError) -> dict[str, str]:
    return {"code": exc.code, "message": str(getattr(exc, "message", None) or exc)}


class BatchService:
    def __init__(
        self,
        *,
        repository: WebIngestRepository,
        frontier: Frontier,
        intake: DocumentIntake,
        statuses: DocumentStatuses,
        policy: AddressPolicy,
        publisher: EventPublisher,
        clock: Clock,
        max_items: int,
        max_bytes: int,
    ) -> None:
        self._repository = repository
        self._frontier = frontier
        self._intake = intake
        self._statuses = statuses
        self._policy = policy
        self._publisher = publisher
        self._clock = clock
        self.max_items = max_items
        self.max_bytes = max_bytes

    def check_size(self, count: int, total_bytes: int = 0) -> None:
        if count == 0:
            raise InvalidBatchError("the batch has no items")
        if count > self.max_items:
            raise BatchTooLargeError(f"a batch holds at most {self.max_items} items, not {count}")
        if total_bytes > self.max_bytes:
            raise BatchTooLargeError(f"a batch holds at most {self.max_bytes} bytes of files")

    def create_files(
        self, files: Sequence[Upload], *, owner: str, traceparent: str | None = None
    ) -> dict[str, Any]:
        self.check_size(len(files), sum(len(f.data) for f in files))
        items = []
        for index, upload in enumerate(files):
            name = upload.filename or f"file-{index}"
            try:
                document = self._intake.accept(
                    upload.data, upload.filename, owner=owner, traceparent=traceparent
                )
            except (AppError, DocumentError) as exc:
                if isinstance(exc, DependencyError):
                    raise
                items.append(BatchItem(index, "file", name, ItemStatus.REJECTED, error=_error(exc)))
                continue
            items.append(
                BatchItem(index, "file", name, ItemStatus.ACCEPTED, document_id=document.id)
            )
        return self._create(items, owner=owner)

    def create_urls(self, urls: Sequence[object], *, owner: str) -> dict[str, Any]:
        self.check_size(len(urls))
        items = []
        for index, url in enumerate(urls):
            if not isinstance(url, str):
                error = {"code": "invalid_url", "message": "each URL must be a string"}
                items.append(BatchItem(index, "url", "", ItemStatus.REJECTED, error=error))
                continue
            try:
                self._policy.vet(url)
            except UrlRejectedError as exc:
                items.append(
                    BatchItem(index, "url", shown_url(url), ItemStatus.REJECTED, error=_error(exc))
                )
                continue
            items.append(BatchItem(index, "url", shown_url(url), ItemStatus.PENDING, url=url))
        return self._create(items, owner=owner)

    def _create(self, items: list[BatchItem], *, owner: str) -> dict[str, Any]:
        now = self._clock()
        batch = self._repository.add_batch(
            BatchRecord(new_id("batch_", now), owner, len(items), now, now), items
        )
        bind(batch_id=batch.id)
        for item in items:
            if item.status is ItemStatus.PENDING:
                self._frontier.push(FrontierJob("batch", batch.id, str(item.index)))
        log.info("batch.created", extra={"items": len(items)})
        tracker = BatchTracker(
            repository=self._repository,
            statuses=self._statuses,
            publisher=self._publisher,
            clock=self._clock,
        )
        for item in items:
            if item.document_id:
                tracker.settle(batch.id, item.index)
        tracker.complete_if_done(batch.id)
        return batch_view(batch, self._repository.items(batch.id))

    def get(self, batch_id: str, *, owner: str) -> dict[str, Any]:
        batch = self._repository.batch(batch_id, owner)
        return batch_view(batch, self._repository.items(batch_id))


class BatchTracker:
    """Moves items to terminal states as their documents finish, and publishes
    the batch's one ``batch.completed``."""

    def __init__(
        self,
        *,
        repository: WebIngestRepository,
        statuses: DocumentStatuses,
        publisher: EventPublisher,
        clock: Clock,
    ) -> None:
        self._repository = repository
        self._statuses = statuses
        self._publisher = publisher
        self._clock = clock

    def on_document_finished(self, document_id: str, status: str) -> None:
        found = self._repository.batch_of(document_id)
        if found is None:
            return
        batch_id, index = found
        self._set(batch_id, index, status)
        self.complete_if_done(batch_id)

    def settle(self, batch_id: str, index: int) -> None:
        """Catch up with a document that finished before its item named it."""
        item = self._repository.item(batch_id, index)
        if item.document_id and not item.status.terminal:
            status = self._statuses.status(item.document_id)
            if status in ("completed", "failed"):
                self._set(batch_id, index, status)

    def _set(self, batch_id: str, index: int, status: str) -> None:
        target = ItemStatus.COMPLETED if status == "completed" else ItemStatus.FAILED
        for _ in range(_ATTEMPTS):
            item = self._repository.item(batch_id, index)
            if item.status.terminal:
                return
            try:
                self._repository.save_item(batch_id, item.replace(status=target))
                return
            except ConflictError:
                continue

    def complete_if_done(self, batch_id: str) -> None:
        items = self._repository.items(batch_id)
        if not all(item.status.terminal for item in items):
            return
        batch = self._repository.batch(batch_id)
        if batch.event_published:
            return
        try:
            # Claim the one announcement first: of two finishers, one publishes.
            claimed = self._repository.save_batch(
                batch.replace(event_published=True, updated_at=self._clock())
            )
        except ConflictError:
            return
        view = batch_view(claimed, items)
        event = batch_completed(batch_id, batch.owner, self._clock(), {"counts": view["counts"]})
        try:
            self._publisher.publish([event.to_cloudevent()])
        except DependencyError:
            log.warning("batch.announce_failed", exc_info=True)
            with contextlib.suppress(ConflictError):
                self._repository.save_batch(claimed.replace(event_published=False))
            return
        bind(batch_id=batch_id)  # bound, never in extra: logging refuses to overwrite it
        log.info("batch.completed", extra=view["counts"])


class BatchWorker:
    """Fetches one URL item of a batch (a frontier message)."""

    def __init__(
        self,
        *,
        repository: WebIngestRepository,
        frontier: Frontier,
        ingester: PageIngester,
        tracker: BatchTracker,
        gate: HostGate,
        honour_robots: bool,
        host_interval: float,
        max_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._repository = repository
        self._frontier = frontier
        self._ingester = ingester
        self._tracker = tracker
        self._gate = gate
        self._honour_robots = honour_robots
        self._interval = host_interval
        self._max_wait = max_wait
        self._sleep = sleep

    def handle(self, job: FrontierJob) -> None:
        bind(batch_id=job.owner_id)
        try:
            batch = self._repository.batch(job.owner_id)
            item = self._repository.item(job.owner_id, int(job.key))
        except (NotFoundError, ValueError):
            log.warning("batch.job_orphaned")
            return
        if item.status is not ItemStatus.PENDING or not item.url:
            return
        host = urlsplit(item.url).netloc
        try:
            wait_for_turn(
                self._gate, host, self._interval, max_wait=self._max_wait, sleep=self._sleep
            )
        except Defer as defer:
            self._frontier.push(job, defer.seconds)
            return
        try:
            response = self._ingester.fetch(item.url, honour_robots=self._honour_robots)
            document = self._ingester.ingest(response, owner=batch.owner)
        except (AppError, FetchError, DocumentError) as exc:
            if isinstance(exc, DependencyError):
                raise
            code = exc.code
            if isinstance(exc, UpstreamStatusError):
                code = f"http_{exc.status}"
            error = {"code": code, "message": str(getattr(exc, "message", exc))}
            self._save(job.owner_id, item.replace(status=ItemStatus.REJECTED, error=error))
            self._tracker.complete_if_done(job.owner_id)
            return
        self._repository.link_document(document.id, job.owner_id, item.index)
        self._save(job.owner_id, item.replace(status=ItemStatus.ACCEPTED, document_id=document.id))
        self._tracker.settle(job.owner_id, item.index)
        self._tracker.complete_if_done(job.owner_id)

    def _save(self, batch_id: str, item: BatchItem) -> None:
        with contextlib.suppress(ConflictError):  # another delivery finished it first
            self._repository.save_item(batch_id, item)
