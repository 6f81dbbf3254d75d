"""Web ingestion's settings, read once into a frozen object.

Every name read here is a constant below and appears in
``local.settings.sample.json`` and in the Bicep app settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from kernel.env import Env, IPNetwork, as_env
from kernel.errors import SettingsError

WEBINGEST_ALLOWED_CIDRS = "WEBINGEST_ALLOWED_CIDRS"
WEBINGEST_CONTACT_URL = "WEBINGEST_CONTACT_URL"
WEBINGEST_QUEUE = "WEBINGEST_QUEUE"
WEBINGEST_TABLE = "WEBINGEST_TABLE"
WEBINGEST_HOST_INTERVAL_MS = "WEBINGEST_HOST_INTERVAL_MS"
WEBINGEST_ROBOTS_TTL_SECONDS = "WEBINGEST_ROBOTS_TTL_SECONDS"
WEBINGEST_SCRAPE_ROBOTS = "WEBINGEST_SCRAPE_ROBOTS"
WEBINGEST_MAX_PAGES = "WEBINGEST_MAX_PAGES"
WEBINGEST_MAX_DEPTH = "WEBINGEST_MAX_DEPTH"
WEBINGEST_FETCH_TIMEOUT_SECONDS = "WEBINGEST_FETCH_TIMEOUT_SECONDS"
WEBINGEST_DNS_TIMEOUT_SECONDS = "WEBINGEST_DNS_TIMEOUT_SECONDS"
BATCH_MAX_ITEMS = "BATCH_MAX_ITEMS"
BATCH_MAX_BYTES = "BATCH_MAX_BYTES"

#: Settings with a default, which a deployment may leave out.
OPTIONAL = frozenset(
    {
        WEBINGEST_ALLOWED_CIDRS,
        WEBINGEST_CONTACT_URL,
        WEBINGEST_TABLE,
        WEBINGEST_HOST_INTERVAL_MS,
        WEBINGEST_ROBOTS_TTL_SECONDS,
        WEBINGEST_SCRAPE_ROBOTS,
        WEBINGEST_MAX_PAGES,
        WEBINGEST_MAX_DEPTH,
        WEBINGEST_FETCH_TIMEOUT_SECONDS,
        WEBINGEST_DNS_TIMEOUT_SECONDS,
        BATCH_MAX_ITEMS,
        BATCH_MAX_BYTES,
        # Not WEBINGEST_QUEUE: the queue trigger's binding names it (%WEBINGEST_QUEUE%).
    }
)

_AGENT = "docflow-webingest/1.0"


@dataclass(frozen=True, slots=True)
class WebIngestSettings:
    #: The only exception to the SSRF policy for fetches; empty by default.
    allowed_cidrs: tuple[IPNetwork, ...] = ()
    #: Where site owners learn about the crawler; part of the User-Agent.
    contact_url: str = "https://github.com/docflow/docflow-functions"
    #: The frontier queue: one message per URL to fetch (crawls and batches).
    queue: str = "webingest-frontier"
    #: Crawls, batches, each crawl's URLs, host politeness and robots.txt caches.
    table: str = "webingest"
    #: Least time between two requests to one host, in milliseconds (raised by Crawl-delay).
    host_interval_ms: int = 1000
    robots_ttl_seconds: int = 3600
    #: Whether single scrapes honour robots.txt too (turn off for your own sites).
    scrape_robots: bool = True
    #: Server-side caps on what a crawl may ask for.
    max_pages: int = 1000
    max_depth: int = 10
    #: The whole fetch of one URL, redirects included.
    fetch_timeout_seconds: int = 30
    dns_timeout_seconds: int = 3
    batch_max_items: int = 100
    batch_max_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> WebIngestSettings:
        env = as_env(source)
        d = cls()
        interval = env.raw(WEBINGEST_HOST_INTERVAL_MS).strip()
        if interval and not interval.isdigit():
            raise SettingsError(f"{WEBINGEST_HOST_INTERVAL_MS} must be a whole number of ms")
        return cls(
            allowed_cidrs=env.cidrs(WEBINGEST_ALLOWED_CIDRS),
            contact_url=env.text(WEBINGEST_CONTACT_URL, d.contact_url),
            queue=env.text(WEBINGEST_QUEUE, d.queue),
            table=env.text(WEBINGEST_TABLE, d.table),
            host_interval_ms=int(interval) if interval else d.host_interval_ms,
            robots_ttl_seconds=env.positive_int(WEBINGEST_ROBOTS_TTL_SECONDS, d.robots_ttl_seconds),
            scrape_robots=env.flag(WEBINGEST_SCRAPE_ROBOTS, default=d.scrape_robots),
            max_pages=env.positive_int(WEBINGEST_MAX_PAGES, d.max_pages),
            max_depth=env.positive_int(WEBINGEST_MAX_DEPTH, d.max_depth),
            fetch_timeout_seconds=env.positive_int(
                WEBINGEST_FETCH_TIMEOUT_SECONDS, d.fetch_timeout_seconds
            ),
            dns_timeout_seconds=env.positive_int(
                WEBINGEST_DNS_TIMEOUT_SECONDS, d.dns_timeout_seconds
            ),
            batch_max_items=env.positive_int(BATCH_MAX_ITEMS, d.batch_max_items),
            batch_max_bytes=env.positive_int(BATCH_MAX_BYTES, d.batch_max_bytes),
        )

    @property
    def user_agent(self) -> str:
        return f"{_AGENT} (+{self.contact_url})"

    @property
    def robots_agent(self) -> str:
        """The product token robots.txt groups are matched against."""
        return "docflow-webingest"

    def allow_list_warning(self) -> str | None:
        if not self.allowed_cidrs:
            return None
        shown = ", ".join(str(n) for n in self.allowed_cidrs)
        return (
            f"{WEBINGEST_ALLOWED_CIDRS} is set ({shown}): pages may be fetched from these"
            " addresses, bypassing the SSRF policy, and plain http is accepted towards them."
            " Leave it empty outside local development."
        )


@cache
def webingest_settings() -> WebIngestSettings:
    """The process's web ingestion settings, read from the environment on first use."""
    return WebIngestSettings.from_env()
