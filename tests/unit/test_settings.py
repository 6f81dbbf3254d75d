"""Settings: read once from the environment into frozen objects per capability,
every name read listed in the sample file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel import telemetry
from kernel.auth.settings import AuthSettings
from kernel.env import Env
from kernel.errors import SettingsError
from kernel.settings import OPTIONAL as PLATFORM_OPTIONAL
from kernel.settings import PlatformSettings, StorageSettings
from notifications import settings as notification_settings
from notifications.settings import NotificationSettings
from processing import settings as processing_settings
from processing.extraction.limits import MIB, Limits
from processing.settings import ProcessingSettings
from search import settings as search_settings
from search.settings import SearchSettings
from webingest import settings as webingest_settings
from webingest.settings import WebIngestSettings

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_PROVIDED = {"WEBSITE_HOSTNAME", "WEBSITE_INSTANCE_ID"}
#: Identity-based connections: service URIs and a client id have no local
#: value (locally a connection string or the embedded store is used), and an
#: empty one in local.settings.json would tell Core Tools' host that the
#: connection exists. The connection strings themselves (AzureWebJobsStorage,
#: DATA_STORAGE) are in the sample, empty.
IDENTITY_ONLY = {
    f"{connection}__{name}"
    for connection in ("AzureWebJobsStorage", "DATA_STORAGE")
    for name in ("blobServiceUri", "queueServiceUri", "tableServiceUri", "clientId")
}


def names_read() -> set[str]:
    """Every setting name the code reads while building all settings objects."""
    env = Env({})
    PlatformSettings.from_env(env)
    ProcessingSettings.from_env(env)
    NotificationSettings.from_env(env)
    SearchSettings.from_env(env)
    WebIngestSettings.from_env(env)
    AuthSettings.from_env(env)
    telemetry.configure((), env)
    return env.read


def test_every_setting_the_code_reads_is_in_the_sample_file() -> None:
    sample = set(json.loads((ROOT / "local.settings.sample.json").read_text())["Values"])
    missing = names_read() - sample - PLATFORM_PROVIDED - IDENTITY_ONLY
    assert missing == set()


def test_every_setting_in_the_sample_file_is_read() -> None:
    sample = set(json.loads((ROOT / "local.settings.sample.json").read_text())["Values"])
    # Read by the Functions host or the worker, not by the app's code.
    host_only = {"AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME"}
    assert sample - host_only - names_read() == set()


def test_defaults_without_any_environment() -> None:
    platform = PlatformSettings.from_env({})
    settings = ProcessingSettings.from_env({})
    assert platform.storage.embedded
    assert settings.limits == Limits()
    assert settings.isolation is True
    assert platform.public_base_url == "http://127.0.0.1:7071"


def test_limits_come_from_their_settings() -> None:
    settings = ProcessingSettings.from_env(
        {
            "MAX_UPLOAD_BYTES": "1000",
            "MAX_PAGES": "7",
            "MAX_ANALYSIS_CHARS": "500",
            "MAX_ENTITIES": "3",
            "DOCX_MAX_RATIO": "20",
            "PROCESSING_TIMEOUT_SECONDS": "9",
            "PROCESSING_MEMORY_MB": "256",
            "PROCESSING_WORKERS": "4",
            "PROCESSING_ISOLATION": "false",
        }
    )
    assert settings.max_upload_bytes == 1000
    assert (settings.limits.max_pages, settings.limits.max_entities) == (7, 3)
    assert settings.limits.max_analysis_chars == 500
    assert settings.limits.max_zip_ratio == 20.0
    assert settings.limits.timeout_seconds == 9.0
    assert settings.isolation_limits.memory_bytes == 256 * MIB
    assert settings.isolation_limits.workers == 4
    assert settings.isolation is False


def test_data_storage_wins_over_the_host_connection() -> None:
    """With DATA_STORAGE set the app's data goes there, whatever
    AzureWebJobsStorage says (in Azure: two accounts)."""
    storage = StorageSettings.from_env(
        {
            "AzureWebJobsStorage__blobServiceUri": "https://host.blob.core.windows.net",
            "AzureWebJobsStorage__clientId": "host-identity",
            "DATA_STORAGE__blobServiceUri": "https://data.blob.core.windows.net",
            "DATA_STORAGE__queueServiceUri": "https://data.queue.core.windows.net",
            "DATA_STORAGE__tableServiceUri": "https://data.table.core.windows.net",
            "DATA_STORAGE__clientId": "app-identity",
            "STORAGE_PROVISIONED": "true",
        }
    )
    assert storage.connection == "DATA_STORAGE"
    assert storage.blob_service_uri == "https://data.blob.core.windows.net"
    assert storage.queue_service_uri == "https://data.queue.core.windows.net"
    assert storage.client_id == "app-identity"
    assert storage.provisioned is True


def test_data_storage_as_a_connection_string() -> None:
    storage = StorageSettings.from_env(
        {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "DATA_STORAGE": "Other=1"}
    )
    assert (storage.connection, storage.connection_string) == ("DATA_STORAGE", "Other=1")


@pytest.mark.parametrize(
    "env",
    [
        {"AzureWebJobsStorage": "UseDevelopmentStorage=true"},
        {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "DATA_STORAGE": "  "},
    ],
)
def test_without_data_storage_the_app_falls_back_to_azure_web_jobs_storage(
    env: dict[str, str],
) -> None:
    """make run-azurite, Azurite setups and older local settings: one account."""
    storage = StorageSettings.from_env(env)
    assert storage.connection == "AzureWebJobsStorage"
    assert storage.connection_string == "UseDevelopmentStorage=true"
    assert storage.provisioned is False


def test_identity_based_host_storage_alone_still_serves_the_app() -> None:
    storage = StorageSettings.from_env(
        {
            "AzureWebJobsStorage__blobServiceUri": "https://one.blob.core.windows.net",
            "AzureWebJobsStorage__clientId": "the-identity",
        }
    )
    assert storage.connection == "AzureWebJobsStorage"
    assert storage.blob_service_uri == "https://one.blob.core.windows.net"
    assert storage.client_id == "the-identity"


@pytest.mark.parametrize(
    "env",
    [
        {"DATA_STORAGE__clientId": "app-identity"},
        {"DATA_STORAGE__queueServiceUri": "https://data.queue.core.windows.net"},
        {
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "DATA_STORAGE__tableServiceUri": "https://data.table.core.windows.net",
        },
    ],
)
def test_half_a_data_storage_connection_is_refused(env: dict[str, str]) -> None:
    """Never a silent fall back to other storage (or the embedded store)
    when DATA_STORAGE is meant but incomplete."""
    with pytest.raises(SettingsError, match="DATA_STORAGE__blobServiceUri"):
        StorageSettings.from_env(env)


def test_storage_provisioned_must_be_a_flag() -> None:
    with pytest.raises(SettingsError, match="STORAGE_PROVISIONED"):
        StorageSettings.from_env({"STORAGE_PROVISIONED": "sometimes"})


def test_the_platform_hostname_sets_the_public_base_url() -> None:
    settings = PlatformSettings.from_env({"WEBSITE_HOSTNAME": "docflow.azurewebsites.net"})
    assert settings.public_base_url == "https://docflow.azurewebsites.net"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_UPLOAD_BYTES", "ten"),
        ("MAX_PAGES", "0"),
        ("PROCESSING_WORKERS", "-1"),
        ("PROCESSING_ISOLATION", "maybe"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ProcessingSettings.from_env({name: value})


def test_a_bad_log_level_is_refused_with_the_setting_named() -> None:
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        telemetry.configure((), {"LOG_LEVEL": "LOUD"})


def test_log_level_sets_the_app_loggers(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    logger = logging.getLogger("tests.log_level_probe")
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    telemetry.configure(("tests.log_level_probe",), {"LOG_LEVEL": "warning"})
    assert logger.level == logging.WARNING


def test_optional_names_are_names_the_code_reads() -> None:
    optional = (
        PLATFORM_OPTIONAL
        | processing_settings.OPTIONAL
        | notification_settings.OPTIONAL
        | search_settings.OPTIONAL
        | webingest_settings.OPTIONAL
        | telemetry.OPTIONAL
    )
    assert optional <= names_read()
