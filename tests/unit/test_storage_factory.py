"""Choosing storage adapters, connection strings, error mapping and name rules:
everything about the adapters that needs no running service."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kernel.credentials import managed_identity
from kernel.errors import (
    ConflictError,
    DependencyError,
    InvalidNameError,
    InvalidValueError,
    NotFoundError,
    SettingsError,
)
from kernel.settings import StorageSettings
from kernel.storage.azure import AzureBlobStore, AzureQueueStore, AzureTableStore
from kernel.storage.azure.connection import (
    DEVELOPMENT_ACCOUNT_KEY,
    expand_connection_string,
    translate_error,
)
from kernel.storage.embedded import EmbeddedBlobStore, EmbeddedQueueStore, EmbeddedTableStore
from kernel.storage.factory import Stores, create_stores
from kernel.storage.validation import check_container_name, check_table_name, split_blob_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "shorthand",
    ["UseDevelopmentStorage=true", "usedevelopmentstorage=TRUE;", " UseDevelopmentStorage = true "],
)
def test_development_storage_shorthand_expands_to_azurite_endpoints(shorthand: str) -> None:
    expanded = expand_connection_string(shorthand)
    assert f"AccountKey={DEVELOPMENT_ACCOUNT_KEY}" in expanded
    assert "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1" in expanded
    assert "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1" in expanded
    assert "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1" in expanded


def test_development_storage_proxy_uri_replaces_the_host() -> None:
    expanded = expand_connection_string(
        "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite"
    )
    assert "TableEndpoint=http://azurite:10002/devstoreaccount1" in expanded


def test_other_connection_strings_are_left_alone() -> None:
    connection = (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;"
        "EndpointSuffix=core.windows.net"
    )
    assert expand_connection_string(connection) == connection


def test_malformed_connection_strings_are_a_settings_error() -> None:
    with pytest.raises(SettingsError):
        AzureBlobStore(connection_string="not a connection string")


def test_all_three_sdks_reach_azurite_with_the_shorthand() -> None:
    """The SDKs differ on ``UseDevelopmentStorage=true;`` (tables rejects the
    trailing semicolon); expanded, all three point at Azurite's ports."""
    blobs = AzureBlobStore(connection_string="UseDevelopmentStorage=true;")
    tables = AzureTableStore(connection_string="UseDevelopmentStorage=true;")
    queues = AzureQueueStore(connection_string="UseDevelopmentStorage=true;")
    assert blobs._service_client().url.startswith("http://127.0.0.1:10000/devstoreaccount1")
    assert tables._service_client().url.startswith("http://127.0.0.1:10002/devstoreaccount1")
    assert queues._service_client().url.startswith("http://127.0.0.1:10001/devstoreaccount1")
    for store in (blobs, tables, queues):
        store.close()


def test_no_connection_settings_choose_the_embedded_store(tmp_path: Path) -> None:
    stores = create_stores(StorageSettings(data_dir=tmp_path))
    assert isinstance(stores.blobs, EmbeddedBlobStore)
    assert isinstance(stores.tables, EmbeddedTableStore)
    assert isinstance(stores.queues, EmbeddedQueueStore)
    stores.close()


def test_a_connection_string_chooses_azure() -> None:
    stores = create_stores(StorageSettings(connection_string="UseDevelopmentStorage=true"))
    assert isinstance(stores.blobs, AzureBlobStore)
    assert isinstance(stores.tables, AzureTableStore)
    assert isinstance(stores.queues, AzureQueueStore)


def test_service_uris_choose_azure_and_derive_missing_siblings() -> None:
    stores = create_stores(
        StorageSettings(
            blob_service_uri="https://acct.blob.core.windows.net",
            table_service_uri="https://acct.table.example.net",
        )
    )
    assert isinstance(stores.queues, AzureQueueStore)
    assert stores.queues._connection.account_url == "https://acct.queue.core.windows.net"
    assert isinstance(stores.tables, AzureTableStore)
    assert stores.tables._connection.account_url == "https://acct.table.example.net"


@pytest.mark.parametrize("connection", ["DATA_STORAGE", "AzureWebJobsStorage"])
def test_a_non_standard_blob_uri_needs_explicit_siblings(connection: str) -> None:
    """The error names the setting of the connection the URIs came from."""
    with pytest.raises(SettingsError, match=f"{connection}__queueServiceUri"):
        create_stores(
            StorageSettings(
                blob_service_uri="http://127.0.0.1:10000/devstoreaccount1", connection=connection
            )
        )


@pytest.mark.parametrize("provisioned", [False, True])
def test_provisioned_storage_builds_stores_that_never_create(provisioned: bool) -> None:
    """STORAGE_PROVISIONED reaches every Azure store, by connection string or
    by service URI."""
    for settings in (
        StorageSettings(connection_string="UseDevelopmentStorage=true", provisioned=provisioned),
        StorageSettings(
            blob_service_uri="https://acct.blob.core.windows.net", provisioned=provisioned
        ),
    ):
        stores = create_stores(settings)
        for store in (stores.blobs, stores.tables, stores.queues):
            assert store._created._enabled is not provisioned  # type: ignore[attr-defined]


