"""Choose and build the storage adapters the settings ask for."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from processing.adapters.azure_storage import (
    AzureBlobStore,
    AzureQueueStore,
    AzureTableStore,
    ClientOptions,
    CredentialFactory,
)
from processing.adapters.embedded import EmbeddedBlobStore, EmbeddedQueueStore, EmbeddedTableStore
from processing.ports import BlobStore, QueueStore, TableStore
from processing.settings import STORAGE_QUEUE_URI, STORAGE_TABLE_URI, SettingsError, StorageSettings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


@dataclass(frozen=True, slots=True)
class Stores:
    """The app's storage: blobs, tables and queues from one account or folder."""

    blobs: BlobStore
    tables: TableStore
    queues: QueueStore

    def close(self) -> None:
        """Release connections (SQLite files, HTTP pools) where the store holds any."""
        for store in (self.blobs, self.tables, self.queues):
            close = getattr(store, "close", None)
            if close is not None:
                close()


def create_stores(storage: StorageSettings, *, options: ClientOptions | None = None) -> Stores:
    """The stores for ``storage``: Azure by connection string, Azure with a
    managed identity by service URIs, else the embedded store in ``data_dir``.

    Nothing is contacted yet; clients connect on first use.
    """
    if storage.connection_string:
        connection = storage.connection_string
        return Stores(
            blobs=AzureBlobStore(connection_string=connection, options=options),
            tables=AzureTableStore(connection_string=connection, options=options),
            queues=AzureQueueStore(connection_string=connection, options=options),
        )
    if storage.blob_service_uri:
        credential = managed_identity(storage.client_id)
        blob_uri = storage.blob_service_uri
        queue_uri = storage.queue_service_uri or _sibling_uri(blob_uri, "queue", STORAGE_QUEUE_URI)
        table_uri = storage.table_service_uri or _sibling_uri(blob_uri, "table", STORAGE_TABLE_URI)
        return Stores(
            blobs=AzureBlobStore(account_url=blob_uri, credential=credential, options=options),
            tables=AzureTableStore(account_url=table_uri, credential=credential, options=options),
            queues=AzureQueueStore(account_url=queue_uri, credential=credential, options=options),
        )
    return Stores(
        blobs=EmbeddedBlobStore(storage.data_dir),
        tables=EmbeddedTableStore(storage.data_dir),
        queues=EmbeddedQueueStore(storage.data_dir),
    )


def managed_identity(client_id: str | None) -> CredentialFactory:
    """A factory for one shared credential: the user-assigned identity
    ``client_id`` if given, else DefaultAzureCredential (managed identity in
    Azure, developer sign-ins locally)."""
    lock = threading.Lock()
    made: list[TokenCredential] = []

    def credential() -> TokenCredential:
        with lock:
            if not made:
                if client_id:
                    from azure.identity import ManagedIdentityCredential

                    made.append(ManagedIdentityCredential(client_id=client_id))
                else:
                    from azure.identity import DefaultAzureCredential

                    made.append(DefaultAzureCredential())
            return made[0]

    return credential


def _sibling_uri(blob_uri: str, service: str, setting: str) -> str:
    # https://account.blob.core.windows.net -> https://account.queue.core.windows.net
    if ".blob." not in blob_uri:
        raise SettingsError(f"{setting} must be set when the blob service URI is not standard")
    return blob_uri.replace(".blob.", f".{service}.", 1)
