"""Which storage account the app's settings name, for the blob events' URLs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from kernel.settings import StorageSettings

#: The local emulator's well-known account; the embedded store plays it too.
DEV_ACCOUNT = "devstoreaccount1"
DEV_BLOB_ENDPOINT = f"http://127.0.0.1:10000/{DEV_ACCOUNT}"


@dataclass(frozen=True, slots=True)
class StorageAccount:
    name: str
    blob_endpoint: str


def describe_account(storage: StorageSettings) -> StorageAccount:
    if storage.connection_string:
        parts = dict(
            item.split("=", 1) for item in storage.connection_string.split(";") if "=" in item
        )
        if parts.get("UseDevelopmentStorage", "").lower() == "true":
            return StorageAccount(DEV_ACCOUNT, DEV_BLOB_ENDPOINT)
        name = parts.get("AccountName", DEV_ACCOUNT)
        suffix = parts.get("EndpointSuffix", "core.windows.net")
        protocol = parts.get("DefaultEndpointsProtocol", "https")
        endpoint = parts.get("BlobEndpoint") or f"{protocol}://{name}.blob.{suffix}"
        return StorageAccount(name, endpoint.rstrip("/"))
    if storage.blob_service_uri:
        host = urlsplit(storage.blob_service_uri).hostname or DEV_ACCOUNT
        return StorageAccount(host.split(".")[0], storage.blob_service_uri.rstrip("/"))
    return StorageAccount(DEV_ACCOUNT, DEV_BLOB_ENDPOINT)