def test_the_managed_identity_factory_builds_one_shared_credential() -> None:
    from azure.identity import ManagedIdentityCredential

    factory = managed_identity("00000000-0000-0000-0000-000000000001")
    credential = factory()
    assert isinstance(credential, ManagedIdentityCredential)
    assert factory() is credential


def test_importing_and_building_the_stores_imports_no_azure_sdk() -> None:
    code = (
        "import sys\n"
        "from kernel.storage.factory import create_stores\n"
        "from kernel.settings import StorageSettings\n"
        "create_stores(StorageSettings(connection_string='UseDevelopmentStorage=true'))\n"
        "create_stores(StorageSettings(blob_service_uri='https://a.blob.core.windows.net'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'azure'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _http_error(status: int, code: str | None = None) -> Exception:
    from azure.core.exceptions import HttpResponseError

    error = HttpResponseError(message=f"status {status}")
    error.status_code = status
    error.error_code = code  # type: ignore[attr-defined]
    return error


def test_sdk_errors_map_to_port_errors() -> None:
    from azure.core.exceptions import (
        ClientAuthenticationError,
        ResourceExistsError,
        ResourceModifiedError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    cases: list[tuple[Exception, type[Exception]]] = [
        (ResourceNotFoundError("gone"), NotFoundError),
        (ResourceExistsError("taken"), ConflictError),
        (ResourceModifiedError("raced"), ConflictError),
        (ClientAuthenticationError("no role yet"), DependencyError),
        (ServiceRequestError("connection refused"), DependencyError),
        (ServiceResponseError("read timed out"), DependencyError),
        (_http_error(404), NotFoundError),
        (_http_error(409), ConflictError),
        (_http_error(412), ConflictError),
        (_http_error(400, "InvalidInput"), InvalidValueError),
        (_http_error(429), DependencyError),
        (_http_error(500), DependencyError),
        (_http_error(503, "ServerBusy"), DependencyError),
        (_http_error(409, "ContainerBeingDeleted"), DependencyError),
    ]
    for error, expected in cases:
        translated = translate_error(error, "act")  # type: ignore[arg-type]
        assert type(translated) is expected, (error, translated)
        assert translated.message.startswith("act: ")


@pytest.mark.parametrize("name", ["abc", "inbox", "a-b-c", "x" * 63, "123"])
def test_valid_container_names_pass(name: str) -> None:
    assert check_container_name(name) == name


@pytest.mark.parametrize("name", ["documents", "Documents", "abc", "a12"])
def test_valid_table_names_pass(name: str) -> None:
    assert check_table_name(name) == name


@pytest.mark.parametrize("name", ["ab", "1abc", "with-dash", "tables", "x" * 64])
def test_invalid_table_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidNameError):
        check_table_name(name)


def test_blob_names_map_to_folder_segments() -> None:
    assert split_blob_path("a/b/c.pdf") == ["a", "b", "c.pdf"]
    assert split_blob_path("name with spaces & ü.txt") == ["name with spaces & ü.txt"]


def test_stores_close_every_store_that_can_close(tmp_path: Path) -> None:
    stores = Stores(
        blobs=EmbeddedBlobStore(tmp_path),
        tables=EmbeddedTableStore(tmp_path),
        queues=EmbeddedQueueStore(tmp_path),
    )
    stores.tables.upsert("docs", {"PartitionKey": "p", "RowKey": "r"})
    stores.close()
    # Reopens on next use after close.
    assert stores.tables.get("docs", "p", "r")["RowKey"] == "r"
    stores.close()


# Creating containers, tables and queues, or not (STORAGE_PROVISIONED)


def _missing(code: str) -> Exception:
    from azure.core.exceptions import ResourceNotFoundError

    error = ResourceNotFoundError(message="missing")
    error.error_code = code  # type: ignore[attr-defined]
    return error


def test_created_names_create_once_and_again_after_the_name_is_gone() -> None:
    from kernel.storage.azure.connection import CreatedNames

    created: list[str] = []
    names = CreatedNames(created.append, "ContainerNotFound")
    assert names.call("uploads", lambda: 1) == 1
    assert names.call("uploads", lambda: 2) == 2
    assert created == ["uploads"]
    calls = iter([_missing("ContainerNotFound"), None])

    def recreated() -> str:
        error = next(calls)
        if error is not None:
            raise error
        return "ok"

    assert names.call("uploads", recreated) == "ok"
    assert created == ["uploads", "uploads"]


def test_provisioned_names_are_never_created_and_a_missing_one_is_a_dependency_error() -> None:
    """With create off nothing needs (or uses) the right to create: the
    operation runs as is, and a missing container is a deployment fault, not
    a missing blob."""
    from azure.core.exceptions import ResourceNotFoundError

    from kernel.storage.azure.connection import CreatedNames

    def refuse(name: str) -> None:
        raise AssertionError(f"created {name}")

    names = CreatedNames(refuse, "ContainerNotFound", enabled=False)
    assert names.call("uploads", lambda: "ok") == "ok"

    def container_gone() -> None:
        raise _missing("ContainerNotFound")

    with pytest.raises(DependencyError, match=r"'uploads' does not exist.*provisioned"):
        names.call("uploads", container_gone)

    def blob_gone() -> None:
        raise _missing("BlobNotFound")

    with pytest.raises(ResourceNotFoundError):
        names.call("uploads", blob_gone)
