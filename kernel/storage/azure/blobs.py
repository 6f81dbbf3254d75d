""":class:`~kernel.storage.ports.BlobStore` on Azure Blob Storage (or Azurite)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from kernel.storage.ports import BlobInfo, BlobTooLargeError
from kernel.storage.validation import (
    check_blob_name,
    check_container_name,
    check_metadata,
)

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties, BlobServiceClient, ContainerClient

from kernel.credentials import CredentialFactory
from kernel.storage.azure.connection import (
    ClientOptions,
    Connection,
    CreatedNames,
    ping_service,
    storage_retry,
    translated,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class AzureBlobStore:
    """:class:`~kernel.storage.ports.BlobStore` on Azure Blob Storage."""

    def __init__(
        self,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: CredentialFactory | None = None,
        options: ClientOptions | None = None,
        create: bool = True,
    ) -> None:
        self._connection = Connection("blob", connection_string, account_url, credential)
        self._options = options or ClientOptions()
        self._lock = threading.Lock()
        self._service: BlobServiceClient | None = None
        self._containers: dict[str, ContainerClient] = {}
        self._created = CreatedNames(self._create_container, "ContainerNotFound", enabled=create)

    def _client(self, container: str) -> ContainerClient:
        check_container_name(container)
        with self._lock:
            client = self._containers.get(container)
            if client is None:
                client = self._service_client().get_container_client(container)
                self._containers[container] = client
            return client

    def _service_client(self) -> BlobServiceClient:
        if self._service is None:
            from azure.storage.blob import BlobServiceClient, ExponentialRetry

            self._service = self._connection.service_client(
                BlobServiceClient,
                "blob storage",
                **storage_retry(self._options, ExponentialRetry),
            )
        return self._service

    def _create_container(self, container: str) -> None:
        self._client(container).create_container()

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.close()
            self._service = None
            self._containers.clear()

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
        from azure.storage.blob import ContentSettings

        check_blob_name(name)
        checked_metadata = check_metadata(metadata)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        client = self._client(container)
        with translated(f"put blob {container}/{name}"):
            result = self._created.call(
                container,
                lambda: client.get_blob_client(name).upload_blob(
                    data,
                    overwrite=overwrite,
                    content_settings=ContentSettings(content_type=content_type),
                    metadata=checked_metadata,
                ),
            )
        return BlobInfo(
            container=container,
            name=name,
            etag=_quoted(result["etag"]),
            size=len(data),
            content_type=content_type,
            last_modified=result.get("last_modified"),
            metadata=checked_metadata,
        )

    def get(self, container: str, name: str, *, max_bytes: int | None = None) -> bytes:
        check_blob_name(name)
        client = self._client(container)
        with translated(f"get blob {container}/{name}"):
            if max_bytes is None:
                return client.download_blob(name).readall()
            # A ranged read: however large the blob, at most one byte over the cap arrives.
            data = client.download_blob(name, offset=0, length=max_bytes + 1).readall()
        if len(data) > max_bytes:
            raise BlobTooLargeError(f"blob {name!r} is larger than {max_bytes} bytes")
        return data

    def info(self, container: str, name: str) -> BlobInfo:
        check_blob_name(name)
        client = self._client(container)
        with translated(f"get properties of blob {container}/{name}"):
            properties = client.get_blob_client(name).get_blob_properties()
        return _blob_info(container, properties)

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        client = self._client(container)
        return self._list(client, container, prefix)

    def _list(self, client: ContainerClient, container: str, prefix: str) -> Iterator[BlobInfo]:
        from azure.core.exceptions import ResourceNotFoundError

        with translated(f"list blobs in {container}"):
            try:
                for properties in client.list_blobs(
                    name_starts_with=prefix or None, include=["metadata"]
                ):
                    yield _blob_info(container, properties)
            except ResourceNotFoundError:
                return

    def delete(self, container: str, name: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        check_blob_name(name)
        client = self._client(container)
        with translated(f"delete blob {container}/{name}"):
            try:
                client.delete_blob(name, delete_snapshots="include")
            except ResourceNotFoundError:
                return

    def ping(self, timeout: float) -> None:
        ping_service(self._service_client().list_containers, "blob storage", timeout)


def _blob_info(container: str, properties: BlobProperties) -> BlobInfo:
    return BlobInfo(
        container=container,
        name=properties.name,
        etag=_quoted(properties.etag),
        size=int(properties.size),
        content_type=properties.content_settings.content_type,
        last_modified=properties.last_modified,
        metadata=dict(properties.metadata or {}),
    )


def _quoted(etag: object) -> str:
    # Headers carry ETags quoted, listing XML bare: one form, so they compare equal.
    text = str(etag)
    return text if text.startswith(('"', "W/")) else f'"{text}"'
