"""Accepting documents: validate, store durably, record, announce.

The bytes and the status record are written before ``document.uploaded`` is
published, so an accepted document is never lost: if publishing fails, the
record stays ``queued`` and :class:`processing.reconciler.Reconciler` (run by
a timer) announces it again.
"""

from __future__ import annotations

import hashlib
import logging

from kernel.clock import Clock, utcnow
from kernel.errors import DependencyError
from kernel.events.ports import EventPublisher
from kernel.identity import LOCAL_OWNER
from kernel.logcontext import bind
from kernel.storage.ports import BlobStore
from kernel.tracecontext import child_traceparent
from processing.events import uploaded_event
from processing.extraction.detect import detect_type
from processing.extraction.errors import EmptyDocumentError, TooLargeError
from processing.filenames import sanitize_filename
from processing.records import DocumentRecord, Source, Status, WebSource, new_document_id
from processing.repository import DocumentRepository

log = logging.getLogger(__name__)


class UploadService:
    def __init__(
        self,
        *,
        blobs: BlobStore,
        documents: DocumentRepository,
        publisher: EventPublisher,
        container: str,
        max_bytes: int,
        max_per_owner: int = 0,
        clock: Clock = utcnow,
    ) -> None:
        self._max_per_owner = max_per_owner
        self._blobs = blobs
        self._documents = documents
        self._publisher = publisher
        self._container = container
        self._max_bytes = max_bytes
        self._clock = clock

    def accept(
        self,
        data: bytes,
        filename: str | None,
        *,
        owner: str = LOCAL_OWNER,
        traceparent: str | None = None,
        web: WebSource | None = None,
    ) -> DocumentRecord:
        """Validate and store an upload (a fetched page when ``web`` says where
        it came from), then announce it.

        Raises EmptyDocumentError, TooLargeError, UnsupportedTypeError or
        CorruptDocumentError for bad input, DocumentQuotaError when the owner
        stores ``max_per_owner`` documents, DependencyError when storage fails.
        """
        if not data:
            raise EmptyDocumentError("the request body is empty")
        if len(data) > self._max_bytes:
            raise TooLargeError(f"the document is larger than the {self._max_bytes}-byte limit")
        doc_type = detect_type(data)
        now = self._clock()
        document_id = new_document_id(now)
        safe_name = sanitize_filename(filename)
        blob_name = f"{document_id}/source"
        self._documents.reserve(owner, self._max_per_owner)
        try:
            self._blobs.put(
                self._container,
                blob_name,
                data,
                content_type=doc_type.content_type,
                metadata={"document_id": document_id, "owner": owner},
            )
            record = self._documents.add(
                DocumentRecord(
                    id=document_id,
                    status=Status.QUEUED,
                    source=Source.URL if web else Source.UPLOAD,
                    filename=safe_name,
                    container=self._container,
                    blob_name=blob_name,
                    created_at=now,
                    updated_at=now,
                    content_type=doc_type.content_type,
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    traceparent=child_traceparent(traceparent),
                    owner=owner,
                    source_url=web.source_url if web else None,
                    final_url=web.final_url if web else None,
                    fetched_at=web.fetched_at if web else None,
                    http_status=web.http_status if web else None,
                )
            )
        except BaseException:
            self._documents.release(owner)  # never stored: not the owner's to count
            raise
        bind(document_id=record.id)
        log.info("document.accepted", extra={"size_bytes": len(data), "type": doc_type.value})
        self._announce(record)
        return record

    def _announce(self, record: DocumentRecord) -> None:
        try:
            self._publisher.publish([uploaded_event(record, self._clock()).to_cloudevent()])
        except DependencyError:
            # Stored and recorded: the document is accepted. The reconciler
            # publishes it again, so the client gets its 202 regardless.
            log.warning("document.announce_failed", exc_info=True)
