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

from processing.extraction.limits import MIB, IsolationLimits, Limits

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

# Limits on untrusted documents (processing/extraction/limits.py has the defaults).
MAX_PAGES = "MAX_PAGES"
MAX_TEXT_CHARS = "MAX_TEXT_CHARS"
MAX_ANALYSIS_CHARS = "MAX_ANALYSIS_CHARS"
MAX_ENTITIES = "MAX_ENTITIES"
DOCX_MAX_ENTRIES = "DOCX_MAX_ENTRIES"
DOCX_MAX_UNCOMPRESSED_BYTES = "DOCX_MAX_UNCOMPRESSED_BYTES"
DOCX_MAX_PART_BYTES = "DOCX_MAX_PART_BYTES"
DOCX_MAX_RATIO = "DOCX_MAX_RATIO"

# Isolated parsing (processing/extraction/isolation.py).
PROCESSING_ISOLATION = "PROCESSING_ISOLATION"
PROCESSING_WORKERS = "PROCESSING_WORKERS"
PROCESSING_MEMORY_MB = "PROCESSING_MEMORY_MB"
PROCESSING_CPU_SECONDS = "PROCESSING_CPU_SECONDS"

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
        MAX_PAGES,
        MAX_TEXT_CHARS,
        MAX_ANALYSIS_CHARS,
        MAX_ENTITIES,
        DOCX_MAX_ENTRIES,
        DOCX_MAX_UNCOMPRESSED_BYTES,
        DOCX_MAX_PART_BYTES,
        DOCX_MAX_RATIO,
        PROCESSING_ISOLATION,
        PROCESSING_WORKERS,
        PROCESSING_MEMORY_MB,
        PROCESSING_CPU_SECONDS,
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
    limits: Limits = field(default_factory=Limits)
    lease_seconds: int = 300
    #: Parse in resource-limited worker processes (off only for debugging).
    isolation: bool = True
    isolation_limits: IsolationLimits = field(default_factory=IsolationLimits)
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
    def max_upload_bytes(self) -> int:
        return self.limits.max_document_bytes

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
            limits=_limits(env, defaults.limits),
            lease_seconds=_positive_int(env, PROCESSING_LEASE_SECONDS, defaults.lease_seconds),
            isolation=_flag(env, PROCESSING_ISOLATION, default=defaults.isolation),
            isolation_limits=IsolationLimits(
                memory_bytes=_positive_int(
                    env, PROCESSING_MEMORY_MB, defaults.isolation_limits.memory_bytes // MIB
                )
                * MIB,
                cpu_seconds=_positive_int(
                    env, PROCESSING_CPU_SECONDS, defaults.isolation_limits.cpu_seconds
                ),
                workers=_positive_int(env, PROCESSING_WORKERS, defaults.isolation_limits.workers),
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


def _limits(env: Mapping[str, str], default: Limits) -> Limits:
    return Limits(
        max_document_bytes=_positive_int(env, MAX_UPLOAD_BYTES, default.max_document_bytes),
        max_pages=_positive_int(env, MAX_PAGES, default.max_pages),
        max_zip_entries=_positive_int(env, DOCX_MAX_ENTRIES, default.max_zip_entries),
        max_zip_uncompressed_bytes=_positive_int(
            env, DOCX_MAX_UNCOMPRESSED_BYTES, default.max_zip_uncompressed_bytes
        ),
        max_zip_part_bytes=_positive_int(env, DOCX_MAX_PART_BYTES, default.max_zip_part_bytes),
        max_zip_ratio=float(_positive_int(env, DOCX_MAX_RATIO, int(default.max_zip_ratio))),
        zip_ratio_floor_bytes=default.zip_ratio_floor_bytes,
        max_text_chars=_positive_int(env, MAX_TEXT_CHARS, default.max_text_chars),
        max_analysis_chars=_positive_int(env, MAX_ANALYSIS_CHARS, default.max_analysis_chars),
        max_entities=_positive_int(env, MAX_ENTITIES, default.max_entities),
        timeout_seconds=float(
            _positive_int(env, PROCESSING_TIMEOUT_SECONDS, int(default.timeout_seconds))
        ),
    )


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"true", "1", "yes"}:
        return True
    if raw in {"false", "0", "no"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


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
