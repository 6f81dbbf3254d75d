"""Web ingestion on the real app under the local host, against a generated
loopback site: a scrape yields the article's main text, title and links; a
crawl fetches exactly the allowed, deduplicated pages, never two requests to
the host closer than the interval, and ends completed with one
crawl.completed; a batch of files and URLs ends with every item terminal and
one batch.completed."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders.sites import BOILERPLATE_FOOTER, PARAGRAPHS
from tests.e2e.apphost import AppHost, wait_for
from tests.support.site import Site, serve
from tests.support.webingest import FETCHED_PATHS, generated_site

pytestmark = pytest.mark.e2e

INTERVAL = 0.2


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield generated_site(running)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[AppHost]:
    app_host = AppHost(
        tmp_path / "data",
        env={
            "WEBINGEST_ALLOWED_CIDRS": "127.0.0.0/8",
            "WEBINGEST_HOST_INTERVAL_MS": str(int(INTERVAL * 1000)),
            "WEBINGEST_FETCH_TIMEOUT_SECONDS": "2",
            "MAX_UPLOAD_BYTES": str(1024 * 1024),
        },
    ).start()
    yield app_host
    app_host.stop()


def post_json(host: AppHost, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    status, _, raw = host.request(
        "POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    return status, json.loads(raw)


def test_scrape_crawl_and_batch_end_to_end(host: AppHost, site: Site) -> None:
    # A scrape: the main text without boilerplate, the title, absolute links.
    status, record = post_json(host, "/api/scrape", {"url": site.url("/a")})
    assert status == 202, record
    assert record["source"] == "url"
    host.wait_for_status(record["id"], {"completed"})
    result = host.get_json(f"/api/documents/{record['id']}/result")
    assert PARAGRAPHS["en"][0] in result["text"]
    assert BOILERPLATE_FOOTER not in result["text"]
    assert result["metadata"]["title"] == "Page A"
    assert site.url("/b") in [link["url"] for link in result["links"]]
    status, refused = post_json(host, "/api/scrape", {"url": "http://169.254.169.254/"})
    assert (status, refused["code"]) == (400, "forbidden_address")

    # A crawl of the whole site.
    site.hits.clear()
    status, crawl = post_json(
        host,
        "/api/crawl",
        {"url": site.url("/"), "max_pages": 50, "max_depth": 2, "exclude": ["/excluded/*"]},
    )
    assert status == 202, crawl
    done = wait_for(
        lambda: (c := host.get_json(f"/api/crawls/{crawl['id']}"))["status"] != "running" and c,
        120,
        what="the crawl's end",
        host=host,
    )
    assert done["status"] == "completed"
    fetched = {d["url"].removeprefix(site.origin) or "/" for d in done["documents"]}
    assert fetched == FETCHED_PATHS
    requested = site.paths()
    assert "/private/secret" not in requested and "/excluded/page" not in requested
    times = [hit.at for hit in site.hits]
    assert min(later - earlier for earlier, later in itertools.pairwise(times)) >= INTERVAL - 0.01
    wait_for(lambda: host.events("crawl.completed"), 10, what="crawl.completed", host=host)
    [event] = host.events("crawl.completed")
    assert event["data"]["crawl_id"] == crawl["id"]

    # A batch of URLs, then one of files.
    status, batch = post_json(
        host, "/api/batch", {"urls": [site.url("/de"), site.url("/report.pdf"), "ftp://x"]}
    )
    assert status == 202, batch
    assert [item["status"] for item in batch["items"]] == ["pending", "pending", "rejected"]
    boundary = "b0undary"
    head = '--{b}\r\nContent-Disposition: form-data; name="file"; filename="{n}"\r\n\r\n'
    parts = [
        head.format(b=boundary, n=name).encode() + data + b"\r\n"
        for name, data in (("memo.txt", b"The board met on 14 March 2026."), ("empty.txt", b""))
    ]
    multipart = b"".join(parts) + f"--{boundary}--\r\n".encode()
    status, _, raw = host.request(
        "POST",
        "/api/batch",
        body=multipart,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    files = json.loads(raw)
    assert status == 202, files
    assert [item["status"] for item in files["items"]] == ["accepted", "rejected"]
    for batch_id in (batch["id"], files["id"]):
        final = wait_for(
            lambda b=batch_id: (
                (v := host.get_json(f"/api/batches/{b}"))["status"] == "completed" and v
            ),
            60,
            what="the batch's end",
            host=host,
        )
        assert all(item["status"] in {"completed", "failed", "rejected"} for item in final["items"])
    wait_for(
        lambda: len(host.events("batch.completed")) == 2, 10, what="batch.completed", host=host
    )
    assert {e["data"]["batch_id"] for e in host.events("batch.completed")} == {
        batch["id"],
        files["id"],
    }
