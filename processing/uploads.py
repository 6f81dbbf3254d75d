"""Accepting documents: validate, store durably, record, announce.

The bytes and the status record are written before ``document.uploaded`` is
published, so an accepted document is never lost: if publishing fails, the
record stays ``queued`` and :class:`processing.reconciler.Reconciler` (run by
a timer) announces it again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime

from processing.events import DOCUMENT_UPLOADED, OutboundEvent, document_subject
from processing.extraction.detect import detect_type
from processing.extraction.errors import DependencyError, EmptyDocumentError, TooLargeError
from processing.logcontext import bind
from processing.ports import BlobStore, EventPublisher
from processing.records import DocumentRecord, DocumentRepository, Source, Status, new_document_id
from processing.tracecontext import child_traceparent

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_MAX_FILENAME_CHARS = 200
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def utcnow() -> datetime:
    return datetime.now(UTC)


def sanitize_filename(raw: str | None) -> str | None:
    """A display-safe file name: Unicode NFC, no path, no control or reserved
    characters, at most 200 characters (extension kept). ``None`` if nothing is left."""
    if not raw:
        return None
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    if not name:
        return None
    if len(name) > _MAX_FILENAME_CHARS:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name[: _MAX_FILENAME_CHARS - len(keep) - 1].rstrip(" .") + (
            "." + keep if keep else ""
        )
    return name


def uploaded_event(record: DocumentRecord, now: datetime) -> OutboundEvent:
    return OutboundEvent(
        # Each announcement has its own id: a republished upload is a new event,
        # and the processor's claim makes the repeat harmless.
        id=f"{record.id}-uploaded-{int(now.timestamp() * 1000)}",
        type=DOCUMENT_UPLOADED,
        subject=document_subject(record.id),
        time=now,
        data={
            "document_id": record.id,
            "status": record.status.value,
            "timestamp": now.isoformat(),
            "filename": record.filename,
            "sha256": record.sha256,
            "size_bytes": record.size_bytes,
            "content_type": record.content_type,
            "source": record.source.value,
        },
        traceparent=record.traceparent,
    )


class UploadService:
    def __init__(
        self,
        *,
        blobs: BlobStore,
        documents: DocumentRepository,
        publisher: EventPublisher,
        container: str,
        max_bytes: int,
        clock: Clock = utcnow,
    ) -> None:
        self._blobs = blobs
        self._documents = documents
        self._publisher = publisher
        self._container = container
        self._max_bytes = max_bytes
        self._clock = clock

    def accept(
        self, data: bytes, filename: str | None, *, traceparent: str | None = None
    ) -> DocumentRecord:
        """Validate and store an upload, then announce it.

        Raises EmptyDocumentError, TooLargeError, UnsupportedTypeError or
        CorruptDocumentError for bad input, DependencyError when storage fails.
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
        self._blobs.put(
            self._container,
            blob_name,
            data,
            content_type=doc_type.content_type,
            metadata={"document_id": document_id},
        )
        record = self._documents.add(
            DocumentRecord(
                id=document_id,
                status=Status.QUEUED,
                source=Source.UPLOAD,
                filename=safe_name,
                container=self._container,
                blob_name=blob_name,
                created_at=now,
                updated_at=now,
                content_type=doc_type.content_type,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                traceparent=child_traceparent(traceparent),
            )
        )
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
