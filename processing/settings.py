"""Application settings, read once from the environment into a frozen object.

Every name the code reads is a constant here and appears in
``local.settings.sample.json``. Nothing else in the app reads ``os.environ``
(except the Azure SDKs, which read their own well-known variables such as
``AZURE_CLIENT_ID``).
"""

from __future__ import annotations

import ipaddress
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

# Webhooks (notifications/).
LOGIC_APP_URL = "LOGIC_APP_URL"
WEBHOOK_QUEUE = "WEBHOOK_QUEUE"
WEBHOOK_RETRY_SCHEDULE = "WEBHOOK_RETRY_SCHEDULE"
WEBHOOK_ALLOWED_CIDRS = "WEBHOOK_ALLOWED_CIDRS"
WEBHOOK_SUBSCRIPTIONS_TABLE = "WEBHOOK_SUBSCRIPTIONS_TABLE"
WEBHOOK_DELIVERIES_TABLE = "WEBHOOK_DELIVERIES_TABLE"

#: Seconds between delivery attempts: 8 attempts over about 27.6 hours.
DEFAULT_WEBHOOK_RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
#: Azure Storage queues hide a message for at most seven days.
_MAX_RETRY_DELAY_SECONDS = 7 * 24 * 3600

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
        LOGIC_APP_URL,
        WEBHOOK_RETRY_SCHEDULE,
        WEBHOOK_ALLOWED_CIDRS,
        WEBHOOK_SUBSCRIPTIONS_TABLE,
        WEBHOOK_DELIVERIES_TABLE,
        # Not WEBHOOK_QUEUE: the queue trigger's binding names it (%WEBHOOK_QUEUE%),
        # and the Functions host refuses to index a binding whose setting is unset.
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
    #: Logic App HTTP trigger URLs (with their SAS query) that get every completion.
    logic_app_urls: tuple[str, ...] = ()
    webhook_queue: str = "webhook-deliveries"
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    #: The only exception to the webhook SSRF policy; empty by default.
    webhook_allowed_cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    webhook_subscriptions_table: str = "webhooksubscriptions"
    webhook_deliveries_table: str = "webhookdeliveries"

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
            logic_app_urls=_items(env.get(LOGIC_APP_URL, "")),
            webhook_queue=text(WEBHOOK_QUEUE, defaults.webhook_queue),
            webhook_retry_schedule=parse_retry_schedule(env.get(WEBHOOK_RETRY_SCHEDULE, ""))
            or defaults.webhook_retry_schedule,
            webhook_allowed_cidrs=parse_cidrs(env.get(WEBHOOK_ALLOWED_CIDRS, "")),
            webhook_subscriptions_table=text(
                WEBHOOK_SUBSCRIPTIONS_TABLE, defaults.webhook_subscriptions_table
            ),
            webhook_deliveries_table=text(
                WEBHOOK_DELIVERIES_TABLE, defaults.webhook_deliveries_table
            ),
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


def parse_retry_schedule(raw: str) -> tuple[float, ...]:
    """Delays in seconds from ``"5,300,1800"``; empty text gives ``()``."""
    if not raw.strip():
        return ()
    delays = []
    for item in raw.split(","):
        try:
            delay = float(item.strip())
        except ValueError:
            raise SettingsError(
                f"{WEBHOOK_RETRY_SCHEDULE} must be comma-separated seconds, not {raw!r}"
            ) from None
        if not 0 < delay <= _MAX_RETRY_DELAY_SECONDS:
            raise SettingsError(
                f"{WEBHOOK_RETRY_SCHEDULE}: each delay must be above 0 and at most"
                f" {_MAX_RETRY_DELAY_SECONDS} seconds (a queue message's longest hiding)"
            )
        delays.append(delay)
    return tuple(delays)


def parse_cidrs(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Networks from ``"127.0.0.0/8, ::1/128"``; a bare address is a one-address network."""
    networks = []
    for item in _items(raw):
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise SettingsError(f"{WEBHOOK_ALLOWED_CIDRS}: {item!r} is not a CIDR: {exc}") from None
    return tuple(networks)


def _items(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
