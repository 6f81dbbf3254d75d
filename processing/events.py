"""Typed events: what the app publishes and what its triggers receive.

Outbound events are CloudEvents 1.0 (structured mode, JSON). Inbound events
arrive through an Event Grid trigger in either the CloudEvents or the Event
Grid schema; :meth:`InboundEvent.from_event_grid` accepts both transport
shapes, and the ``from_event`` constructors turn an inbound event into the
typed message the processor understands.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

DOCUMENT_UPLOADED = "document.uploaded"
DOCUMENT_COMPLETED = "document.processing.completed"
DOCUMENT_FAILED = "document.processing.failed"
BLOB_CREATED = "Microsoft.Storage.BlobCreated"

COMPLETION_TYPES = frozenset({DOCUMENT_COMPLETED, DOCUMENT_FAILED})

#: BlobCreated ``data.api`` values that mean "a whole new blob version exists".
#: Azure can fire two or three BlobCreated events per file (e.g. CreateFile and
#: FlushWithClose on Data Lake accounts); only these mark a finished write.
BLOB_CREATED_APIS = frozenset({"PutBlob", "PutBlockList", "CopyBlob", "FlushWithClose"})

EVENT_SOURCE = "/docflow/documents"
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c9a52-3b8e-4d7a-9a1e-2f4b5c6d7e80")


class InvalidEventError(ValueError):
    """An inbound event lacks what its type requires; retrying will not help."""


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """An event as a trigger received it, whatever its schema."""

    id: str
    type: str
    subject: str
    data: Mapping[str, Any]
    time: datetime | None = None
    traceparent: str | None = None

    @classmethod
    def from_event_grid(cls, event: Any) -> InboundEvent:
        """Build from ``azure.functions.CloudEvent`` or ``EventGridEvent``."""
        if hasattr(event, "specversion"):  # CloudEvents schema
            extensions = getattr(event, "extension_attrs", {}) or {}
            return cls(
                id=str(event.id),
                type=str(event.type),
                subject=str(event.subject or ""),
                data=_as_mapping(event.get_json()),
                time=event.time,
                traceparent=extensions.get("traceparent"),
            )
        data = _as_mapping(event.get_json())
        return cls(
            id=str(event.id),
            type=str(event.event_type),
            subject=str(event.subject or ""),
            data=data,
            time=getattr(event, "event_time", None),
            traceparent=data.get("traceparent") if isinstance(data, Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class DocumentUploaded:
    """``document.uploaded``: bytes are stored and a record is queued."""

    document_id: str

    @classmethod
    def from_event(cls, event: InboundEvent) -> DocumentUploaded:
        document_id = event.data.get("document_id")
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
        etag = event.data.get("eTag") or event.data.get("etag")
        if not isinstance(etag, str) or not etag:
            raise InvalidEventError("BlobCreated event without an eTag")
        length = event.data.get("contentLength")
        return cls(
            container=container,
            name=unquote(name),
            etag=etag,
            api=str(event.data.get("api", "")),
            content_length=length if isinstance(length, int) else None,
        )

    @property
    def is_complete_write(self) -> bool:
        return self.api in BLOB_CREATED_APIS


@dataclass(frozen=True, slots=True)
class OutboundEvent:
    """A CloudEvent this app publishes."""

    id: str
    type: str
    subject: str
    time: datetime
    data: Mapping[str, Any]
    traceparent: str | None = None
    source: str = EVENT_SOURCE
    extensions: Mapping[str, str] = field(default_factory=dict)

    def to_cloudevent(self) -> dict[str, Any]:
        """Structured-mode CloudEvents 1.0 JSON object."""
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "data": dict(self.data),
        }
        if self.traceparent:
            event["traceparent"] = self.traceparent
        event.update(self.extensions)
        return event


def document_subject(document_id: str) -> str:
    return f"documents/{document_id}"


def completion_event_id(document_id: str, outcome: str) -> str:
    """A deterministic id, so consumers can drop duplicates of one outcome."""
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{document_id}/{outcome}"))


def _as_mapping(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    raise InvalidEventError("event data is not a JSON object")
