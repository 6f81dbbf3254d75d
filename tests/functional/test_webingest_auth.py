"""Web ingestion under bearer tokens, through the real decorated functions with
real RS256 tokens from a loopback issuer: scrapes, crawls and batches need
Documents.Write, reading a crawl or batch needs Documents.Read, and every
crawl, batch and document they create is the caller's alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kernel.identity import Reach
from processing import runtime as processing_runtime
from tests.functional.test_auth import Handler, all_http_functions, call
from tests.support.app import reset_runtime
from tests.support.issuer import AUDIENCE, Issuer, serving_issuer
from tests.support.site import Page, Site, serve
from tests.support.webingest import Harness, harness
from webingest import runtime as webingest_runtime

ALICE = "tenant-a:alice"
UNKNOWN_CRAWL = "crawl_" + "0" * 24
UNKNOWN_BATCH = "batch_" + "0" * 24


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Issuer]:
    with serving_issuer() as served:
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
        monkeypatch.delenv("AzureWebJobsStorage", raising=False)
        monkeypatch.setenv("AUTH_MODE", "jwt")
        monkeypatch.setenv("AUTH_ISSUER", served.issuer)
        monkeypatch.setenv("AUTH_AUDIENCE", AUDIENCE)
        reset_runtime()
        yield served
    reset_runtime()


@pytest.fixture
def h(issuer: Issuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """Web ingestion and the document workflow on the embedded store, behind
    the app's functions (AUTH_MODE=jwt against the loopback issuer)."""
    built = harness(tmp_path / "data", scrape_robots=False)
    with monkeypatch.context() as patched:
        patched.setattr(processing_runtime, "services", lambda: built.docs)
        patched.setattr(webingest_runtime, "webingest", lambda: built.web)
        yield built
    built.docs.platform.stores.close()


@pytest.fixture(scope="module")
def functions() -> dict[str, tuple[Handler, list[str], str]]:
    return all_http_functions()


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        running.pages["/robots.txt"] = Page(b"", status=404, content_type="text/plain")
        running.pages["/"] = Page(b'<html><body><p>Home page.</p><a href="/a">a</a></body></html>')
        running.pages["/a"] = Page(b"<html><body><p>Page A of the site.</p></body></html>")
        yield running


def tokens(issuer: Issuer) -> tuple[str, str]:
    return issuer.token(tenant="tenant-a", oid="alice"), issuer.token(tenant="tenant-b", oid="bob")


def post_json(
    functions: Any, name: str, token: str | None, doc: dict[str, Any]
) -> tuple[int, dict[str, str], Any]:
    return call(
        functions,
        name,
        token,
        body=json.dumps(doc).encode(),
        headers={"content-type": "application/json"},
    )


def test_web_routes_need_documents_write_to_submit_and_documents_read_to_look(
    h: Harness,
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    site: Site,
) -> None:
    """A reader cannot scrape, crawl, cancel or batch (403 ``forbidden``, nothing
    fetched); a writer without Documents.Read cannot read a crawl or batch."""
    reader = issuer.token(oid="alice", roles=("Documents.Read",))
    writer = issuer.token(oid="alice", roles=("Documents.Write",))
    for name, doc in (
        ("scrape_page", {"url": site.url("/a")}),
        ("start_crawl", {"url": site.url("/")}),
        ("create_batch", {"urls": [site.url("/a")]}),
    ):
        status, _, body = post_json(functions, name, reader, doc)
        assert (status, body["code"]) == (403, "forbidden"), name
    status, _, body = call(functions, "cancel_crawl", reader, route={"id": UNKNOWN_CRAWL})
    assert (status, body["code"]) == (403, "forbidden")
    assert site.hits == []
    status, _, crawl = post_json(functions, "start_crawl", writer, {"url": site.url("/")})
    assert status == 202, crawl
    status, _, body = call(functions, "get_crawl", writer, route={"id": crawl["id"]})
    assert (status, body["code"]) == (403, "forbidden")
    status, _, batch = post_json(functions, "create_batch", writer, {"urls": [site.url("/a")]})
    assert status == 202, batch
    status, _, body = call(functions, "get_batch", writer, route={"id": batch["id"]})
    assert (status, body["code"]) == (403, "forbidden")


