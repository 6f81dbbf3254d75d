"""Crawls: start, read, cancel, and the frontier worker that fetches their URLs.

The frontier is the queue (one message per URL) plus the crawl's URL rows:
inserting a URL's row is the atomic "seen" check, so no URL is queued twice
for one crawl whichever instance finds it. A page slot is taken from the
crawl row (ETag-guarded) before each fetch and given back when the fetch
yields no document, so a crawl never fetches more than ``max_pages`` pages
however many instances run. Each URL's row moves new → queued → fetched →
done; a message redelivered after a crash resumes from the row's state (a
fetched page's links are read again from its stored bytes), and the crawl
is complete once no row is open.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from kernel.clock import Clock, iso
from kernel.egress.addresses import AddressPolicy, UrlRejectedError
from kernel.egress.fetch import REDIRECTS, FetchError, FetchTooLargeError
from kernel.errors import AppError, ConflictError, DependencyError, NotFoundError
from kernel.events.ports import EventPublisher
from kernel.logcontext import bind
from kernel.storage.ports import BlobStore
from processing.extraction.errors import DocumentError
from webingest.errors import InvalidCrawlError, RobotsDisallowedError, UpstreamStatusError
from webingest.events import crawl_completed
from webingest.ingest import PageIngester
from webingest.jobs import Frontier, FrontierJob
from webingest.pages import is_html, page_links, sitemap_urls
from webingest.politeness import Defer, HostGate, wait_for_turn
from webingest.records import (
    FETCHED,
    CrawlCounts,
    CrawlRecord,
    CrawlStatus,
    UrlRow,
    UrlState,
    new_id,
)
from webingest.repository import WebIngestRepository
from webingest.robots import Robots
from webingest.urls import Scope, absolute_links, normalize, parse_patterns, shown_url, url_key

log = logging.getLogger(__name__)

#: Fetches of one URL answered 429/503 before it counts as failed.
MAX_THROTTLED_ATTEMPTS = 3
#: Deliveries of one message before it is ended as failed (the host then dead-letters it).
MAX_DEQUEUE = 5
_SITEMAP = "sitemap"
#: A host's next turn this close is waited for in the invocation; a later one
#: sends the message back to the queue for that long.
MAX_WAIT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class CrawlRequest:
    url: str
    max_pages: int
    max_depth: int
    same_site: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]

    @classmethod
    def from_json(cls, doc: dict[str, Any], *, max_pages: int, max_depth: int) -> CrawlRequest:
        url = doc.get("url")
        if not isinstance(url, str) or not url:
            raise InvalidCrawlError("url is required")
        pages = _bounded(doc.get("max_pages", min(100, max_pages)), "max_pages", 1, max_pages)
        depth = _bounded(doc.get("max_depth", min(3, max_depth)), "max_depth", 0, max_depth)
        same_site = doc.get("same_site", True)
        if not isinstance(same_site, bool):
            raise InvalidCrawlError("same_site must be true or false")
        include = parse_patterns(doc.get("include"), "include")
        exclude = parse_patterns(doc.get("exclude"), "exclude")
        return cls(
            url=url,
            max_pages=pages,
            max_depth=depth,
            same_site=same_site,
            include=tuple(p.text for p in include),
            exclude=tuple(p.text for p in exclude),
        )


def _bounded(value: object, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidCrawlError(f"{name} must be a whole number from {low} to {high}")
    return value


def crawl_view(crawl: CrawlRecord, rows: list[UrlRow]) -> dict[str, Any]:
    """``GET /api/crawls/{id}``."""
    documents = [
        {"id": r.document_id, "url": r.url, "links": {"self": f"/api/documents/{r.document_id}"}}
        for r in rows
        if r.outcome == FETCHED and r.document_id
    ]
    return {
        "id": crawl.id,
        "status": crawl.status.value,
        "url": crawl.shown_url,
        "max_pages": crawl.max_pages,
        "max_depth": crawl.max_depth,
        "same_site": crawl.same_site,
        "include": list(crawl.include),
        "exclude": list(crawl.exclude),
        "created_at": iso(crawl.created_at),
        "updated_at": iso(crawl.updated_at),
        "finished_at": iso(crawl.finished_at) if crawl.finished_at else None,
        "counts": CrawlCounts.of(rows).to_api(),
        "documents": documents,
        "links": {"self": f"/api/crawls/{crawl.id}"},
    }


class CrawlService:
    def __init__(
        self,
        *,
        repository: WebIngestRepository,
        frontier: Frontier,
        policy: AddressPolicy,
        clock: Clock,
        max_pages: int,
        max_depth: int,
    ) -> None:
        self._repository = repository
        self._frontier = frontier
        self._policy = policy
        self._clock = clock
        self.max_pages = max_pages
        self.max_depth = max_depth

    def start(self, request: CrawlRequest, *, owner: str) -> dict[str, Any]:
        """Check the start URL against the SSRF policy, record the crawl, queue its first URL."""
        self._policy.vet(request.url)
        start = normalize(request.url)
        now = self._clock()
        crawl = self._repository.add_crawl(
            CrawlRecord(
                id=new_id("crawl_", now),
                owner=owner,
                status=CrawlStatus.RUNNING,
                url=request.url,
                shown_url=shown_url(request.url),
                max_pages=request.max_pages,
                max_depth=request.max_depth,
                same_site=request.same_site,
                include=request.include,
                exclude=request.exclude,
                created_at=now,
                updated_at=now,
            )
        )
        bind(crawl_id=crawl.id)
        row = self._repository.add_url(
            UrlRow(crawl.id, url_key(start), start, depth=0, state=UrlState.NEW)
        )
        assert row is not None  # a new crawl has seen nothing
        self._frontier.push(FrontierJob("crawl", crawl.id, row.key))
        self._repository.save_url(row.replace(state=UrlState.QUEUED))
        log.info(
            "crawl.started", extra={"max_pages": crawl.max_pages, "max_depth": crawl.max_depth}
        )
        return crawl_view(crawl, [row])

    def get(self, crawl_id: str, *, owner: str) -> dict[str, Any]:
        crawl = self._repository.crawl(crawl_id, owner)
        return crawl_view(crawl, self._repository.urls(crawl_id))

    def cancel(self, crawl_id: str, *, owner: str) -> dict[str, Any]:
        """Stop the crawl: fetches in flight finish, nothing new starts."""
        self._repository.crawl(crawl_id, owner)
        bind(crawl_id=crawl_id)
        now = self._clock()
        crawl = self._repository.change_crawl(
            crawl_id,
            lambda c: (
                None
                if c.terminal
                else c.replace(status=CrawlStatus.CANCELLED, updated_at=now, finished_at=now)
            ),
        )
        log.info("crawl.cancelled")
        return crawl_view(crawl, self._repository.urls(crawl_id))


class CrawlWorker:
    """Handles one frontier message of a crawl."""

    def __init__(
        self,
        *,
        repository: WebIngestRepository,
        frontier: Frontier,
        ingester: PageIngester,
        gate: HostGate,
        blobs: BlobStore,
        publisher: EventPublisher,
        clock: Clock,
        host_interval: float,
        max_wait: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._max_wait = max_wait
        self._sleep = sleep
        self._repository = repository
        self._frontier = frontier
        self._ingester = ingester
        self._gate = gate
        self._blobs = blobs
        self._publisher = publisher
        self._clock = clock
        self._interval = host_interval

    def handle(self, job: FrontierJob, *, dequeue_count: int = 1) -> None:
        bind(crawl_id=job.owner_id)
        try:
            crawl = self._repository.crawl(job.owner_id)
            row = self._repository.url(job.owner_id, job.key)
        except NotFoundError:
            log.warning("crawl.job_orphaned")
            return
        try:
            self._advance(crawl, row, job)
        except Exception:
            if dequeue_count < MAX_DEQUEUE:
                raise
            # The last delivery: end the URL so the crawl can finish, then let
            # the host dead-letter the message.
            self._finish(self._repository.url(crawl.id, row.key), "failed", "poisoned")
            self._complete_if_done(crawl.id)
            raise
        self._complete_if_done(crawl.id)

    def _advance(self, crawl: CrawlRecord, row: UrlRow, job: FrontierJob) -> None:
        if row.state is UrlState.DONE:
            return
        resumed = row.state is UrlState.FETCHED
        if not resumed:
            if crawl.status is not CrawlStatus.RUNNING:
                self._finish(row, "cancelled")
                return
            try:
                row = self._visit(crawl, row)
            except Defer as defer:
                self._frontier.push(job, defer.seconds)
                log.info("crawl.deferred", extra={"seconds": round(defer.seconds, 3)})
                return
            if row.state is UrlState.DONE:
                return
        self._follow(crawl, row, resumed=resumed)

    # Fetching one URL

    def _visit(self, crawl: CrawlRecord, row: UrlRow) -> UrlRow:
        """Fetch the URL: the row comes back ``fetched`` (a document, or a sitemap
        read) or ``done`` (skipped); Defer when its host wants time."""
        host = urlsplit(row.url).netloc
        try:
            # Vetted before anything is requested from the host, robots.txt included.
            self._ingester.fetcher.policy.vet(row.url)
        except UrlRejectedError as exc:
            return self._finish(row, "failed", exc.code)
        robots = self._cached_robots(row.url, host)
        if not robots.allowed(row.url):
            return self._finish(row, "robots")
        interval = max(self._interval, robots.crawl_delay() or 0.0)
        if row.kind == _SITEMAP:
            self._turn(host, interval)
            return self._read_sitemap(crawl, row)
        self._turn(host, interval)
        if not row.slot:
            if not self._take_slot(crawl.id):
                return self._finish(row, "max_pages")
            row = self._repository.save_url(row.replace(slot=True))
        return self._fetch_page(crawl, row, host, robots)

    def _fetch_page(self, crawl: CrawlRecord, row: UrlRow, host: str, robots: Robots) -> UrlRow:
        """Fetch a page the row holds a slot for."""
        try:
            response = self._ingester.fetch(row.url, honour_robots=True, follow_redirects=False)
            if response.status in REDIRECTS:
                # The target is a URL of its own: vetted, deduplicated and scoped
                # like a link, so a redirect never fetches a page twice.
                self._give_back_slot(self._repository.save_url(row.replace(slot=False)))
                target = urljoin(row.url, response.header("location") or "")
                self._add_children(crawl, row, [target], depth=row.depth)
                return self._repository.url(crawl.id, row.key).replace(
                    state=UrlState.FETCHED, outcome="redirect"
                )
            document = self._ingester.ingest(response, owner=crawl.owner)
        except UpstreamStatusError as exc:
            return self._throttled(row, host, exc)
        except (UrlRejectedError, RobotsDisallowedError, FetchError, DocumentError) as exc:
            reason = _skip_reason(exc)
            return self._give_back_slot(self._finish(row, reason, exc.code))
        links: list[str] = []
        if is_html(response) and row.depth < crawl.max_depth:
            links = _links(response.final_url, response.body)
        fetched = self._repository.save_url(
            row.replace(
                state=UrlState.FETCHED,
                outcome=FETCHED,
                document_id=document.id,
                container=document.container,
                blob_name=document.blob_name,
                attempts=row.attempts + 1,
            )
        )
        if row.depth == 0:
            links = [*links, *(f"{_SITEMAP}:{url}" for url in self._sitemaps(row.url, robots))]
        self._add_children(crawl, fetched, links)
        return fetched

    def _cached_robots(self, url: str, host: str) -> Robots:
        robots = self._ingester.robots
        if not robots.is_cached(url):
            # Fetching robots.txt is a request to the host like any other.
            self._turn(host, self._interval)
        return robots.for_url(url)

    def _turn(self, host: str, interval: float) -> None:
        """Wait for a booked turn at ``host``; Defer when none is free soon."""
        wait_for_turn(self._gate, host, interval, max_wait=self._max_wait, sleep=self._sleep)

    def _throttled(self, row: UrlRow, host: str, exc: UpstreamStatusError) -> UrlRow:
        row = self._give_back_slot(
            self._repository.save_url(row.replace(slot=False, attempts=row.attempts + 1))
        )
        if exc.status in (429, 503) and row.attempts < MAX_THROTTLED_ATTEMPTS:
            wait = exc.retry_after if exc.retry_after is not None else 5.0 * row.attempts
            self._gate.hold_off(host, wait)
            raise Defer(wait)
        reason = "not_found" if exc.status in (404, 410) else "failed"
        return self._finish(row, reason, f"http_{exc.status}")

    def _take_slot(self, crawl_id: str) -> bool:
        taken = False

        def take(crawl: CrawlRecord) -> CrawlRecord | None:
            nonlocal taken
            taken = crawl.reserved < crawl.max_pages
            return crawl.replace(reserved=crawl.reserved + 1) if taken else None

        self._repository.change_crawl(crawl_id, take)
        return taken

    def _give_back_slot(self, row: UrlRow) -> UrlRow:
        """Return a slot the row held (its row already says it holds none)."""
        self._repository.change_crawl(
            row.crawl_id, lambda c: c.replace(reserved=max(0, c.reserved - 1))
        )
        return row

    def _read_sitemap(self, crawl: CrawlRecord, row: UrlRow) -> UrlRow:
        try:
            response = self._ingester.fetch(row.url, honour_robots=True)
        except (AppError, FetchError) as exc:
            return self._finish(row, "failed", exc.code)
        pages, nested = sitemap_urls(response.body)
        links = [*pages, *(f"{_SITEMAP}:{url}" for url in nested)]
        fetched = self._repository.save_url(row.replace(state=UrlState.FETCHED, outcome=FETCHED))
        self._add_children(crawl, fetched, links, depth=row.depth)
        return fetched

    def _sitemaps(self, url: str, robots: Robots) -> list[str]:
        listed = robots.sitemaps()
        if listed:
            return list(listed)
        parts = urlsplit(url)
        return [f"{parts.scheme}://{parts.netloc}/sitemap.xml"]

    # Following links

    def _follow(self, crawl: CrawlRecord, row: UrlRow, *, resumed: bool) -> None:
        """Queue the row's new children, then end the row. ``resumed``: the
        message came back after a crash between the fetch and the end."""
        if resumed and row.kind != _SITEMAP and row.blob_name and row.depth < crawl.max_depth:
            # Children inserted before the crash stay; any not inserted yet are
            # found again in the page's stored bytes.
            try:
                body = self._blobs.get(str(row.container), row.blob_name)
            except NotFoundError:
                body = b""
            if body[:1] == b"<":
                self._add_children(crawl, row, _links(row.url, body))
        for child in self._repository.children(crawl.id, row.key):
            if child.state is UrlState.NEW:
                self._frontier.push(FrontierJob("crawl", crawl.id, child.key))
                with contextlib.suppress(ConflictError):  # its own message got there first
                    self._repository.save_url(child.replace(state=UrlState.QUEUED))
        self._finish(row, row.outcome or FETCHED)

    def _add_children(
        self, crawl: CrawlRecord, row: UrlRow, links: list[str], *, depth: int | None = None
    ) -> None:
        """Insert a row per new in-scope link (state new) and count the rest on ``row``."""
        child_depth = (row.depth + 1) if depth is None else depth
        scope = Scope(
            start=normalize(crawl.url),
            same_site=crawl.same_site,
            include=parse_patterns(list(crawl.include), "include"),
            exclude=parse_patterns(list(crawl.exclude), "exclude"),
        )
        duplicates = excluded = out_of_scope = 0
        for link in links:
            kind = _SITEMAP if link.startswith(f"{_SITEMAP}:") else "page"
            try:
                target = normalize(link.removeprefix(f"{_SITEMAP}:"))
            except UrlRejectedError:
                continue
            verdict = scope.verdict(target)
            if verdict is not None and not (kind == _SITEMAP and verdict == "excluded"):
                if verdict == "excluded":
                    excluded += 1
                else:
                    out_of_scope += 1
                continue
            if kind == "page" and child_depth > crawl.max_depth:
                continue
            key = url_key(target) if kind == "page" else url_key(f"{_SITEMAP}:{target}")
            added = self._repository.add_url(
                UrlRow(crawl.id, key, target, child_depth, UrlState.NEW, parent=row.key, kind=kind)
            )
            if added is None:
                existing = self._repository.url(crawl.id, key)
                if existing.parent != row.key:
                    duplicates += 1
        if duplicates or excluded or out_of_scope:
            latest = self._repository.url(crawl.id, row.key)
            self._repository.save_url(
                latest.replace(duplicates=duplicates, excluded=excluded, out_of_scope=out_of_scope)
            )

    def _finish(self, row: UrlRow, outcome: str, error: str | None = None) -> UrlRow:
        latest = self._repository.url(row.crawl_id, row.key)
        if latest.state is UrlState.DONE:
            return latest
        done = latest.replace(state=UrlState.DONE, outcome=outcome, error=error)
        return self._repository.save_url(done)

    # Completion

    def _complete_if_done(self, crawl_id: str) -> None:
        if self._repository.has_open_urls(crawl_id):
            return
        now = self._clock()
        claimed = False

        def finish(crawl: CrawlRecord) -> CrawlRecord | None:
            # Claim the one announcement with the final status: of two
            # finishers, one publishes.
            nonlocal claimed
            claimed = not crawl.event_published
            if not claimed:
                return None
            if crawl.status is CrawlStatus.RUNNING:
                crawl = crawl.replace(status=CrawlStatus.COMPLETED, finished_at=now)
            return crawl.replace(event_published=True, updated_at=now)

        crawl = self._repository.change_crawl(crawl_id, finish)
        if claimed:
            self.publish_completion(crawl)

    def publish_completion(self, crawl: CrawlRecord) -> None:
        """Publish the crawl's one ``crawl.completed`` (its outbox flag is set);
        on failure the flag is cleared, so the next attempt publishes it."""
        counts = CrawlCounts.of(self._repository.urls(crawl.id)).to_api()
        event = crawl_completed(
            crawl.id,
            crawl.owner,
            self._clock(),
            {"status": crawl.status.value, "url": crawl.shown_url, "counts": counts},
        )
        try:
            self._publisher.publish([event.to_cloudevent()])
        except DependencyError:
            log.warning("crawl.announce_failed", exc_info=True)
            self._repository.change_crawl(crawl.id, lambda c: c.replace(event_published=False))
            return
        log.info("crawl.completed", extra={"status": crawl.status.value, **counts})


def _links(base: str, body: bytes) -> list[str]:
    hrefs = page_links(body)
    if hrefs and hrefs[0].startswith("base:"):
        declared = hrefs.pop(0).removeprefix("base:")
        if urlsplit(declared).scheme in ("http", "https"):
            base = declared
    return absolute_links(base, hrefs)


def _skip_reason(exc: AppError | DocumentError) -> str:
    if isinstance(exc, RobotsDisallowedError):
        return "robots"
    if isinstance(exc, FetchTooLargeError) or exc.code == "too_large":
        return "too_large"
    if exc.code in ("unsupported_type", "empty"):
        return "unsupported_type"
    return "failed"
