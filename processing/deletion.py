"""Deleting a document: every stored byte of it, then the announcement.

``DELETE /api/documents/{id}`` is idempotent and owner-scoped: an unknown id,
an id already deleted and another owner's id all end the same way (nothing of
the caller's is left; nothing tells the caller whether the id exists). What
goes: the uploaded bytes, the result (unless another document with the same
bytes still points at it through the content cache), the cache entry when the
result goes, and the status record. ``document.deleted`` is published before
the record is removed, so a failed publish leaves the record for a retry of
the delete to find; consumers (search) drop what they derived from it.

A document dropped into the inbox keeps its inbox blob: the inbox belongs to
whoever drops files there (the app's identity may only read it).
"""

from __future__ import annotations

import logging
from contextlib import suppress

from kernel.clock import Clock, utcnow
from kernel.errors import NotFoundError
from kernel.events.ports import EventPublisher
from kernel.identity import Reach
from kernel.logcontext import bind
from kernel.storage.ports import BlobStore
from processing.events import deleted_event
from processing.records import DocumentRecord, Source
from processing.repository import DocumentRepository

log = logging.getLogger(__name__)


class DeletionService:
    def __init__(
        self,
        *,
        blobs: BlobStore,
        documents: DocumentRepository,
        publisher: EventPublisher,
        results_container: str,
        clock: Clock = utcnow,
    ) -> None:
        self._blobs = blobs
        self._documents = documents
        self._publisher = publisher
        self._results = results_container
        self._clock = clock

    def delete(self, document_id: str, reach: Reach) -> None:
        try:
            record = self._documents.get(document_id, reach=reach)
        except NotFoundError:
            return
        bind(document_id=record.id)
        self.remove(record)

    def remove(self, record: DocumentRecord) -> None:
        """Delete every stored byte of ``record``'s document, then announce it."""
        if record.source is not Source.BLOB:
            with suppress(NotFoundError):
                self._blobs.delete(record.container, record.blob_name)
        if record.result_blob and (
            record.result_blob == f"{record.id}.json"  # its own, as every result written now
            or self._documents.result_users(record.result_blob) == [record.id]
        ):
            with suppress(NotFoundError):
                self._blobs.delete(self._results, record.result_blob)
            if record.sha256:
                self._documents.forget_cached(record.sha256, record.result_blob)
        self._publisher.publish([deleted_event(record, self._clock()).to_cloudevent()])
        self._documents.delete(record)
        self._documents.release(record.owner)
        log.info("document.deleted", extra={"source": record.source.value})