def test_owner_b_cannot_see_or_cancel_owner_as_crawl(
    h: Harness,
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    site: Site,
) -> None:
    """Bob gets exactly the unknown id's 404 for Alice's crawl (read and
    cancel), her crawl runs on, and its pages become documents of hers that
    Bob cannot read; crawl.completed carries her as the owner."""
    alice, bob = tokens(issuer)
    status, _, crawl = post_json(
        functions, "start_crawl", alice, {"url": site.url("/"), "max_pages": 5}
    )
    assert status == 202, crawl
    crawl_id = crawl["id"]
    unknown = call(functions, "get_crawl", bob, route={"id": UNKNOWN_CRAWL})
    assert (unknown[0], unknown[2]["code"]) == (404, "not_found")
    for name in ("get_crawl", "cancel_crawl"):
        status, _, body = call(functions, name, bob, route={"id": crawl_id})
        # The very answer for an unknown id, the id asked for aside.
        assert status == 404, name
        assert json.dumps(body).replace(crawl_id, UNKNOWN_CRAWL) == json.dumps(unknown[2]), name
    h.pump(
        until=lambda: h.web.crawls.get(crawl_id, reach=Reach(owner=ALICE))["status"] != "running"
    )
    status, _, mine = call(functions, "get_crawl", alice, route={"id": crawl_id})
    assert status == 200
    assert mine["status"] == "completed"
    documents = [d["id"] for d in mine["documents"]]
    assert len(documents) == 2
    for document_id in documents:
        assert h.docs.documents.get(document_id).owner == ALICE
        assert call(functions, "get_document", bob, route={"id": document_id})[0] == 404
        assert call(functions, "get_document", alice, route={"id": document_id})[0] == 200
    [event] = h.publisher.of_type("crawl.completed")
    assert event["data"]["owner"] == ALICE


def test_owner_b_cannot_see_owner_as_batch_or_its_documents(
    h: Harness,
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    site: Site,
) -> None:
    """A batch of URLs and one of files: Bob's reads answer 404 like an unknown
    id; every document either batch created is Alice's."""
    alice, bob = tokens(issuer)
    status, _, by_url = post_json(functions, "create_batch", alice, {"urls": [site.url("/a")]})
    assert status == 202, by_url
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=memo.txt\r\n"
        "Content-Type: text/plain\r\n\r\nA memo about the budget of the board for 2026.\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    status, _, by_file = call(
        functions,
        "create_batch",
        alice,
        body=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 202, by_file
    unknown = call(functions, "get_batch", bob, route={"id": UNKNOWN_BATCH})
    assert (unknown[0], unknown[2]["code"]) == (404, "not_found")
    for batch in (by_url, by_file):
        status, _, got = call(functions, "get_batch", bob, route={"id": batch["id"]})
        assert status == 404
        assert json.dumps(got).replace(batch["id"], UNKNOWN_BATCH) == json.dumps(unknown[2])
    h.pump(process=True, until=lambda: len(h.publisher.of_type("batch.completed")) == 2)
    for batch in (by_url, by_file):
        status, _, mine = call(functions, "get_batch", alice, route={"id": batch["id"]})
        assert status == 200
        [item] = mine["items"]
        assert item["status"] == "completed", item
        assert h.docs.documents.get(item["document_id"]).owner == ALICE
        assert call(functions, "get_document", bob, route={"id": item["document_id"]})[0] == 404


def test_a_scraped_page_is_the_callers_document(
    h: Harness,
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    site: Site,
) -> None:
    """The scrape's document carries Alice as owner: she reads it, Bob gets 404."""
    alice, bob = tokens(issuer)
    status, _, record = post_json(functions, "scrape_page", alice, {"url": site.url("/a")})
    assert status == 202, record
    assert h.docs.documents.get(record["id"]).owner == ALICE
    assert call(functions, "get_document", alice, route={"id": record["id"]})[0] == 200
    status, _, body = call(functions, "get_document", bob, route={"id": record["id"]})
    assert (status, body["code"]) == (404, "not_found")
