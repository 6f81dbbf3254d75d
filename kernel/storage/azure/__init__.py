"""The storage ports on Azure Storage (or Azurite): blobs, tables and queues.

Each store is built from a connection string (``UseDevelopmentStorage=true``
included) or from its service URI and a token credential (managed identity).
The SDKs are imported and their clients created on first use, then reused:
they are thread-safe and keep a connection pool. Containers, tables and
queues are created on the first write into them; a process remembers which
it created, and creates one again if it has since disappeared (an emulator
restarted with in-memory persistence, a container deleted by hand). Built
with ``create=False`` (``STORAGE_PROVISIONED=true``, as in Azure, where infra
creates every one of them and the app's identity holds data roles on those
resources only) a store never creates anything and never asks for the right to.

Service errors never escape as SDK exceptions: missing things become
:class:`~kernel.errors.NotFoundError`, lost races and taken names
:class:`~kernel.errors.ConflictError`, requests the service refuses as
malformed :class:`~kernel.storage.validation.InvalidValueError`, and
everything else (network, timeouts, throttling, 5xx, authentication)
:class:`~kernel.errors.DependencyError`, which callers may retry.
"""

# Every Azure import in this package is deferred to first use: cold start of the function app.

from __future__ import annotations

from kernel.storage.azure.blobs import AzureBlobStore
from kernel.storage.azure.connection import ClientOptions
from kernel.storage.azure.queues import AzureQueueStore
from kernel.storage.azure.tables import AzureTableStore

__all__ = [
    "AzureBlobStore",
    "AzureQueueStore",
    "AzureTableStore",
    "ClientOptions",
]
