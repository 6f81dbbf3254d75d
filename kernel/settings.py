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
from kernel.errors import SettingsError

# Storage connections, named as the Functions host names them: a connection
# string in ``<NAME>`` or an identity-based connection in ``<NAME>__*``.
# AzureWebJobsStorage is the Functions host's own storage (keys, locks, the
# deployment package); DATA_STORAGE is the app's data (documents, results,
# records, the webhook queue). In Azure they are two accounts reached by two
# identities (docs/deploy.md); locally DATA_STORAGE may stay unset and the app
# falls back to AzureWebJobsStorage, one account for both.
STORAGE = "AzureWebJobsStorage"
DATA_STORAGE = "DATA_STORAGE"
BLOB_URI_SUFFIX = "__blobServiceUri"
QUEUE_URI_SUFFIX = "__queueServiceUri"
TABLE_URI_SUFFIX = "__tableServiceUri"
CLIENT_ID_SUFFIX = "__clientId"
STORAGE_BLOB_URI = STORAGE + BLOB_URI_SUFFIX
STORAGE_QUEUE_URI = STORAGE + QUEUE_URI_SUFFIX
STORAGE_TABLE_URI = STORAGE + TABLE_URI_SUFFIX
STORAGE_CLIENT_ID = STORAGE + CLIENT_ID_SUFFIX
DATA_STORAGE_BLOB_URI = DATA_STORAGE + BLOB_URI_SUFFIX
DATA_STORAGE_QUEUE_URI = DATA_STORAGE + QUEUE_URI_SUFFIX
DATA_STORAGE_TABLE_URI = DATA_STORAGE + TABLE_URI_SUFFIX
DATA_STORAGE_CLIENT_ID = DATA_STORAGE + CLIENT_ID_SUFFIX
#: true: every container, table and queue exists already (infra creates them)
#: and the Azure adapters never try to create one, so the app's identity
#: needs no right to create (or delete) them.
STORAGE_PROVISIONED = "STORAGE_PROVISIONED"
DATA_DIR = "DATA_DIR"

EVENTGRID_TOPIC_ENDPOINT = "EVENTGRID_TOPIC_ENDPOINT"
EVENTGRID_TOPIC_KEY = "EVENTGRID_TOPIC_KEY"
PUBLIC_BASE_URL = "PUBLIC_BASE_URL"
WEBSITE_HOSTNAME = "WEBSITE_HOSTNAME"  # set by the Azure Functions platform

DEFAULT_DATA_DIR = Path(".data")
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:7071"

#: Platform settings with a default, which a deployment may leave out.
OPTIONAL = frozenset({DATA_DIR, EVENTGRID_TOPIC_KEY, PUBLIC_BASE_URL, STORAGE_PROVISIONED})


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Where the app's blobs, tables and queues live.

    ``connection_string`` set: Azure Storage or Azurite with a connection
    string. Service URIs set: Azure Storage with managed identity. Neither:
    the embedded store under ``data_dir``. ``connection`` names the setting
    family they came from (for messages); ``provisioned`` says every
    container, table and queue already exists.
    """

    connection_string: str | None = None
    blob_service_uri: str | None = None
    queue_service_uri: str | None = None
    table_service_uri: str | None = None
    client_id: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    connection: str = DATA_STORAGE
    provisioned: bool = False

    @property
    def embedded(self) -> bool:
        return not self.connection_string and not self.blob_service_uri

    @property
    def queue_uri_setting(self) -> str:
        return self.connection + QUEUE_URI_SUFFIX

    @property
    def table_uri_setting(self) -> str:
        return self.connection + TABLE_URI_SUFFIX

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> StorageSettings:
        """The app's data storage: the ``DATA_STORAGE`` connection when any of
        its settings is set, else ``AzureWebJobsStorage`` (``make run``,
        Azurite and settings written before the two were split), else the
        embedded store."""
        env = as_env(source)
        data = cls.for_connection(DATA_STORAGE, env)
        if data.connection_string or data.blob_service_uri or _any_identity_setting(data):
            return data
        return cls.for_connection(STORAGE, env)

    @classmethod
    def for_connection(
        cls, connection: str, source: Env | Mapping[str, str] | None = None
    ) -> StorageSettings:
        """The storage one connection name points at (no fallback)."""
        env = as_env(source)
        settings = cls(
            connection_string=env.optional(connection),
            blob_service_uri=env.optional(connection + BLOB_URI_SUFFIX),
            queue_service_uri=env.optional(connection + QUEUE_URI_SUFFIX),
            table_service_uri=env.optional(connection + TABLE_URI_SUFFIX),
            client_id=env.optional(connection + CLIENT_ID_SUFFIX),
            data_dir=Path(env.text(DATA_DIR, str(DEFAULT_DATA_DIR))),
            connection=connection,
            provisioned=env.flag(STORAGE_PROVISIONED, default=False),
        )
        if settings.embedded and _any_identity_setting(settings):
            # Half an identity-based connection would silently fall back to
            # the embedded store: data written where nobody looks.
            raise SettingsError(
                f"{connection}{BLOB_URI_SUFFIX} (or {connection}) must be set "
                f"when other {connection}__* settings are"
            )
        return settings


def _any_identity_setting(settings: StorageSettings) -> bool:
    return bool(settings.queue_service_uri or settings.table_service_uri or settings.client_id)


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
