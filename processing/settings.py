"""The document workflow's settings, read once into a frozen object.

Every name read here is a constant below and appears in
``local.settings.sample.json`` and in the Bicep app settings; the platform's
own settings (storage, the topic, the public URL) are in :mod:`kernel.settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from kernel.env import Env, as_env
from kernel.errors import SettingsError
from kernel.identity import LOCAL_OWNER
from processing.enrichment import settings as enrichment_settings
from processing.enrichment.settings import EnrichmentSettings
from processing.extraction.limits import MIB, IsolationLimits, Limits
from processing.extraction.options import AnalysisOptions
from processing.records import is_owner_id

UPLOADS_CONTAINER = "UPLOADS_CONTAINER"
INBOX_CONTAINER = "INBOX_CONTAINER"
RESULTS_CONTAINER = "RESULTS_CONTAINER"
DOCUMENTS_TABLE = "DOCUMENTS_TABLE"

MAX_UPLOAD_BYTES = "MAX_UPLOAD_BYTES"
PROCESSING_LEASE_SECONDS = "PROCESSING_LEASE_SECONDS"
PROCESSING_TIMEOUT_SECONDS = "PROCESSING_TIMEOUT_SECONDS"
PROCESSING_MAX_ATTEMPTS = "PROCESSING_MAX_ATTEMPTS"
PROCESSING_HEARTBEAT_SECONDS = "PROCESSING_HEARTBEAT_SECONDS"
RESULTS_RETENTION_DAYS = "RESULTS_RETENTION_DAYS"
DOCUMENTS_MAX_PER_OWNER = "DOCUMENTS_MAX_PER_OWNER"
INBOX_DEFAULT_OWNER = "INBOX_DEFAULT_OWNER"

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

#: Every setting here has a default: a deployment may leave any of them out.
OPTIONAL = frozenset(
    {
        UPLOADS_CONTAINER,
        INBOX_CONTAINER,
        RESULTS_CONTAINER,
        DOCUMENTS_TABLE,
        MAX_UPLOAD_BYTES,
        PROCESSING_LEASE_SECONDS,
        PROCESSING_TIMEOUT_SECONDS,
        PROCESSING_MAX_ATTEMPTS,
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
        PROCESSING_HEARTBEAT_SECONDS,
        RESULTS_RETENTION_DAYS,
        DOCUMENTS_MAX_PER_OWNER,
        INBOX_DEFAULT_OWNER,
    }
    # Enrichment (processing/enrichment/settings.py): every one has a default.
    | enrichment_settings.OPTIONAL
)


@dataclass(frozen=True, slots=True)
class ProcessingSettings:
    uploads_container: str = "uploads"
    inbox_container: str = "inbox"
    results_container: str = "results"
    documents_table: str = "documents"
    limits: Limits = field(default_factory=Limits)
    #: A claim's lease: a few heartbeats, so a dead holder's document is free soon.
    lease_seconds: int = 60
    #: How often a holder renews its lease while it works (at most half the lease).
    heartbeat_seconds: int = 15
    #: Claims a document may have before it ends ``failed`` (``attempts_exhausted``).
    max_attempts: int = 5
    #: Parse in resource-limited worker processes (off only for trusted input).
    isolation: bool = True
    isolation_limits: IsolationLimits = field(default_factory=IsolationLimits)
    enrichment: EnrichmentSettings = field(default_factory=EnrichmentSettings)
    #: Days a document (bytes, result, record) is kept after its upload; 0 = for ever.
    retention_days: int = 90
    #: Documents one owner may store at once; 0 = no cap.
    max_documents_per_owner: int = 10_000
    #: Who owns an inbox drop outside an ``<owner>/`` folder (with AUTH_MODE=jwt).
    inbox_default_owner: str = LOCAL_OWNER

    @property
    def retention(self) -> timedelta | None:
        return timedelta(days=self.retention_days) if self.retention_days else None

    @property
    def analysis(self) -> AnalysisOptions:
        """What the pipeline's offline providers do (run inside the worker)."""
        return AnalysisOptions(spacy_model=self.enrichment.spacy_model)

    @property
    def max_upload_bytes(self) -> int:
        return self.limits.max_document_bytes

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> ProcessingSettings:
        env = as_env(source)
        defaults = cls()
        lease_seconds = env.positive_int(PROCESSING_LEASE_SECONDS, defaults.lease_seconds)
        heartbeat_seconds = env.positive_int(
            PROCESSING_HEARTBEAT_SECONDS, defaults.heartbeat_seconds
        )
        if heartbeat_seconds * 2 > lease_seconds:
            raise SettingsError(
                f"{PROCESSING_HEARTBEAT_SECONDS} ({heartbeat_seconds}) must be at most half of"
                f" {PROCESSING_LEASE_SECONDS} ({lease_seconds}), so a late beat keeps the claim"
            )
        return cls(
            uploads_container=env.text(UPLOADS_CONTAINER, defaults.uploads_container),
            inbox_container=env.text(INBOX_CONTAINER, defaults.inbox_container),
            results_container=env.text(RESULTS_CONTAINER, defaults.results_container),
            documents_table=env.text(DOCUMENTS_TABLE, defaults.documents_table),
            limits=_limits(env, defaults.limits),
            lease_seconds=lease_seconds,
            heartbeat_seconds=heartbeat_seconds,
            max_attempts=env.positive_int(PROCESSING_MAX_ATTEMPTS, defaults.max_attempts),
            isolation=env.flag(PROCESSING_ISOLATION, default=defaults.isolation),
            isolation_limits=IsolationLimits(
                memory_bytes=env.positive_int(
                    PROCESSING_MEMORY_MB, defaults.isolation_limits.memory_bytes // MIB
                )
                * MIB,
                cpu_seconds=env.positive_int(
                    PROCESSING_CPU_SECONDS, defaults.isolation_limits.cpu_seconds
                ),
                workers=env.positive_int(PROCESSING_WORKERS, defaults.isolation_limits.workers),
            ),
            enrichment=EnrichmentSettings.from_env(env),
            retention_days=env.count(RESULTS_RETENTION_DAYS, defaults.retention_days),
            max_documents_per_owner=env.count(
                DOCUMENTS_MAX_PER_OWNER, defaults.max_documents_per_owner
            ),
            inbox_default_owner=_owner(env, INBOX_DEFAULT_OWNER, defaults.inbox_default_owner),
        )


