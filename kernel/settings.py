"""Reading settings once into frozen objects, and the platform's own settings.

Each capability declares the names it reads as constants in its own settings
module and builds one frozen settings object from the environment through
:class:`kernel.env.Env`, which types every value and remembers which names were read
(the settings contract test builds every settings object and checks that
each name read appears in ``local.settings.sample.json`` and in the Bicep
app settings). Nothing else in the app reads ``os.environ``, apart from the
Azure SDKs' own well-known variables (such as ``AZURE_CLIENT_ID``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from kernel.env import Env, as_env

# Storage: the Functions host's own setting decides, as in every Functions app.
STORAGE = "AzureWebJobsStorage"
STORAGE_BLOB_URI = "AzureWebJobsStorage__blobServiceUri"
STORAGE_QUEUE_URI = "AzureWebJobsStorage__queueServiceUri"
STORAGE_TABLE_URI = "AzureWebJobsStorage__tableServiceUri"
STORAGE_CLIENT_ID = "AzureWebJobsStorage__clientId"
DATA_DIR = "DATA_DIR"

EVENTGRID_TOPIC_ENDPOINT = "EVENTGRID_TOPIC_ENDPOINT"
EVENTGRID_TOPIC_KEY = "EVENTGRID_TOPIC_KEY"
PUBLIC_BASE_URL = "PUBLIC_BASE_URL"
WEBSITE_HOSTNAME = "WEBSITE_HOSTNAME"  # set by the Azure Functions platform

DEFAULT_DATA_DIR = Path(".data")
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:7071"

#: Platform settings with a default, which a deployment may leave out.
OPTIONAL = frozenset({DATA_DIR, EVENTGRID_TOPIC_KEY, PUBLIC_BASE_URL})


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
    data_dir: Path = DEFAULT_DATA_DIR

    @property
    def embedded(self) -> bool:
        return not self.connection_string and not self.blob_service_uri

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> StorageSettings:
        env = as_env(source)
        return cls(
            connection_string=env.optional(STORAGE),
            blob_service_uri=env.optional(STORAGE_BLOB_URI),
            queue_service_uri=env.optional(STORAGE_QUEUE_URI),
            table_service_uri=env.optional(STORAGE_TABLE_URI),
            client_id=env.optional(STORAGE_CLIENT_ID),
            data_dir=Path(env.text(DATA_DIR, str(DEFAULT_DATA_DIR))),
        )


@dataclass(frozen=True, slots=True)
class PlatformSettings:
    """What every capability shares: storage, the event topic, the public URL."""

    storage: StorageSettings = field(default_factory=StorageSettings)
    eventgrid_endpoint: str | None = None
    eventgrid_key: str | None = None
    #: The app's own origin, as callers reach it (links in events and answers).
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    #: The host name the platform gives the app (``WEBSITE_HOSTNAME`` in Azure).
    website_hostname: str | None = None

    @property
    def own_endpoints(self) -> tuple[tuple[str, int], ...]:
        """Where the app itself is reached, as ``(host, port)``: outbound
        requests (webhooks, fetches) must never target these, or the app
        would call itself."""
        endpoints = []
        base = urlsplit(self.public_base_url)
        if base.hostname:
            endpoints.append((base.hostname, base.port or (443 if base.scheme == "https" else 80)))
        if self.website_hostname:
            endpoints.append((self.website_hostname.lower(), 443))
        return tuple(dict.fromkeys(endpoints))

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> PlatformSettings:
        env = as_env(source)
        hostname = env.optional(WEBSITE_HOSTNAME)
        base_url = env.optional(PUBLIC_BASE_URL) or (
            f"https://{hostname}" if hostname else DEFAULT_PUBLIC_BASE_URL
        )
        return cls(
            storage=StorageSettings.from_env(env),
            eventgrid_endpoint=env.optional(EVENTGRID_TOPIC_ENDPOINT),
            eventgrid_key=env.optional(EVENTGRID_TOPIC_KEY),
            public_base_url=base_url.rstrip("/"),
            website_hostname=hostname,
        )


@cache
def platform_settings() -> PlatformSettings:
    """The process's platform settings, read from the environment on first use."""
    return PlatformSettings.from_env()
