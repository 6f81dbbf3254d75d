"""The ports: small interfaces the app needs from storage and eventing.

Each has an Azure implementation and an embedded one in
:mod:`processing.adapters`; both pass the same contract tests
(``tests/functional/test_storage_contract.py``), like httpx's transports.
Implementations raise the errors below, never SDK exceptions, and wrap
failures of the service itself in :class:`~processing.extraction.errors.DependencyError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from processing.extraction.errors import ProcessingError


class NotFoundError(ProcessingError):
    """The blob, entity or message does not exist."""

    code = "not_found"


class ConflictError(ProcessingError):
    """An insert found the key taken, or an ETag-guarded write lost the race."""

    code = "conflict"


@dataclass(frozen=True, slots=True)
class BlobInfo:
    container: str
    name: str
    etag: str
    size: int
    content_type: str | None = None
    last_modified: datetime | None = None
    metadata: Mapping[str, str] | None = None


class BlobStore(Protocol):
    """Named byte blobs in containers."""

    def put(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> BlobInfo:
        """Store ``data``; with ``overwrite=False`` an existing blob raises ConflictError."""
        ...

    def get(self, container: str, name: str) -> bytes:
        """The blob's bytes; NotFoundError when absent."""
        ...

    def info(self, container: str, name: str) -> BlobInfo:
        """The blob's properties; NotFoundError when absent."""
        ...

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        """Blobs in ``container`` whose names start with ``prefix``, by name."""
        ...

    def delete(self, container: str, name: str) -> None:
        """Remove the blob; absent blobs are not an error."""
        ...


#: A table entity: ``PartitionKey``, ``RowKey`` and scalar properties
#: (str, int, float, bool, None). Reads add ``etag``.
Entity = dict[str, Any]


class TableStore(Protocol):
    """Entities keyed by (PartitionKey, RowKey), with optimistic concurrency."""

    def insert(self, table: str, entity: Mapping[str, Any]) -> str:
        """Create the entity; ConflictError if the key exists. Returns the ETag."""
        ...

    def upsert(self, table: str, entity: Mapping[str, Any]) -> str:
        """Create or replace the entity. Returns the ETag."""
        ...

    def update(self, table: str, entity: Mapping[str, Any], *, etag: str) -> str:
        """Replace the entity only if it still has ``etag``; ConflictError if it
        changed, NotFoundError if it is gone. Returns the new ETag."""
        ...

    def get(self, table: str, partition_key: str, row_key: str) -> Entity:
        """The entity with its ``etag``; NotFoundError when absent."""
        ...

    def query(
        self,
        table: str,
        partition_key: str,
        *,
        equals: Mapping[str, str | int | bool] | None = None,
        row_key_after: str | None = None,
        row_key_before: str | None = None,
        limit: int | None = None,
    ) -> list[Entity]:
        """Entities of one partition in RowKey order, filtered by property
        equality and an exclusive RowKey range, at most ``limit``."""
        ...

    def delete(self, table: str, partition_key: str, row_key: str) -> None:
        """Remove the entity; absent entities are not an error."""
        ...


class EventPublisher(Protocol):
    """Publishes CloudEvents 1.0 to the app's topic."""

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Publish structured-mode CloudEvents (dicts with ``specversion``,
        ``id``, ``source``, ``type``, ``subject``, ``time``, ``data`` and
        extension attributes such as ``traceparent``)."""
        ...


@dataclass(frozen=True, slots=True)
class QueueMessage:
    id: str
    pop_receipt: str
    content: str
    dequeue_count: int


class QueueStore(Protocol):
    """At-least-once message queues (Azure Storage queues semantics)."""

    def send(self, queue: str, content: str, *, visibility_timeout: int = 0) -> None:
        """Enqueue ``content``, invisible for ``visibility_timeout`` seconds."""
        ...

    def receive(
        self, queue: str, *, max_messages: int = 16, visibility_timeout: int = 30
    ) -> list[QueueMessage]:
        """Take up to ``max_messages`` visible messages, hiding them for
        ``visibility_timeout`` seconds; each receive increments ``dequeue_count``."""
        ...

    def delete(self, queue: str, message: QueueMessage) -> None:
        """Remove a received message; NotFoundError if its receipt is stale."""
        ...