def _owner(env: Env, name: str, default: str) -> str:
    value = env.text(name, default)
    if not is_owner_id(value):
        raise SettingsError(f"{name}: {value!r} is not an owner id (<tenant id>:<object id>)")
    return value


def _limits(env: Env, default: Limits) -> Limits:
    return Limits(
        max_document_bytes=env.positive_int(MAX_UPLOAD_BYTES, default.max_document_bytes),
        max_pages=env.positive_int(MAX_PAGES, default.max_pages),
        max_zip_entries=env.positive_int(DOCX_MAX_ENTRIES, default.max_zip_entries),
        max_zip_uncompressed_bytes=env.positive_int(
            DOCX_MAX_UNCOMPRESSED_BYTES, default.max_zip_uncompressed_bytes
        ),
        max_zip_part_bytes=env.positive_int(DOCX_MAX_PART_BYTES, default.max_zip_part_bytes),
        max_zip_ratio=float(env.positive_int(DOCX_MAX_RATIO, int(default.max_zip_ratio))),
        zip_ratio_floor_bytes=default.zip_ratio_floor_bytes,
        max_text_chars=env.positive_int(MAX_TEXT_CHARS, default.max_text_chars),
        max_analysis_chars=env.positive_int(MAX_ANALYSIS_CHARS, default.max_analysis_chars),
        max_entities=env.positive_int(MAX_ENTITIES, default.max_entities),
        timeout_seconds=float(
            env.positive_int(PROCESSING_TIMEOUT_SECONDS, int(default.timeout_seconds))
        ),
    )


@cache
def processing_settings() -> ProcessingSettings:
    """The process's workflow settings, read from the environment on first use."""
    return ProcessingSettings.from_env()
