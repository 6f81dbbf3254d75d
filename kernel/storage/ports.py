"""The storage ports: the small interfaces the app needs from blobs, tables and queues.

Each has an Azure implementation (:mod:`kernel.storage.azure`) and an embedded
one (:mod:`kernel.storage.embedded`); both pass the same contract tests
(``tests/functional/test_storage_contract.py``), like httpx's transports.
Implementations raise :class:`~kernel.errors.NotFoundError`,
:class:`~kernel.errors.ConflictError` and :class:`~kernel.errors.InvalidValueError`,
never SDK exceptions, and wrap failures of the service itself in
:class:`~kernel.errors.DependencyError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from kernel.errors import InvalidValueError


class BlobTooLargeError(InvalidValueError):
    """A blob is larger than the caller's ``max_bytes``: it was not read."""

    code: ClassVar[str] = "too_large"


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

    def get(self, container: str, name: str, *, max_bytes: int | None = None) -> bytes:
        """The blob's bytes; NotFoundError when absent. With ``max_bytes``, no
        more than ``max_bytes + 1`` bytes are ever read, and a larger blob
        raises BlobTooLargeError."""
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

    def ping(self, timeout: float) -> None:
        """Return once the service answers, within about ``timeout`` seconds and
        without retries; DependencyError when it does not (readiness)."""
        ...


#: A table row: ``PartitionKey``, ``RowKey`` and scalar properties
#: (str, int, float, bool, None). Reads add ``etag``.
Row = dict[str, Any]


class TableStore(Protocol):
    """Rows keyed by (PartitionKey, RowKey), with optimistic concurrency."""

    def insert(self, table: str, row: Mapping[str, Any]) -> str:
        """Create the row; ConflictError if the key exists. Returns the ETag."""
        ...

    def upsert(self, table: str, row: Mapping[str, Any]) -> str:
        """Create or replace the row. Returns the ETag."""
        ...

    def update(self, table: str, row: Mapping[str, Any], *, etag: str) -> str:
        """Replace the row only if it still has ``etag``; ConflictError if it
        changed, NotFoundError if it is gone. Returns the new ETag."""
        ...

    def get(self, table: str, partition_key: str, row_key: str) -> Row:
        """The row with its ``etag``; NotFoundError when absent."""
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
    ) -> list[Row]:
        """Rows of one partition in RowKey order, filtered by property
        equality and an exclusive RowKey range, at most ``limit``."""
        ...

    def delete(self, table: str, partition_key: str, row_key: str) -> None:
        """Remove the row; absent rows are not an error."""
        ...

    def ping(self, timeout: float) -> None:
        """Return once the service answers, within about ``timeout`` seconds and
        without retries; DependencyError when it does not (readiness)."""
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

    def ping(self, timeout: float) -> None:
        """Return once the service answers, within about ``timeout`` seconds and
        without retries; DependencyError when it does not (readiness)."""
        ...
