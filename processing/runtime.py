"""The document workflow's composition: its services on the shared platform,
built once, on first use.

Nothing here runs at import time, so importing the function app constructs no
SDK client and imports no SDK (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache, partial

from kernel.platform import Platform, platform
from processing.deletion import DeletionService
from processing.enrichment.ports import Enrichment, Summarizer
from processing.enrichment.settings import SummaryProvider
from processing.processor import DocumentProcessor, Extract, extract_in_process
from processing.reconciler import Reconciler
from processing.repository import DocumentRepository
from processing.settings import ProcessingSettings, processing_settings
from processing.uploads import UploadService

#: How long a document may sit queued and unclaimed before the reconciler announces it
#: again: past Event Grid's first retries (10 s, 30 s, 1 min), so a backlog Event Grid is
#: still delivering is not announced twice over.
RECONCILE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Services:
    settings: ProcessingSettings
    platform: Platform
    documents: DocumentRepository
    uploads: UploadService
    deletions: DeletionService
    processor: DocumentProcessor
    reconciler: Reconciler

    def result_bytes(self, result_blob: str) -> bytes:
        """A stored result's JSON, exactly as written."""
        return self.platform.stores.blobs.get(self.settings.results_container, result_blob)


def build_services(
    settings: ProcessingSettings,
    shared: Platform,
    *,
    extract: Extract | None = None,
    enrichment: Enrichment | None = None,
) -> Services:
    stores, clock = shared.stores, shared.clock
    enrichment = enrichment or create_enrichment(settings, shared)
    variant = ""
    if enrichment is not None or settings.enrichment.spacy_model:
        variant = settings.enrichment.fingerprint()
    documents = DocumentRepository(stores.tables, settings.documents_table, cache_variant=variant)
    processor = DocumentProcessor(
        blobs=stores.blobs,
        documents=documents,
        publisher=shared.publisher,
        inbox_container=settings.inbox_container,
        results_container=settings.results_container,
        public_base_url=shared.settings.public_base_url,
        limits=settings.limits,
        lease=timedelta(seconds=settings.lease_seconds),
        heartbeat=timedelta(seconds=settings.heartbeat_seconds),
        max_attempts=settings.max_attempts,
        extract=extract or create_extractor(settings),
        enrichment=enrichment,
        inbox_default_owner=settings.inbox_default_owner,
        clock=clock,
    )
    deletions = DeletionService(
        blobs=stores.blobs,
        documents=documents,
        publisher=shared.publisher,
        results_container=settings.results_container,
        clock=clock,
    )
    return Services(
        settings=settings,
        platform=shared,
        documents=documents,
        uploads=UploadService(
            blobs=stores.blobs,
            documents=documents,
            publisher=shared.publisher,
            container=settings.uploads_container,
            max_bytes=settings.max_upload_bytes,
            max_per_owner=settings.max_documents_per_owner,
            clock=clock,
        ),
        deletions=deletions,
        processor=processor,
        reconciler=Reconciler(
            documents=documents,
            publisher=shared.publisher,
            processor=processor,
            older_than=RECONCILE_AFTER,
            deletions=deletions,
            retention=settings.retention,
            max_attempts=settings.max_attempts,
            clock=clock,
        ),
    )


def create_extractor(settings: ProcessingSettings) -> Extract:
    """The pipeline in isolated worker processes, or in-process when isolation is off."""
    options = settings.analysis
    if not settings.isolation:
        return partial(extract_in_process, options=options)
    from processing.extraction.isolation import IsolatedPipeline

    return IsolatedPipeline(settings.isolation_limits, options)


def create_enrichment(settings: ProcessingSettings, shared: Platform) -> Enrichment | None:
    """The cloud providers the settings name, on the platform's one credential; ``None``
    when none is configured. Builds no SDK client: adapters connect on first use."""
    config = settings.enrichment
    if not config.cloud_enabled:
        return None
    from processing.enrichment.service import CloudEnrichment

    language = None
    if config.language_endpoint is not None:
        from processing.enrichment.azure_language import AzureLanguageService

        language = AzureLanguageService(
            config.language_endpoint,
            key=config.language_key,
            credential=None if config.language_key else shared.credential,
            pii_categories=config.pii_categories,
        )
    summarizer: Summarizer | None = None
    if config.summary_provider is SummaryProvider.AZURE_OPENAI:
        from processing.enrichment.openai_summary import OpenAISummarizer

        assert config.summary_endpoint is not None and config.summary_model is not None
        summarizer = OpenAISummarizer(
            config.summary_endpoint,
            config.summary_model,
            api_key=config.summary_api_key,
            credential=None if config.summary_api_key else shared.credential,
        )
    elif config.summary_provider is SummaryProvider.AZURE_LANGUAGE:
        from processing.enrichment.language_summary import LanguageSummarizer

        assert language is not None  # the settings require LANGUAGE_ENDPOINT
        summarizer = LanguageSummarizer(language, max_chars=config.language_max_chars)
    return CloudEnrichment(
        config,
        language=language,
        summarizer=summarizer,
        max_entities=settings.limits.max_entities,
        max_analysis_chars=settings.limits.max_analysis_chars,
    )


@cache
def services() -> Services:
    """The process-wide workflow services, built from the environment on first use."""
    return build_services(processing_settings(), platform())
