"""Processing a queued document exactly once under at-least-once delivery.

The steps, each safe to repeat:

1. **Claim.** An ETag-guarded update moves the record to ``processing`` with a
   lease (:mod:`kernel.leases`). A concurrent or duplicate delivery that finds
   a live lease raises ``LeaseHeldError`` (transient), so Event Grid delivers it again later;
   by then the document is finished (and the repeat is a no-op) or the lease
   has expired (its holder died) and the repeat takes over.
2. **Work.** Read the bytes, reuse a cached result for identical bytes or run
   the pipeline (in a worker) and the cloud enrichment (here, in the host:
   :mod:`processing.enrichment`), store the result JSON. A heartbeat renews
   the lease meanwhile, so the lease is a few heartbeats long and a dead
   holder's document is free again soon; before its last writes the holder
   renews once more, and a holder whose claim was taken over (the record's
   ETag changed) stops with ``ClaimLostError`` instead of writing over the new
   holder's work.
3. **Finish.** Record the terminal status, then publish the completion event
   with a deterministic id and flag it published (an outbox: a crash between
   the two republishes the same event id on the next delivery).

Document errors are permanent (``failed`` + ``document.processing.failed``);
anything else (storage, events, a worker that could not start) propagates after
releasing the claim, so the delivery is retried.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from kernel.clock import Clock, utcnow
from kernel.errors import (
    AppError,
    ClaimLostError,
    ConflictError,
    InvalidEventError,
    NotFoundError,
)
from kernel.events.catalog import BLOB_CREATED, DOCUMENT_UPLOADED
from kernel.events.cloudevents import InboundEvent
from kernel.events.ports import EventPublisher
from kernel.identity import LOCAL_OWNER
from kernel.leases import Heartbeat, Lease, claim
from kernel.logcontext import bind
from kernel.storage.ports import BlobStore, BlobTooLargeError
from kernel.tracecontext import child_traceparent
from processing.enrichment.ports import Enrichment
from processing.errors import AttemptsExhaustedError, SourceMissingError
from processing.events import BlobCreated, DocumentUploaded, completion_event
from processing.extraction.errors import DocumentError, TooLargeError
from processing.extraction.limits import Limits
from processing.extraction.options import AnalysisOptions
from processing.extraction.result import ProcessingResult
from processing.filenames import sanitize_filename
from processing.records import (
    DocumentRecord,
    Source,
    Status,
    bounded_message,
    inbox_owner,
    new_document_id,
)
from processing.repository import DocumentRepository

log = logging.getLogger(__name__)


def _owners_by_folder() -> bool:
    """Whether inbox folders name owners: only when tokens authenticate callers."""
    from kernel.auth.settings import AuthMode, auth_settings

    return auth_settings().mode is AuthMode.JWT


Extract = Callable[[bytes, str | None, Limits], ProcessingResult]


def extract_in_process(
    data: bytes, filename: str | None, limits: Limits, *, options: AnalysisOptions | None = None
) -> ProcessingResult:
    """The pipeline in this process (trusted input, or isolation turned off)."""
    from processing.extraction import pipeline  # deferred: parsers load on first use

    return pipeline.run_pipeline(data, filename, limits=limits, options=options)


class DocumentProcessor:
    def __init__(
        self,
        *,
        blobs: BlobStore,
        documents: DocumentRepository,
        publisher: EventPublisher,
        inbox_container: str,
        results_container: str,
        public_base_url: str,
        limits: Limits,
        lease: timedelta,
        heartbeat: timedelta | None = None,
        max_attempts: int = 5,
        extract: Extract = extract_in_process,
        enrichment: Enrichment | None = None,
        inbox_default_owner: str = LOCAL_OWNER,
        clock: Clock = utcnow,
    ) -> None:
        self._blobs = blobs
        self._documents = documents
        self._publisher = publisher
        self._inbox = inbox_container
        self._results = results_container
        self._base_url = public_base_url
        self._limits = limits
        self._lease = Lease(lease)
        self._heartbeat = (heartbeat or lease / 4).total_seconds()
        self._max_attempts = max_attempts
        self._extract = extract
        self._enrichment = enrichment
        self._inbox_default_owner = inbox_default_owner
        self._clock = clock

    def handle(self, event: InboundEvent) -> DocumentRecord | None:
        """Process what an inbound event announces (an upload or a dropped blob)."""
        if event.type == BLOB_CREATED:
            return self.handle_blob_created(BlobCreated.from_event(event))
        if event.type == DOCUMENT_UPLOADED:
            return self.handle_uploaded(DocumentUploaded.from_event(event))
        raise InvalidEventError(f"the processor does not handle {event.type!r} events")

    def handle_uploaded(self, event: DocumentUploaded) -> DocumentRecord:
        bind(document_id=event.document_id)
        try:
            record = self._documents.get(event.document_id)
        except NotFoundError:
            # An event for a document this store never recorded (e.g. another
            # environment's topic): nothing to do, and retrying cannot help.
            log.warning("document.unknown")
            raise
        return self._process(record)

    def handle_blob_created(self, event: BlobCreated) -> DocumentRecord | None:
        """Process a blob dropped into the inbox; other containers and partial
        writes are ignored (``None``)."""
        if event.container != self._inbox or not event.is_complete_write:
            log.info("blob.ignored", extra={"container": event.container, "api": event.api})
            return None
        now = self._clock()
        document_id = self._documents.claim_blob(
            event.container, event.name, event.etag, new_document_id(now)
        )
        bind(document_id=document_id)
        try:
            record = self._documents.get(document_id)
        except NotFoundError:
            record = self._add_blob_record(document_id, event, now)
        return self._process(record)

    def _add_blob_record(
        self, document_id: str, event: BlobCreated, now: datetime
    ) -> DocumentRecord:
        record = DocumentRecord(
            id=document_id,
            status=Status.QUEUED,
            source=Source.BLOB,
            filename=sanitize_filename(event.name),
            container=event.container,
            blob_name=event.name,
            created_at=now,
            updated_at=now,
            size_bytes=event.content_length,
            traceparent=child_traceparent(None),
            owner=inbox_owner(
                event.name,
                owner_folders=_owners_by_folder(),
                default=self._inbox_default_owner,
            ),
        )
        # Counted, never refused: the inbox is the operator's, granted by storage roles.
        self._documents.reserve(record.owner)
        try:
            return self._documents.add(record)
        except ConflictError:
            # A concurrent delivery of the same blob version created it first.
            self._documents.release(record.owner)
            return self._documents.get(document_id)

    def _process(self, record: DocumentRecord) -> DocumentRecord:
        if record.status.terminal:
            return self.announce(record)
        record = self._claim(record)
        if record.status.terminal:  # the attempts ran out
            return self.announce(record)
        with Heartbeat(
            record,
            self._renew,
            self._heartbeat,
            message="another invocation took the document over",
        ) as beat:
            try:
                try:
                    record = self._work(record, beat)
                except DocumentError as exc:
                    record = self._finish_failed(beat.settle(), exc)
            except ClaimLostError:
                # Not ours any more: the new holder finishes and announces it.
                log.warning("document.claim_lost")
                raise
            except BaseException:
                beat.stop()
                self._release(beat.current)
                raise
        return self.announce(record)

    def _renew(self, record: DocumentRecord) -> DocumentRecord:
        now = self._clock()
        return self._documents.save(
            record.replace(lease_until=self._lease.until(now), updated_at=now)
        )

    def _claim(self, record: DocumentRecord) -> DocumentRecord:
        """The record claimed for one more attempt, or ended ``failed`` with
        ``attempts_exhausted`` when it has had all it may have."""
        now = self._clock()
        if record.status is Status.PROCESSING:
            self._lease.ensure_free(
                record.lease_until,
                now,
                message="the document is being processed by another invocation",
            )
        if record.attempts >= self._max_attempts:
            return self.exhaust(record)
        claimed = claim(
            self._documents.save,
            record.replace(
                status=Status.PROCESSING,
                lease_until=self._lease.until(now),
                attempts=record.attempts + 1,
                updated_at=now,
            ),
            message="another invocation claimed the document first",
        )
        log.info("document.claimed", extra={"attempt": claimed.attempts})
        return claimed

    def exhaust(self, record: DocumentRecord) -> DocumentRecord:
        """End a document that was attempted ``max_attempts`` times without an
        outcome (its workers died or timed out): ``failed``, ``attempts_exhausted``."""
        failed = claim(
            self._documents.save,
            failed_record(
                record,
                AttemptsExhaustedError(
                    f"processing was attempted {record.attempts} times without an outcome"
                ),
                self._clock(),
            ),
            message="another invocation ended the document first",
        )
        log.warning("document.attempts_exhausted", extra={"attempts": record.attempts})
        return failed

    def _work(self, record: DocumentRecord, beat: Heartbeat[DocumentRecord]) -> DocumentRecord:
        limit = self._limits.max_document_bytes
        if record.size_bytes is not None and record.size_bytes > limit:
            # Announced size first (a dropped blob's event): nothing is downloaded.
            return self._finish_failed(beat.settle(), _too_large(limit))
        try:
            data = self._blobs.get(record.container, record.blob_name, max_bytes=limit)
        except NotFoundError:
            return self._finish_failed(
                beat.settle(), SourceMissingError("the document's bytes are no longer in storage")
            )
        except BlobTooLargeError:
            return self._finish_failed(beat.settle(), _too_large(limit))
        sha256 = hashlib.sha256(data).hexdigest()
        result = self._reuse_cached(sha256, record.filename)
        if result is None:
            extracted = self._extract(data, record.filename, self._limits)
            if self._enrichment is not None:
                # Never raises for a provider's failure: that is a warning on the result.
                extracted = self._enrichment.enrich(extracted)
            result = extracted.to_dict()
            cached = False
        else:
            cached = True
        record = beat.settle()  # still ours, with a fresh lease for the writes below
        result = with_web_source(result, record)
        result_blob = f"{record.id}.json"
        self._blobs.put(
            self._results,
            result_blob,
            json.dumps(result, ensure_ascii=False).encode(),
            content_type="application/json",
        )
        if not cached:
            self._documents.cache_result(sha256, result_blob)
        log.info(
            "document.processed",
            extra={
                "cached": cached,
                "pages": len(result.get("pages", [])),
                "entities": len(result.get("entities", [])),
            },
        )
        return self._documents.save(
            record.replace(
                status=Status.COMPLETED,
                sha256=sha256,
                size_bytes=len(data),
                content_type=result["document"]["content_type"],
                result_blob=result_blob,
                lease_until=None,
                updated_at=self._clock(),
            )
        )

    def _reuse_cached(self, sha256: str, filename: str | None) -> dict[str, Any] | None:
        blob = self._documents.cached_result(sha256)
        if blob is None:
            return None
        try:
            result: dict[str, Any] = json.loads(self._blobs.get(self._results, blob))
        except (NotFoundError, ValueError):
            return None  # evicted or damaged: extract afresh
        result["document"]["filename"] = filename
        return result

    def _finish_failed(self, record: DocumentRecord, error: DocumentError) -> DocumentRecord:
        log.info("document.failed", extra={"error_code": error.code})
        return self._documents.save(failed_record(record, error, self._clock()))

    def _release(self, record: DocumentRecord) -> None:
        """Best effort: give the claim back so a retry need not wait for the lease."""
        try:
            self._documents.save(
                record.replace(status=Status.QUEUED, lease_until=None, updated_at=self._clock())
            )
        except AppError:
            log.warning("document.release_failed", exc_info=True)

    def announce(self, record: DocumentRecord) -> DocumentRecord:
        """Publish a finished document's completion event unless already done."""
        if record.event_published:
            return record
        self._publisher.publish([completion_event(record, self._base_url).to_cloudevent()])
        try:
            return self._documents.save(record.replace(event_published=True))
        except ConflictError:
            # A concurrent duplicate announced it too; same event id, so
            # consumers see one outcome.
            return self._documents.get(record.id)


def failed_record(record: DocumentRecord, error: DocumentError, now: datetime) -> DocumentRecord:
    """``record`` ended ``failed`` with ``error``'s code and a bounded message
    (an error message can quote the document, so its size is the document's choice)."""
    return record.replace(
        status=Status.FAILED,
        error_code=error.code,
        error_message=bounded_message(error.message),
        lease_until=None,
        updated_at=now,
    )


def _too_large(limit: int) -> TooLargeError:
    return TooLargeError(f"the document is larger than the {limit}-byte limit")


def with_web_source(result: dict[str, Any], record: DocumentRecord) -> dict[str, Any]:
    """``result`` with the record's web source in ``document`` and its links made
    absolute against the page's final URL; a result reused from another
    document's identical bytes keeps none of that document's source."""
    document = {
        key: value
        for key, value in result["document"].items()
        if key not in ("source_url", "final_url", "fetched_at", "http_status")
    }
    web = {key: value for key, value in record.web_source().items() if value is not None}
    links = result.get("links") or []
    if record.final_url and links:
        base = record.final_url
        result = {
            **result,
            "links": [{**link, "url": urljoin(base, link["url"])} for link in links],
        }
    return {**result, "document": {**document, **web}}
