"""The composition root: builds services from settings, once, on first use.

Nothing here runs at import time, so importing the function app constructs no
SDK client and imports no SDK (cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from processing.adapters.factory import Stores, create_stores
from processing.ports import EventPublisher
from processing.processor import DocumentProcessor, Extract, run_pipeline
from processing.reconciler import Reconciler
from processing.records import DocumentRepository
from processing.settings import EVENTGRID_TOPIC_ENDPOINT, Settings, SettingsError, get_settings
from processing.uploads import Clock, UploadService, utcnow

#: How long a document may sit unannounced before the reconciler nudges it.
RECONCILE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    stores: Stores
    documents: DocumentRepository
    uploads: UploadService
    processor: DocumentProcessor
    reconciler: Reconciler


def build_services(
    settings: Settings,
    *,
    stores: Stores | None = None,
    publisher: EventPublisher | None = None,
    extract: Extract | None = None,
    clock: Clock = utcnow,
) -> Services:
    stores = stores or create_stores(settings.storage)
    publisher = publisher or create_publisher(settings)
    documents = DocumentRepository(stores.tables, settings.documents_table)
    processor = DocumentProcessor(
        blobs=stores.blobs,
        documents=documents,
        publisher=publisher,
        inbox_container=settings.inbox_container,
        results_container=settings.results_container,
        public_base_url=settings.public_base_url,
        limits=settings.limits,
        lease=timedelta(seconds=settings.lease_seconds),
        extract=extract or create_extractor(settings),
        clock=clock,
    )
    return Services(
        settings=settings,
        stores=stores,
        documents=documents,
        uploads=UploadService(
            blobs=stores.blobs,
            documents=documents,
            publisher=publisher,
            container=settings.uploads_container,
            max_bytes=settings.max_upload_bytes,
            clock=clock,
        ),
        processor=processor,
        reconciler=Reconciler(
            documents=documents,
            publisher=publisher,
            processor=processor,
            older_than=RECONCILE_AFTER,
            clock=clock,
        ),
    )


def create_extractor(settings: Settings) -> Extract:
    """The pipeline in isolated worker processes, or in-process when isolation is off."""
    if not settings.isolation:
        return run_pipeline
    from processing.extraction.isolation import IsolatedPipeline

    return IsolatedPipeline(settings.isolation_limits)


def create_publisher(settings: Settings) -> EventPublisher:
    if not settings.eventgrid_endpoint:
        raise SettingsError(f"{EVENTGRID_TOPIC_ENDPOINT} is not set")
    from processing.adapters.eventgrid import EventGridPublisher

    return EventGridPublisher(
        settings.eventgrid_endpoint,
        key=settings.eventgrid_key,
        client_id=settings.storage.client_id,
    )


@cache
def services() -> Services:
    """The process-wide services, built from the environment on first use."""
    return build_services(get_settings())
