"""Choose and build the storage adapters the settings ask for."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.credentials import CredentialFactory, managed_identity
from kernel.errors import SettingsError
from kernel.settings import StorageSettings
from kernel.storage.azure import AzureBlobStore, AzureQueueStore, AzureTableStore, ClientOptions
from kernel.storage.embedded import EmbeddedBlobStore, EmbeddedQueueStore, EmbeddedTableStore
from kernel.storage.ports import BlobStore, QueueStore, TableStore


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


def create_stores(
    storage: StorageSettings,
    *,
    options: ClientOptions | None = None,
    credential: CredentialFactory | None = None,
) -> Stores:
    """The stores for ``storage``: Azure by connection string, Azure with a
    managed identity by service URIs (``credential``, else one for
    ``storage.client_id``), else the embedded store in ``data_dir``.
    ``storage.provisioned`` keeps the Azure stores from creating containers,
    tables and queues (the embedded store always makes its folders).

    Nothing is contacted yet; clients connect on first use.
    """
    create = not storage.provisioned
    if storage.connection_string:
        connection = storage.connection_string
        return Stores(
            blobs=AzureBlobStore(connection_string=connection, options=options, create=create),
            tables=AzureTableStore(connection_string=connection, options=options, create=create),
            queues=AzureQueueStore(connection_string=connection, options=options, create=create),
        )
    if storage.blob_service_uri:
        credential = credential or managed_identity(storage.client_id)
        blob_uri = storage.blob_service_uri
        queue_uri = storage.queue_service_uri or _sibling_uri(
            blob_uri, "queue", storage.queue_uri_setting
        )
        table_uri = storage.table_service_uri or _sibling_uri(
            blob_uri, "table", storage.table_uri_setting
        )
        return Stores(
            blobs=AzureBlobStore(
                account_url=blob_uri, credential=credential, options=options, create=create
            ),
            tables=AzureTableStore(
                account_url=table_uri, credential=credential, options=options, create=create
            ),
            queues=AzureQueueStore(
                account_url=queue_uri, credential=credential, options=options, create=create
            ),
        )
    return Stores(
        blobs=EmbeddedBlobStore(storage.data_dir),
        tables=EmbeddedTableStore(storage.data_dir),
        queues=EmbeddedQueueStore(storage.data_dir),
    )


def _sibling_uri(blob_uri: str, service: str, setting: str) -> str:
    # https://account.blob.core.windows.net -> https://account.queue.core.windows.net
    if ".blob." not in blob_uri:
        raise SettingsError(f"{setting} must be set when the blob service URI is not standard")
    return blob_uri.replace(".blob.", f".{service}.", 1)
