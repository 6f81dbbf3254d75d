"""Scraping one URL: fetch it now (SSRF policy at every hop, robots.txt unless
``WEBINGEST_SCRAPE_ROBOTS=false``) and hand it to the document workflow."""

from __future__ import annotations

import logging
from typing import Any

from kernel.egress.fetch import FetchTimeoutError
from kernel.errors import RequestError
from kernel.logcontext import bind
from processing.records import DocumentRecord
from webingest.ingest import PageIngester
from webingest.urls import shown_url

log = logging.getLogger(__name__)


def scrape_url(doc: dict[str, Any]) -> str:
    url = doc.get("url")
    if not isinstance(url, str) or not url:
        raise RequestError('the body must be a JSON object such as {"url": "https://..."}')
    return url


class ScrapeService:
    def __init__(self, *, ingester: PageIngester, honour_robots: bool) -> None:
        self._ingester = ingester
        self._honour_robots = honour_robots

    def scrape(self, url: str, *, owner: str, traceparent: str | None = None) -> DocumentRecord:
        """The accepted document. Raises UrlRejectedError, RobotsDisallowedError,
        a FetchError subclass, UpstreamStatusError or a DocumentError subclass."""
        bind(page_url=shown_url(url))
        try:
            response = self._ingester.fetch(url, honour_robots=self._honour_robots)
        except FetchTimeoutError:
            log.info("scrape.timeout")
            raise
        record = self._ingester.ingest(response, owner=owner, traceparent=traceparent)
        log.info(
            "scrape.accepted",
            extra={"status": response.status, "redirects": len(response.redirects)},
        )
        return record
