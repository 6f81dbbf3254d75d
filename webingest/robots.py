"""robots.txt: fetched once per origin, cached in the table store with a TTL
(shared by every instance), parsed with Protego (wildcards, ``Allow``,
``Crawl-delay``, ``Sitemap:``).

As RFC 9309 says: a 4xx (no robots.txt) allows everything; a 5xx or an
unreachable robots.txt disallows everything until the cache entry expires.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from kernel.egress.addresses import UrlRejectedError
from kernel.egress.fetch import FetchError, PinnedFetcher
from kernel.errors import NotFoundError
from kernel.storage.ports import TableStore
from webingest.urls import url_key

log = logging.getLogger(__name__)

ROBOTS_PARTITION = "robots"
#: What is kept of a robots.txt (Google reads 500 KiB; a table property holds 64 KiB).
MAX_ROBOTS_CHARS = 30_000
ALLOW_ALL = "allow"
DISALLOW_ALL = "disallow"
PARSED = "parsed"


class Robots:
    """One origin's rules for one user agent."""

    def __init__(self, mode: str, body: str = "", agent: str = "*") -> None:
        self.mode = mode
        self.body = body
        self.agent = agent
        self._parser: Any = None
        if mode == PARSED:
            from protego import Protego

            self._parser = Protego.parse(body)

    def allowed(self, url: str) -> bool:
        if self._parser is None:
            return self.mode != DISALLOW_ALL
        return bool(self._parser.can_fetch(url, self.agent))

    def crawl_delay(self) -> float | None:
        delay = self._parser.crawl_delay(self.agent) if self._parser is not None else None
        return float(delay) if delay is not None else None

    def sitemaps(self) -> list[str]:
        return list(self._parser.sitemaps) if self._parser is not None else []


class RobotsCache:
    def __init__(
        self,
        *,
        tables: TableStore,
        table: str,
        fetcher: PinnedFetcher,
        agent: str,
        ttl_seconds: int,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._tables = tables
        self._table = table
        self._fetcher = fetcher
        self._agent = agent
        self._ttl = ttl_seconds
        self._now = now
        self._local: dict[str, tuple[float, Robots]] = {}

    def is_cached(self, url: str) -> bool:
        """Whether :meth:`for_url` would answer without fetching robots.txt."""
        return self._cached(_origin(url)) is not None

    def for_url(self, url: str) -> Robots:
        """The rules for ``url``'s origin, fetched when not cached or expired."""
        origin = _origin(url)
        robots = self._cached(origin)
        if robots is not None:
            return robots
        now = self._now()
        key = url_key(origin)
        robots = self._fetch(origin)
        expires = now + self._ttl
        self._tables.upsert(
            self._table,
            {
                "PartitionKey": ROBOTS_PARTITION,
                "RowKey": key,
                "origin": origin,
                "mode": robots.mode,
                "body": robots.body,
                "expires": expires,
            },
        )
        self._local[origin] = (expires, robots)
        return robots

    def _cached(self, origin: str) -> Robots | None:
        now = self._now()
        local = self._local.get(origin)
        if local and local[0] > now:
            return local[1]
        try:
            row = self._tables.get(self._table, ROBOTS_PARTITION, url_key(origin))
        except NotFoundError:
            return None
        if float(row["expires"]) <= now:
            return None
        robots = Robots(str(row["mode"]), str(row.get("body") or ""), self._agent)
        self._local[origin] = (float(row["expires"]), robots)
        return robots

    def _fetch(self, origin: str) -> Robots:
        try:
            got = self._fetcher.get(f"{origin}/robots.txt")
        except (UrlRejectedError, FetchError) as exc:
            # Callers vet the page's URL first: what is refused here is where
            # robots.txt redirected to, which makes it unreachable.
            log.info("robots.unreachable", extra={"origin": origin, "code": exc.code})
            return Robots(DISALLOW_ALL, agent=self._agent)
        if 400 <= got.status < 500:
            return Robots(ALLOW_ALL, agent=self._agent)
        if got.status >= 500 or got.status < 200 or got.status >= 300:
            return Robots(DISALLOW_ALL, agent=self._agent)
        body = got.body.decode("utf-8", errors="replace")[:MAX_ROBOTS_CHARS]
        return Robots(PARSED, body, self._agent)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
