"""The document workflow's composition: its services on the shared platform,
built once, on first use.

Nothing here runs at import time, so importing the function app constructs no
SDK client and imports no SDK (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from kernel.platform import Platform, platform
from processing.processor import DocumentProcessor, Extract, extract_in_process
from processing.reconciler import Reconciler
from processing.repository import DocumentRepository
from processing.settings import ProcessingSettings, processing_settings
from processing.uploads import UploadService

#: How long a document may sit unannounced before the reconciler nudges it.
RECONCILE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Services:
    settings: ProcessingSettings
    platform: Platform
    documents: DocumentRepository
    uploads: UploadService
    processor: DocumentProcessor
    reconciler: Reconciler

    def result_bytes(self, result_blob: str) -> bytes:
        """A stored result's JSON, exactly as written."""
        return self.platform.stores.blobs.get(self.settings.results_container, result_blob)


def build_services(
    settings: ProcessingSettings, shared: Platform, *, extract: Extract | None = None
) -> Services:
    stores, clock = shared.stores, shared.clock
    documents = DocumentRepository(stores.tables, settings.documents_table)
    processor = DocumentProcessor(
        blobs=stores.blobs,
        documents=documents,
        publisher=shared.publisher,
        inbox_container=settings.inbox_container,
        results_container=settings.results_container,
        public_base_url=shared.settings.public_base_url,
        limits=settings.limits,
        lease=timedelta(seconds=settings.lease_seconds),
        max_attempts=settings.max_attempts,
        extract=extract or create_extractor(settings),
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
            clock=clock,
        ),
        processor=processor,
        reconciler=Reconciler(
            documents=documents,
            publisher=shared.publisher,
            processor=processor,
            older_than=RECONCILE_AFTER,
            max_attempts=settings.max_attempts,
            clock=clock,
        ),
    )


def create_extractor(settings: ProcessingSettings) -> Extract:
    """The pipeline in isolated worker processes, or in-process when isolation is off."""
    if not settings.isolation:
        return extract_in_process
    from processing.extraction.isolation import IsolatedPipeline

    return IsolatedPipeline(settings.isolation_limits)


@cache
def services() -> Services:
    """The process-wide workflow services, built from the environment on first use."""
    return build_services(processing_settings(), platform())
