"""Application settings, read once from the environment into a frozen object.

Every name the code reads is a constant here and appears in
``local.settings.sample.json``. Nothing else in the app reads ``os.environ``
(except the Azure SDKs, which read their own well-known variables such as
``AZURE_CLIENT_ID``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from processing.limits import MIB, Limits

# Storage: the Functions host's own setting decides, as in every Functions app.
STORAGE = "AzureWebJobsStorage"
STORAGE_BLOB_URI = "AzureWebJobsStorage__blobServiceUri"
STORAGE_QUEUE_URI = "AzureWebJobsStorage__queueServiceUri"
STORAGE_TABLE_URI = "AzureWebJobsStorage__tableServiceUri"
STORAGE_CLIENT_ID = "AzureWebJobsStorage__clientId"
DATA_DIR = "DATA_DIR"

EVENTGRID_TOPIC_ENDPOINT = "EVENTGRID_TOPIC_ENDPOINT"
EVENTGRID_TOPIC_KEY = "EVENTGRID_TOPIC_KEY"

UPLOADS_CONTAINER = "UPLOADS_CONTAINER"
INBOX_CONTAINER = "INBOX_CONTAINER"
RESULTS_CONTAINER = "RESULTS_CONTAINER"
DOCUMENTS_TABLE = "DOCUMENTS_TABLE"
PUBLIC_BASE_URL = "PUBLIC_BASE_URL"
WEBSITE_HOSTNAME = "WEBSITE_HOSTNAME"  # set by the Azure Functions platform

MAX_UPLOAD_BYTES = "MAX_UPLOAD_BYTES"
PROCESSING_LEASE_SECONDS = "PROCESSING_LEASE_SECONDS"
PROCESSING_TIMEOUT_SECONDS = "PROCESSING_TIMEOUT_SECONDS"

LOG_LEVEL = "LOG_LEVEL"

#: Settings with a default, which a deployment may leave out.
OPTIONAL = frozenset(
    {
        DATA_DIR,
        EVENTGRID_TOPIC_KEY,
        UPLOADS_CONTAINER,
        INBOX_CONTAINER,
        RESULTS_CONTAINER,
        DOCUMENTS_TABLE,
        PUBLIC_BASE_URL,
        MAX_UPLOAD_BYTES,
        PROCESSING_LEASE_SECONDS,
        PROCESSING_TIMEOUT_SECONDS,
        LOG_LEVEL,
    }
)


class SettingsError(ValueError):
    """A setting holds a value the app cannot use."""


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Where blobs, tables and queues live.

    ``connection_string`` set: Azure Storage or Azurite with a connection
    string. Service URIs set: Azure Storage with managed identity. Neither:
    the embedded store under ``data_dir``.
    """

    connection_string: str | None = None
    blob_service_uri: str | None = None
    queue_service_uri: str | None = None
    table_service_uri: str | None = None
    client_id: str | None = None
    data_dir: Path = Path(".data")

    @property
    def embedded(self) -> bool:
        return not self.connection_string and not self.blob_service_uri


@dataclass(frozen=True, slots=True)
class Settings:
    storage: StorageSettings = field(default_factory=StorageSettings)
    eventgrid_endpoint: str | None = None
    eventgrid_key: str | None = None
    uploads_container: str = "uploads"
    inbox_container: str = "inbox"
    results_container: str = "results"
    documents_table: str = "documents"
    public_base_url: str = "http://127.0.0.1:7071"
    max_upload_bytes: int = 100 * MIB
    lease_seconds: int = 300
    processing_timeout_seconds: float = 60.0
    log_level: str = "INFO"

    @property
    def limits(self) -> Limits:
        return Limits(
            max_document_bytes=self.max_upload_bytes,
            timeout_seconds=self.processing_timeout_seconds,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def text(name: str, default: str) -> str:
            return env.get(name, "").strip() or default

        def optional(name: str) -> str | None:
            return env.get(name, "").strip() or None

        connection = optional(STORAGE)
        hostname = optional(WEBSITE_HOSTNAME)
        base_url = optional(PUBLIC_BASE_URL) or (
            f"https://{hostname}" if hostname else defaults.public_base_url
        )
        return cls(
            storage=StorageSettings(
                connection_string=connection,
                blob_service_uri=optional(STORAGE_BLOB_URI),
                queue_service_uri=optional(STORAGE_QUEUE_URI),
                table_service_uri=optional(STORAGE_TABLE_URI),
                client_id=optional(STORAGE_CLIENT_ID),
                data_dir=Path(text(DATA_DIR, str(defaults.storage.data_dir))),
            ),
            eventgrid_endpoint=optional(EVENTGRID_TOPIC_ENDPOINT),
            eventgrid_key=optional(EVENTGRID_TOPIC_KEY),
            uploads_container=text(UPLOADS_CONTAINER, defaults.uploads_container),
            inbox_container=text(INBOX_CONTAINER, defaults.inbox_container),
            results_container=text(RESULTS_CONTAINER, defaults.results_container),
            documents_table=text(DOCUMENTS_TABLE, defaults.documents_table),
            public_base_url=base_url.rstrip("/"),
            max_upload_bytes=_positive_int(env, MAX_UPLOAD_BYTES, defaults.max_upload_bytes),
            lease_seconds=_positive_int(env, PROCESSING_LEASE_SECONDS, defaults.lease_seconds),
            processing_timeout_seconds=float(
                _positive_int(
                    env, PROCESSING_TIMEOUT_SECONDS, int(defaults.processing_timeout_seconds)
                )
            ),
            log_level=text(LOG_LEVEL, defaults.log_level).upper(),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {value}")
    return value


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
