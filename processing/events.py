"""The document workflow's events: what it publishes and what it consumes.

Inbound: ``document.uploaded`` (from this app's topic) and
``Microsoft.Storage.BlobCreated`` (from the storage account's system topic),
built from the kernel's :class:`~kernel.events.cloudevents.InboundEvent`.
Outbound: the announcement of an upload and the one completion event of
each document's outcome.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from kernel.errors import InvalidEventError
from kernel.events.catalog import (
    DOCUMENT_COMPLETED,
    DOCUMENT_DELETED,
    DOCUMENT_FAILED,
    DOCUMENT_UPLOADED,
)
from kernel.events.cloudevents import InboundEvent, OutboundEvent
from kernel.tracecontext import child_traceparent
from processing.records import DocumentRecord, Status

#: BlobCreated ``data.api`` values that mean "a whole new blob version exists".
#: Azure can fire two or three BlobCreated events per file (e.g. CreateFile and
#: FlushWithClose on Data Lake accounts); only these mark a finished write.
BLOB_CREATED_APIS = frozenset({"PutBlob", "PutBlockList", "CopyBlob", "FlushWithClose"})

_EVENT_ID_NAMESPACE = uuid.UUID("6f1c9a52-3b8e-4d7a-9a1e-2f4b5c6d7e80")


@dataclass(frozen=True, slots=True)
class DocumentUploaded:
    """``document.uploaded``: bytes are stored and a record is queued."""

    document_id: str

    @classmethod
    def from_event(cls, event: InboundEvent) -> DocumentUploaded:
        document_id = event.data_object().get("document_id")
        if not isinstance(document_id, str) or not document_id:
            raise InvalidEventError("document.uploaded event without a document_id")
        return cls(document_id=document_id)


@dataclass(frozen=True, slots=True)
class BlobCreated:
    """``Microsoft.Storage.BlobCreated`` from the storage account's system topic."""

    container: str
    name: str
    etag: str
    api: str
    content_length: int | None = None

    @classmethod
    def from_event(cls, event: InboundEvent) -> BlobCreated:
        # subject: /blobServices/default/containers/{container}/blobs/{name}
        _, sep, rest = event.subject.partition("/containers/")
        container, sep2, name = rest.partition("/blobs/")
        if not sep or not sep2 or not container or not name:
            raise InvalidEventError("BlobCreated event with an unexpected subject")
        data = event.data_object()
        etag = data.get("eTag") or data.get("etag")
        if not isinstance(etag, str) or not etag:
            raise InvalidEventError("BlobCreated event without an eTag")
        length = data.get("contentLength")
        return cls(
            container=container,
            name=unquote(name),
            etag=etag,
            api=str(data.get("api", "")),
            content_length=length if isinstance(length, int) else None,
        )

    @property
    def is_complete_write(self) -> bool:
        return self.api in BLOB_CREATED_APIS


def document_subject(document_id: str) -> str:
    return f"documents/{document_id}"


def completion_event_id(document_id: str, outcome: str) -> str:
    """A deterministic id, so consumers can drop duplicates of one outcome."""
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{document_id}/{outcome}"))


def uploaded_event(record: DocumentRecord, now: datetime) -> OutboundEvent:
    """The announcement of a stored document (or a re-announcement by the reconciler)."""
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
            "owner": record.owner,
        },
        traceparent=record.traceparent,
    )


def completion_event(record: DocumentRecord, public_base_url: str) -> OutboundEvent:
    """The one event of a finished document's outcome, with a deterministic id."""
    completed = record.status is Status.COMPLETED
    data: dict[str, Any] = {
        "document_id": record.id,
        "status": record.status.value,
        "timestamp": record.updated_at.isoformat(),
        "filename": record.filename,
        "sha256": record.sha256,
        "size_bytes": record.size_bytes,
        "content_type": record.content_type,
        "source": record.source.value,
        "owner": record.owner,
    }
    if completed:
        data["result_url"] = f"{public_base_url}/api/documents/{record.id}/result"
    else:
        data["error"] = {"code": record.error_code, "message": record.error_message}
    return OutboundEvent(
        id=completion_event_id(record.id, record.status.value),
        type=DOCUMENT_COMPLETED if completed else DOCUMENT_FAILED,
        subject=document_subject(record.id),
        time=record.updated_at,
        data=data,
        traceparent=child_traceparent(record.traceparent),
    )


def deleted_event(record: DocumentRecord, now: datetime) -> OutboundEvent:
    """The announcement that a document and its result are gone."""
    return OutboundEvent(
        id=f"{record.id}-deleted",
        type=DOCUMENT_DELETED,
        subject=document_subject(record.id),
        time=now,
        data={"document_id": record.id, "owner": record.owner, "timestamp": now.isoformat()},
        traceparent=record.traceparent,
    )
