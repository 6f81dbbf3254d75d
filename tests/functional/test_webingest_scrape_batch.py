"""Scrapes and batches against a loopback site: a page becomes a document
with its source and main text, refusals carry their code, and a batch of
files and URLs ends with every item terminal and one batch.completed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kernel.egress.addresses import ForbiddenAddressError, InsecureSchemeError
from kernel.egress.fetch import DecompressionBombError, FetchTimeoutError, FetchTooLargeError
from kernel.errors import NotFoundError
from kernel.identity import Reach
from processing.upload_request import Upload
from tests.builders.sites import BOILERPLATE_FOOTER, PARAGRAPHS
from tests.support.site import Page, Site, redirect, serve
from tests.support.webingest import Harness, generated_site, harness
from webingest.errors import BatchTooLargeError, RobotsDisallowedError, UpstreamStatusError

OWNER = "local"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield generated_site(running)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return harness(tmp_path)


def result(h: Harness, document_id: str) -> dict[str, Any]:
    h.pump(process=True, until=lambda: h.document(document_id).status.terminal)
    record = h.document(document_id)
    assert record.status.value == "completed", record.error_message
    loaded: dict[str, Any] = json.loads(h.docs.result_bytes(str(record.result_blob)))
    return loaded


def test_a_scraped_article_yields_its_main_text_title_and_links(h: Harness, site: Site) -> None:
    record = h.web.scrapes.scrape(site.url("/a?utm_source=x&token=s3cret"), owner=OWNER)
    assert record.source.value == "url"
    assert "s3cret" not in json.dumps(record.to_api())
    assert record.to_api()["source_url"].endswith("/a?utm_source=x&token=redacted")
    got = result(h, record.id)
    assert PARAGRAPHS["en"][0] in got["text"]
    assert BOILERPLATE_FOOTER not in got["text"]
    assert got["metadata"]["title"] == "Page A"
    assert got["document"]["http_status"] == 200
    assert got["document"]["final_url"].startswith(site.origin)
    urls = [link["url"] for link in got["links"]]
    assert site.url("/b") in urls  # made absolute against the page's URL


def test_a_redirected_scrape_records_the_final_url(h: Harness, site: Site) -> None:
    record = h.web.scrapes.scrape(site.url("/old"), owner=OWNER)
    assert record.source_url == site.url("/old")
    assert record.final_url == site.url("/b")


def test_a_pdf_behind_a_url_goes_through_the_pipeline(h: Harness, site: Site) -> None:
    record = h.web.scrapes.scrape(site.url("/report.pdf"), owner=OWNER)
    got = result(h, record.id)
    assert got["document"]["content_type"] == "application/pdf"
    assert "analytical engine society" in got["text"]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/private/secret", RobotsDisallowedError),
        ("/huge", FetchTooLargeError),
        ("/bomb", DecompressionBombError),
        ("/slow", FetchTimeoutError),
        ("/missing", UpstreamStatusError),
    ],
)
def test_a_scrape_that_cannot_be_fetched_says_why(
    h: Harness, site: Site, path: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        h.web.scrapes.scrape(site.url(path), owner=OWNER)
    assert h.docs.documents.recent(after=None, limit=5) == []


def test_robots_can_be_turned_off_for_scrapes(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path, scrape_robots=False)
    record = h.web.scrapes.scrape(site.url("/private/secret"), owner=OWNER)
    assert "/robots.txt" not in site.paths()
    assert record.status.value == "queued"


def test_ssrf_refusals_at_the_first_fetch_and_after_a_redirect(h: Harness, site: Site) -> None:
    site.pages["/to-metadata"] = redirect("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ForbiddenAddressError):
        h.web.scrapes.scrape("http://10.0.0.7/", owner=OWNER)
    with pytest.raises(ForbiddenAddressError):
        h.web.scrapes.scrape(site.url("/to-metadata"), owner=OWNER)
    with pytest.raises(InsecureSchemeError):
        h.web.policy.vet("http://93.184.216.34/")


def test_a_batch_of_files_ends_with_every_item_terminal_and_one_event(h: Harness) -> None:
    files = [
        Upload(b"A memo about the budget of the board for 2026.\n", "memo.txt"),
        Upload(b"", "empty.txt"),
        Upload(b"\x00\x01\x02" * 100, "blob.bin"),
        Upload(b"<html><body><p>An HTML upload with enough words.</p></body></html>", "p.html"),
    ]
    batch = h.web.batches.create_files(files, owner=OWNER)
    statuses = [item["status"] for item in batch["items"]]
    assert statuses == ["accepted", "rejected", "rejected", "accepted"]
    assert batch["items"][1]["error"]["code"] == "empty"
    assert batch["items"][2]["error"]["code"] == "unsupported_type"
    h.pump(process=True, until=lambda: bool(h.publisher.of_type("batch.completed")))
    final = h.web.batches.get(batch["id"], reach=Reach(owner=OWNER))
    assert final["status"] == "completed"
    assert final["counts"]["completed"] == 2
    assert final["counts"]["rejected"] == 2
    h.pump(process=True)
    [event] = h.publisher.of_type("batch.completed")
    assert event["data"]["batch_id"] == batch["id"]


def test_a_batch_of_urls_fetches_each_and_reports_bad_ones(h: Harness, site: Site) -> None:
    urls: list[object] = [
        site.url("/a"),
        "http://10.0.0.1/",
        42,
        site.url("/missing"),
        site.url("/de"),
    ]
    batch = h.web.batches.create_urls(urls, owner=OWNER)
    assert [i["status"] for i in batch["items"]] == [
        "pending",
        "rejected",
        "rejected",
        "pending",
        "pending",
    ]
    assert batch["items"][1]["error"]["code"] == "forbidden_address"
    h.pump(process=True, until=lambda: bool(h.publisher.of_type("batch.completed")))
    final = h.web.batches.get(batch["id"], reach=Reach(owner=OWNER))
    assert [i["status"] for i in final["items"]] == [
        "completed",
        "rejected",
        "rejected",
        "rejected",
        "completed",
    ]
    assert final["items"][3]["error"]["code"] == "http_404"
    assert len(h.publisher.of_type("batch.completed")) == 1


def test_batch_limits_and_owner_scoping(tmp_path: Path, site: Site) -> None:
    h = harness(tmp_path, batch_max_items=2, batch_max_bytes=10)
    with pytest.raises(BatchTooLargeError):
        h.web.batches.create_urls([site.url("/a")] * 3, owner=OWNER)
    with pytest.raises(BatchTooLargeError):
        h.web.batches.create_files([Upload(b"x" * 11, "big.txt")], owner=OWNER)
    batch = h.web.batches.create_urls([site.url("/a")], owner="alice")
    with pytest.raises(NotFoundError):
        h.web.batches.get(batch["id"], reach=Reach(owner="bob"))


def test_a_throttled_page_is_fetched_after_its_retry_after(h: Harness) -> None:
    with serve(Site()) as site:
        site.pages["/robots.txt"] = Page(b"", status=404, content_type="text/plain")
        site.pages["/"] = Page(b'<html><body><a href="/busy">b</a></body></html>')
        site.pages["/busy"] = Page(b"<html><body>finally</body></html>", throttle_once=1)
        from webingest.crawl import CrawlRequest

        crawl = h.web.crawls.start(
            CrawlRequest.from_json({"url": site.url("/")}, max_pages=10, max_depth=2), owner=OWNER
        )
        h.pump(
            until=lambda: (
                h.web.crawls.get(crawl["id"], reach=Reach(owner=OWNER))["status"] != "running"
            )
        )
        busy = [hit.at for hit in site.hits if hit.path == "/busy"]
    assert len(busy) == 2
    assert busy[1] - busy[0] >= 0.99
