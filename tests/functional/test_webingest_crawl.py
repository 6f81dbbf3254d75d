"""Crawls of a generated loopback site: exactly the allowed, deduplicated
pages up to max_pages and max_depth, robots.txt and its Crawl-delay honoured,
redirects re-vetted, hostile pages skipped with their reason, one
crawl.completed; cancel, owner scoping and resuming after a crash."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kernel.egress.addresses import ForbiddenAddressError
from kernel.errors import NotFoundError
from kernel.identity import Reach
from tests.builders.sites import article
from tests.support.site import Page, Site, redirect, serve
from tests.support.webingest import FETCHED_PATHS, Harness, generated_site, harness
from webingest.crawl import CrawlRequest
from webingest.errors import InvalidCrawlError
from webingest.records import UrlState

OWNER = "local"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield generated_site(running)


def start(h: Harness, url: str, owner: str = OWNER, **request: Any) -> str:
    body = {"url": url, "max_pages": 50, "max_depth": 2, **request}
    crawl = h.web.crawls.start(
        CrawlRequest.from_json(body, max_pages=100, max_depth=5), owner=owner
    )
    return str(crawl["id"])


def finish(h: Harness, crawl_id: str, timeout: float = 30) -> dict[str, Any]:
    h.pump(until=lambda: view(h, crawl_id)["status"] != "running", timeout=timeout)
    h.pump()  # drain what is left (cancelled crawls' messages)
    return view(h, crawl_id)


def view(h: Harness, crawl_id: str) -> dict[str, Any]:
    return h.web.crawls.get(crawl_id, reach=Reach(owner=OWNER))


def fetched_paths(h: Harness, site: Site, crawl: dict[str, Any]) -> set[str]:
    return {doc["url"].removeprefix(site.origin) or "/" for doc in crawl["documents"]}


def test_a_crawl_fetches_exactly_the_allowed_deduplicated_pages(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path)
    crawl = finish(h, start(h, site.url("/"), exclude=["/excluded/*"]))
    assert crawl["status"] == "completed"
    assert fetched_paths(h, site, crawl) == FETCHED_PATHS
    requested = site.paths()
    # Never a disallowed, excluded or out-of-scope page, never one page twice.
    assert "/private/secret" not in requested
    assert "/excluded/page" not in requested
    pages = [p for p in requested if p not in ("/busy",)]  # /busy was throttled once
    assert len(pages) == len(set(pages))
    assert requested.count("/busy") == 2
    assert requested.count("/robots.txt") == 1
    counts = crawl["counts"]
    assert counts["fetched"] == len(FETCHED_PATHS)
    skipped = counts["skipped_by_reason"]
    assert skipped["robots"] == 1
    assert skipped["excluded"] == 1
    assert skipped["out_of_scope"] == 1
    assert skipped["too_large"] == 2  # the huge page and the gzip bomb
    assert skipped["failed"] == 1  # the slow page, past the fetch timeout
    assert skipped["redirect"] == 1  # /old, whose target /b is a duplicate
    assert skipped["duplicate"] >= 6  # /a in its many spellings, loops
    assert counts["discovered"] == counts["fetched"] + sum(
        n
        for reason, n in skipped.items()
        if reason not in ("duplicate", "excluded", "out_of_scope")
    )
    [event] = h.publisher.of_type("crawl.completed")
    assert event["data"]["crawl_id"] == crawl["id"]
    assert event["data"]["counts"] == counts


def test_every_fetched_page_is_a_document_with_its_source(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path)
    crawl = finish(h, start(h, site.url("/"), max_depth=1))
    types = {}
    for doc in crawl["documents"]:
        record = h.document(doc["id"])
        assert record.source.value == "url"
        assert record.final_url == doc["url"]
        assert record.http_status == 200
        types[doc["url"].removeprefix(site.origin)] = record.content_type
    assert types["/report.pdf"] == "application/pdf"
    assert types["/memo.docx"].endswith("wordprocessingml.document")
    assert types["/de"] == "text/html"


def test_max_pages_is_a_hard_limit(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path)
    crawl = finish(h, start(h, site.url("/"), max_pages=3))
    assert crawl["counts"]["fetched"] == len(crawl["documents"]) == 3
    assert crawl["counts"]["skipped_by_reason"]["max_pages"] >= 1


def test_max_pages_means_no_request_beyond_it_on_a_clean_site(tmp_path: Path) -> None:
    with serve(Site()) as site:
        paths = [f"/p{i}" for i in range(12)]
        for path in ["/", *paths, "/home", "/products", "/pricing", "/careers"]:
            site.pages[path] = Page(article(path, links=paths))
        h = harness(tmp_path)
        crawl = finish(h, start(h, site.url("/"), max_pages=4, max_depth=3))
        pages = [p for p in site.paths() if p not in ("/robots.txt", "/sitemap.xml")]
    assert crawl["counts"]["fetched"] == 4
    assert len(pages) == 4
    counts = crawl["counts"]
    assert counts["skipped_by_reason"]["max_pages"] == counts["discovered"] - 4


def test_max_depth_zero_fetches_only_the_start_page(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path)
    crawl = finish(h, start(h, site.url("/"), max_depth=0))
    assert fetched_paths(h, site, crawl) == {"/"}


def test_include_patterns_keep_only_matching_paths(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path)
    crawl = finish(h, start(h, site.url("/"), include=["/deep/*", "^/b$"], max_depth=5))
    assert fetched_paths(h, site, crawl) == {"/", "/b", "/deep/1", "/deep/2", "/deep/3"}


def test_requests_to_the_host_keep_the_crawl_delay(tmp_path: Path) -> None:
    with serve(Site()) as site:
        generated_site(site, crawl_delay=0.3)
        h = harness(tmp_path, host_interval_ms=50)
        finish(h, start(h, site.url("/"), max_pages=5, max_depth=1), timeout=60)
        times = [hit.at for hit in site.hits]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) >= 6
    assert min(gaps) >= 0.29


def test_a_redirect_to_an_address_outside_the_allow_list_is_refused(tmp_path: Path) -> None:
    with serve(Site()) as site, serve(Site(), host="127.0.0.2") as inside:
        inside.pages["/"] = Page(b"<html>internal</html>")
        site.pages["/"] = Page(b'<html><body><a href="/jump">x</a></body></html>')
        site.pages["/jump"] = redirect(inside.url("/"))
        h = harness(tmp_path)
        crawl = finish(h, start(h, site.url("/"), same_site=False))
        assert inside.paths() == []
    rows = {r.url: r for r in h.web.repository.urls(crawl["id"])}
    refused = rows[inside.url("/")]
    assert (refused.outcome, refused.error) == ("failed", "forbidden_address")


def test_a_start_url_the_policy_refuses_is_an_error(tmp_path: Path) -> None:
    h = harness(tmp_path)
    with pytest.raises(ForbiddenAddressError):
        start(h, "http://10.0.0.1/")
    with pytest.raises(InvalidCrawlError):
        start(h, "https://example.com/", max_pages=101)


def test_cancel_lets_nothing_new_start_and_completes_once(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path)
    crawl_id = start(h, site.url("/"))
    h.pump(until=lambda: view(h, crawl_id)["counts"]["fetched"] >= 1)
    h.web.crawls.cancel(crawl_id, reach=Reach(owner=OWNER))
    requests_at_cancel = len(site.paths())
    crawl = finish(h, crawl_id)
    assert crawl["status"] == "cancelled"
    assert len(site.paths()) <= requests_at_cancel + 1  # at most the fetch in flight
    assert crawl["counts"]["skipped_by_reason"].get("cancelled", 0) >= 1
    assert len(h.publisher.of_type("crawl.completed")) == 1


def test_another_owners_crawl_is_not_found(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path)
    crawl_id = start(h, site.url("/"), owner="alice")
    with pytest.raises(NotFoundError):
        h.web.crawls.get(crawl_id, reach=Reach(owner="bob"))
    with pytest.raises(NotFoundError):
        h.web.crawls.cancel(crawl_id, reach=Reach(owner="bob"))
    assert h.web.crawls.get(crawl_id, reach=Reach(owner="alice"))["status"] == "running"


def test_a_crawl_resumes_after_a_crash_between_fetch_and_follow(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness(tmp_path)
    crawl_id = start(h, site.url("/"), max_depth=1)
    crashed: list[str] = []
    real_follow = h.web.crawler._follow

    def crash_once(crawl: Any, row: Any, *, resumed: bool) -> None:
        if not crashed and not resumed:
            crashed.append(row.url)
            raise RuntimeError("the instance died")
        real_follow(crawl, row, resumed=resumed)

    monkeypatch.setattr(h.web.crawler, "_follow", crash_once)
    crawl = finish(h, crawl_id)
    assert crashed == [site.url("/")]
    assert crawl["status"] == "completed"
    assert site.paths().count("/") == 1  # the start page was not fetched again
    assert fetched_paths(h, site, crawl) >= {"/", "/a", "/b"}
    assert not [r for r in h.web.repository.urls(crawl_id) if r.state is not UrlState.DONE]


def test_a_url_whose_message_keeps_failing_is_ended_and_the_crawl_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(Site()) as site:
        site.pages["/"] = Page(article("Home", links=["/broken", "/fine"]))
        site.pages["/broken"] = Page(article("Broken"))
        site.pages["/fine"] = Page(article("Fine"))
        h = harness(tmp_path)
        real_ingest = h.web.crawler._ingester.ingest

        def ingest(response: Any, **kwargs: Any) -> Any:
            if response.url.endswith("/broken"):
                raise RuntimeError("storage fell over")
            return real_ingest(response, **kwargs)

        monkeypatch.setattr(h.web.crawler._ingester, "ingest", ingest)
        crawl = finish(h, start(h, site.url("/"), max_depth=1))
    assert crawl["status"] == "completed"
    rows = {r.url.removeprefix(site.origin): r for r in h.web.repository.urls(crawl["id"])}
    assert (rows["/broken"].outcome, rows["/broken"].error) == ("failed", "poisoned")
    assert rows["/fine"].outcome == "fetched"
    assert crawl["counts"]["fetched"] == 2  # the failed attempts gave their slots back


def test_robots_txt_redirecting_to_a_forbidden_address_disallows_the_site(
    tmp_path: Path,
) -> None:
    with serve(Site()) as site:
        site.pages["/robots.txt"] = redirect("http://169.254.169.254/robots.txt")
        site.pages["/"] = Page(article("Home"))
        h = harness(tmp_path)
        crawl = finish(h, start(h, site.url("/")))
        assert site.paths() == ["/robots.txt"]
    assert crawl["counts"]["skipped_by_reason"] == {"robots": 1}
