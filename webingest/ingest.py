"""Fetching one page and handing it over as a document: what a scrape, a
crawl's page and a batch's URL all do.

The fetch goes through the kernel's :class:`~kernel.egress.fetch.PinnedFetcher`
(the SSRF policy at every hop); robots.txt is asked first where the caller
wants it. Only a 2xx answer becomes a document, and what it is (HTML, PDF,
DOCX, text) is sniffed from its bytes by the workflow's upload path.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from kernel.clock import Clock
from kernel.egress.fetch import REDIRECTS, FetchedResponse, PinnedFetcher
from processing.records import DocumentRecord, WebSource
from webingest.errors import RobotsDisallowedError, UpstreamStatusError
from webingest.intake import DocumentIntake
from webingest.robots import RobotsCache
from webingest.urls import shown_url

#: Longest Retry-After honoured, in seconds (longer ones are failures).
MAX_RETRY_AFTER = 3600.0


class PageIngester:
    def __init__(
        self,
        *,
        fetcher: PinnedFetcher,
        robots: RobotsCache,
        intake: DocumentIntake,
        clock: Clock,
    ) -> None:
        self.fetcher = fetcher
        self.robots = robots
        self._intake = intake
        self._clock = clock

    def fetch(
        self, url: str, *, honour_robots: bool, follow_redirects: bool = True
    ) -> FetchedResponse:
        """The 2xx answer at ``url`` (or a 3xx one, unless ``follow_redirects``).
        Raises UrlRejectedError, RobotsDisallowedError, a FetchError subclass or
        UpstreamStatusError (with any Retry-After)."""
        self.fetcher.policy.vet(url)  # before anything, robots.txt included, is requested
        if honour_robots and not self.robots.for_url(url).allowed(url):
            raise RobotsDisallowedError("the site's robots.txt does not allow fetching this URL")
        response = self.fetcher.get(url, follow_redirects=follow_redirects)
        if not follow_redirects and response.status in REDIRECTS and response.header("location"):
            return response
        if not 200 <= response.status < 300:
            raise UpstreamStatusError(
                f"the site answered {response.status}",
                response.status,
                retry_after_seconds(response.header("retry-after"), self._clock().timestamp()),
            )
        if (
            honour_robots
            and response.redirects
            and not self.robots.for_url(response.final_url).allowed(response.final_url)
        ):
            raise RobotsDisallowedError("the site's robots.txt does not allow the redirect target")
        return response

    def ingest(
        self, response: FetchedResponse, *, owner: str, traceparent: str | None = None
    ) -> DocumentRecord:
        """Hand a fetched answer to the workflow; DocumentError subclasses for bytes
        it does not take (empty, too large, unsupported)."""
        source = WebSource(
            source_url=shown_url(response.url),
            final_url=shown_url(response.final_url),
            fetched_at=self._clock(),
            http_status=response.status,
        )
        return self._intake.accept(
            response.body,
            page_filename(response.final_url),
            owner=owner,
            source=source,
            traceparent=traceparent,
        )


def page_filename(url: str) -> str:
    """A file name for a page: the last path segment, or ``index.html``."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name or "index.html"


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when - now), MAX_RETRY_AFTER)
