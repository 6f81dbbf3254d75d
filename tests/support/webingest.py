"""Web ingestion wired to the embedded store, with a pump that plays the
Functions host: it drains the frontier queue through the worker and routes
the document workflow's events (no tests here)."""

from __future__ import annotations

import gzip
import ipaddress
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernel.errors import NotFoundError
from kernel.events.catalog import COMPLETION_TYPES, DOCUMENT_UPLOADED
from kernel.events.cloudevents import InboundEvent
from kernel.events.embedded import EmbeddedEventPublisher
from kernel.platform import Platform
from kernel.settings import PlatformSettings, StorageSettings
from processing.extraction.limits import Limits
from processing.processor import extract_in_process
from processing.runtime import Services, build_services
from processing.settings import ProcessingSettings
from tests.builders.docx_files import docx_package, paragraph
from tests.builders.pdfs import build_minimal_pdf
from tests.builders.sites import article
from tests.support.site import Page, Site, redirect
from webingest.jobs import FrontierJob
from webingest.runtime import WebIngest, build_webingest
from webingest.settings import WebIngestSettings

LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


@dataclass
class Harness:
    docs: Services
    web: WebIngest
    publisher: EmbeddedEventPublisher
    queue: str
    handled: list[str] = field(default_factory=list)
    _seen_events: int = 0

    def pump(self, *, until: Any = None, timeout: float = 20.0, process: bool = False) -> None:
        """Run frontier jobs (and, with ``process``, the document workflow's
        events) until ``until()`` is true or, without ``until``, nothing is
        left; a job that raises stays on the queue, as the host would leave it."""
        deadline = time.monotonic() + timeout
        idle_since: float | None = None
        while time.monotonic() < deadline:
            if until is not None and until():
                return
            worked = self._run_jobs()
            if process:
                worked = self._run_events() or worked
            if worked:
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if until is None and time.monotonic() - idle_since > 1.5:  # past a 1 s visibility
                return
            time.sleep(0.05)
        if until is not None:
            raise AssertionError("the pump timed out before the condition held")

    def _run_jobs(self) -> bool:
        queues = self.web.platform.stores.queues
        messages = queues.receive(self.queue, max_messages=8, visibility_timeout=1)
        for message in messages:
            job = FrontierJob.from_message(message.content)
            try:
                if job.kind == "crawl":
                    self.web.crawler.handle(job, dequeue_count=message.dequeue_count)
                else:
                    self.web.batch_worker.handle(job)
            except Exception:
                if message.dequeue_count >= 5:
                    queues.delete(self.queue, message)  # the host's poison queue
                continue
            self.handled.append(message.content)
            queues.delete(self.queue, message)
        return bool(messages)

    def _run_events(self) -> bool:
        events = self.publisher.events[self._seen_events :]
        self._seen_events += len(events)
        for event in events:
            self._route(event)
        return bool(events)

    def _route(self, event: dict[str, Any]) -> None:
        inbound = InboundEvent(
            id=event["id"], type=event["type"], subject=event["subject"], data=event["data"]
        )
        if inbound.type == DOCUMENT_UPLOADED:
            self.docs.processor.handle(inbound)
        elif inbound.type in COMPLETION_TYPES:
            data = inbound.data_object()
            self.web.tracker.on_document_finished(data["document_id"], data["status"])

    def document(self, document_id: str) -> Any:
        try:
            return self.docs.documents.get(document_id)
        except NotFoundError:
            return None


def harness(data_dir: Path, *, max_upload_bytes: int = 1024 * 1024, **settings: Any) -> Harness:
    publisher = EmbeddedEventPublisher()
    shared = Platform(
        PlatformSettings(storage=StorageSettings(data_dir=data_dir)), publisher=publisher
    )
    docs = build_services(
        ProcessingSettings(limits=Limits(max_document_bytes=max_upload_bytes)),
        shared,
        extract=extract_in_process,
    )
    web_settings = WebIngestSettings(
        allowed_cidrs=LOOPBACK_ONLY,
        fetch_timeout_seconds=2,
        **{"host_interval_ms": 0, **settings},
    )
    web = build_webingest(
        web_settings,
        shared,
        uploads=docs.uploads,
        documents=docs.documents,
        max_bytes=max_upload_bytes,
    )
    return Harness(docs=docs, web=web, publisher=publisher, queue=web_settings.queue)


