"""Web ingestion's composition: its services on the shared platform and the
document workflow's upload path, built once, on first use."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from kernel.egress.addresses import AddressPolicy, Resolver, system_resolver, timed_resolver
from kernel.egress.fetch import FetchLimits, PinnedFetcher
from kernel.errors import NotFoundError
from kernel.platform import Platform, platform
from processing.repository import DocumentRepository
from processing.uploads import UploadService
from webingest.batch import BatchService, BatchTracker, BatchWorker
from webingest.crawl import CrawlService, CrawlWorker
from webingest.ingest import PageIngester
from webingest.intake import UploadIntake
from webingest.jobs import Frontier
from webingest.politeness import HostGate
from webingest.repository import WebIngestRepository
from webingest.robots import RobotsCache
from webingest.scrape import ScrapeService
from webingest.settings import WEBINGEST_ALLOWED_CIDRS, WebIngestSettings, webingest_settings

log = logging.getLogger(__name__)


class DocumentStatusReader:
    """What a batch asks the workflow about its documents."""

    def __init__(self, documents: DocumentRepository) -> None:
        self._documents = documents

    def status(self, document_id: str) -> str | None:
        try:
            return self._documents.get(document_id).status.value
        except NotFoundError:
            return None


@dataclass(frozen=True, slots=True)
class WebIngest:
    settings: WebIngestSettings
    platform: Platform
    policy: AddressPolicy
    fetcher: PinnedFetcher
    repository: WebIngestRepository
    scrapes: ScrapeService
    crawls: CrawlService
    crawler: CrawlWorker
    batches: BatchService
    batch_worker: BatchWorker
    tracker: BatchTracker


def build_webingest(
    settings: WebIngestSettings,
    shared: Platform,
    *,
    uploads: UploadService,
    documents: DocumentRepository,
    max_bytes: int,
    resolver: Resolver = system_resolver,
    sleep: Callable[[float], None] = time.sleep,
) -> WebIngest:
    stores, clock = shared.stores, shared.clock
    policy = AddressPolicy(
        settings.allowed_cidrs,
        timed_resolver(resolver, settings.dns_timeout_seconds),
        purpose="web ingestion",
        allow_list_setting=WEBINGEST_ALLOWED_CIDRS,
        own_endpoints=shared.settings.own_endpoints,
    )
    fetcher = PinnedFetcher(
        policy,
        user_agent=settings.user_agent,
        limits=FetchLimits(
            max_bytes=max_bytes,
            connect_timeout=min(10.0, settings.fetch_timeout_seconds),
            read_timeout=min(20.0, settings.fetch_timeout_seconds),
            total_timeout=float(settings.fetch_timeout_seconds),
        ),
    )
    repository = WebIngestRepository(stores.tables, settings.table)
    frontier = Frontier(stores.queues, settings.queue)
    robots = RobotsCache(
        tables=stores.tables,
        table=settings.table,
        fetcher=fetcher,
        agent=settings.robots_agent,
        ttl_seconds=settings.robots_ttl_seconds,
    )
    intake = UploadIntake(uploads)
    ingester = PageIngester(fetcher=fetcher, robots=robots, intake=intake, clock=clock)
    gate = HostGate(stores.tables, settings.table)
    interval = settings.host_interval_ms / 1000
    statuses = DocumentStatusReader(documents)
    tracker = BatchTracker(
        repository=repository, statuses=statuses, publisher=shared.publisher, clock=clock
    )
    return WebIngest(
        settings=settings,
        platform=shared,
        policy=policy,
        fetcher=fetcher,
        repository=repository,
        scrapes=ScrapeService(ingester=ingester, honour_robots=settings.scrape_robots),
        crawls=CrawlService(
            repository=repository,
            frontier=frontier,
            policy=policy,
            clock=clock,
            max_pages=settings.max_pages,
            max_depth=settings.max_depth,
        ),
        crawler=CrawlWorker(
            repository=repository,
            frontier=frontier,
            ingester=ingester,
            gate=gate,
            blobs=stores.blobs,
            publisher=shared.publisher,
            clock=clock,
            host_interval=interval,
            sleep=sleep,
        ),
        batches=BatchService(
            repository=repository,
            frontier=frontier,
            intake=intake,
            statuses=statuses,
            policy=policy,
            publisher=shared.publisher,
            clock=clock,
            max_items=settings.batch_max_items,
            max_bytes=settings.batch_max_bytes,
        ),
        batch_worker=BatchWorker(
            repository=repository,
            frontier=frontier,
            ingester=ingester,
            tracker=tracker,
            gate=gate,
            honour_robots=settings.scrape_robots,
            host_interval=interval,
            sleep=sleep,
        ),
        tracker=tracker,
    )


@cache
def webingest() -> WebIngest:
    """The process-wide web ingestion services, built from the environment on first use."""
    from processing.runtime import services

    settings = webingest_settings()
    warning = settings.allow_list_warning()
    if warning:
        log.warning("webingest.allow_list_active", extra={"detail": warning})
    documents = services()
    return build_webingest(
        settings,
        platform(),
        uploads=documents.uploads,
        documents=documents.documents,
        max_bytes=documents.settings.max_upload_bytes,
    )