def generated_site(site: Site, *, crawl_delay: float | None = None) -> Site:
    """A small site: robots.txt (a disallowed folder, a sitemap, an optional
    Crawl-delay), pages linking in loops and to one another in many spellings,
    redirects, throttling, a huge page, a gzip bomb, a slow page, a PDF, a
    DOCX and a page in German."""
    origin = site.origin
    delay = f"Crawl-delay: {crawl_delay}\n" if crawl_delay is not None else ""
    site.pages["/robots.txt"] = Page(
        f"User-agent: *\nDisallow: /private/\n{delay}Sitemap: {origin}/sitemap.xml\n".encode(),
        content_type="text/plain",
    )
    site.pages["/sitemap.xml"] = Page(
        (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{origin}/from-sitemap</loc></url><url><loc>{origin}/a</loc></url>"
            "</urlset>"
        ).encode(),
        content_type="application/xml",
    )
    home_links = [
        "/a",
        "/a/",
        "/a#section",
        "/a?utm_source=newsletter",
        f"{origin.upper()}/a",
        "./a",
        "/b",
        "/private/secret",
        "/loop",
        "/old",
        "/huge",
        "/bomb",
        "/slow",
        "/busy",
        "/report.pdf",
        "/memo.docx",
        "/de",
        "/excluded/page",
        "https://elsewhere.example/",
        "mailto:someone@example.com",
    ]
    site.pages["/"] = Page(article("Home", links=home_links))
    site.pages["/a"] = Page(article("Page A", links=["/", "/b", "/a"]))
    site.pages["/b"] = Page(article("Page B", links=["/deep/1"]))
    site.pages["/deep/1"] = Page(article("Deep 1", links=["/deep/2"]))
    site.pages["/deep/2"] = Page(article("Deep 2", links=["/deep/3"]))
    site.pages["/deep/3"] = Page(article("Deep 3"))
    site.pages["/loop"] = Page(article("Loop", links=["/loop", "/", "/loop?"]))
    site.pages["/old"] = redirect("/b", 301)
    site.pages["/private/secret"] = Page(article("Secret"))
    site.pages["/from-sitemap"] = Page(article("Only in the sitemap"))
    site.pages["/excluded/page"] = Page(article("Excluded"))
    site.pages["/huge"] = Page(article("Huge", extra="<p>" + "word " * 400_000 + "</p>"))
    site.pages["/bomb"] = Page(
        gzip.compress(b" " * (30 * 1024 * 1024)), headers=(("Content-Encoding", "gzip"),)
    )
    site.pages["/slow"] = Page(article("Slow") * 3, drip=200, drip_delay=0.2)
    site.pages["/busy"] = Page(article("Busy"), throttle_once=1)
    site.pages["/report.pdf"] = Page(
        build_minimal_pdf([["Quarterly report of the analytical engine society."]]),
        content_type="application/pdf",
    )
    site.pages["/memo.docx"] = Page(
        docx_package(paragraph("A memo about punched cards and looms.")),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    site.pages["/de"] = Page(article("Die Maschine", language="de"))
    for name in ("home", "products", "pricing", "careers"):  # the navigation bar's pages
        site.pages[f"/{name}"] = Page(article(name.title()))
    return site


#: What a crawl of :func:`generated_site` with depth 2 fetches as documents.
FETCHED_PATHS = {
    "/",
    "/home",
    "/products",
    "/pricing",
    "/careers",
    "/a",
    "/b",
    "/loop",
    "/deep/1",
    "/busy",
    "/report.pdf",
    "/memo.docx",
    "/de",
    "/from-sitemap",
}
