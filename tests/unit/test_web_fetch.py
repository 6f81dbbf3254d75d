"""Fetching user-supplied URLs: every hop through the SSRF policy, redirects
re-vetted and capped, bodies capped while streaming, gzip bombs refused,
slow servers cut off at the deadline -- against real loopback servers."""

from __future__ import annotations

import gzip
import ipaddress
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from kernel.egress.addresses import (
    AddressPolicy,
    ForbiddenAddressError,
    InsecureSchemeError,
)
from kernel.egress.fetch import (
    DecompressionBombError,
    FetchError,
    FetchLimits,
    FetchTimeoutError,
    FetchTooLargeError,
    PinnedFetcher,
    TooManyRedirectsError,
)
from tests.support.site import Page, Site, redirect, serve

ALLOWED = (ipaddress.ip_network("127.0.0.1/32"),)


def fetcher(**limits: Any) -> PinnedFetcher:
    policy = AddressPolicy(ALLOWED, purpose="web ingestion", allow_list_setting="X_CIDRS")
    return PinnedFetcher(
        policy,
        user_agent="docflow-test/1.0 (+https://example.test/bot)",
        limits=FetchLimits(**limits),
    )


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield running


def test_a_page_is_fetched_with_the_user_agent_and_status(site: Site) -> None:
    site.pages["/a"] = Page(b"<html>hello</html>")
    got = fetcher().get(site.url("/a"))
    assert (got.status, got.body, got.media_type) == (200, b"<html>hello</html>", "text/html")
    assert got.final_url == site.url("/a")
    assert site.hits[0].user_agent.startswith("docflow-test/1.0")


def test_redirects_are_followed_and_each_hop_recorded(site: Site) -> None:
    site.pages["/old"] = redirect("/middle", 301)
    site.pages["/middle"] = redirect(site.url("/new"), 307)
    site.pages["/new"] = Page(b"moved here")
    got = fetcher().get(site.url("/old"))
    assert got.body == b"moved here"
    assert got.final_url == site.url("/new")
    assert got.redirects == (site.url("/old"), site.url("/middle"))


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/inside",  # loopback outside the allow-list
        "http://10.1.2.3/internal",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/",
        "http://0x7f000002/",
    ],
)
def test_a_redirect_to_a_forbidden_address_is_refused_before_connecting(
    site: Site, location: str
) -> None:
    site.pages["/jump"] = redirect(location.format(port=site.port))
    with pytest.raises(ForbiddenAddressError):
        fetcher().get(site.url("/jump"))
    assert site.paths() == ["/jump"]


def test_plain_http_outside_the_allow_list_is_refused() -> None:
    policy = AddressPolicy(
        (),
        purpose="web ingestion",
        allow_list_setting="X_CIDRS",
        resolver=lambda host, port: ["93.184.216.34"],
    )
    with pytest.raises(InsecureSchemeError):
        PinnedFetcher(policy, user_agent="t").get("http://public.example/")


def test_more_than_the_allowed_redirects_is_an_error(site: Site) -> None:
    for i in range(4):
        site.pages[f"/r{i}"] = redirect(f"/r{i + 1}")
    site.pages["/r4"] = Page(b"end")
    assert fetcher(max_redirects=4).get(site.url("/r0")).body == b"end"
    with pytest.raises(TooManyRedirectsError):
        fetcher(max_redirects=3).get(site.url("/r0"))


def test_a_redirect_loop_ends(site: Site) -> None:
    site.pages["/loop"] = redirect("/loop")
    with pytest.raises(TooManyRedirectsError):
        fetcher().get(site.url("/loop"))
    assert site.fetched("/loop") == 6


def test_a_body_over_the_cap_is_refused_while_streaming(site: Site) -> None:
    site.pages["/big"] = Page(b"x" * 300_000)
    assert len(fetcher(max_bytes=300_000).get(site.url("/big")).body) == 300_000
    with pytest.raises(FetchTooLargeError):
        fetcher(max_bytes=299_999).get(site.url("/big"))


def test_a_gzip_bomb_is_refused_without_inflating_it(site: Site) -> None:
    # 20 MiB of zeros in about 20 KiB: under the size cap, but a bomb by its ratio.
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024), compresslevel=9)
    site.pages["/bomb"] = Page(
        bomb, headers=(("Content-Encoding", "gzip"),), content_type="text/html"
    )
    started = time.monotonic()
    with pytest.raises(DecompressionBombError):
        fetcher(max_bytes=50 * 1024 * 1024).get(site.url("/bomb"))
    assert time.monotonic() - started < 5
    assert "gzip" in site.hits[0].accept_encoding


def test_a_gzipped_page_is_inflated(site: Site) -> None:
    site.pages["/z"] = Page(b"<p>compressed page</p>" * 10, gzip=True)
    assert fetcher().get(site.url("/z")).body == b"<p>compressed page</p>" * 10


def test_deflate_with_and_without_a_zlib_header_is_inflated(site: Site) -> None:
    raw = zlib.compressobj(wbits=-15)
    headerless = raw.compress(b"plain deflate") + raw.flush()
    site.pages["/d1"] = Page(
        zlib.compress(b"zlib deflate"), headers=(("Content-Encoding", "deflate"),)
    )
    site.pages["/d2"] = Page(headerless, headers=(("Content-Encoding", "deflate"),))
    assert fetcher().get(site.url("/d1")).body == b"zlib deflate"
    assert fetcher().get(site.url("/d2")).body == b"plain deflate"


def test_an_unknown_content_encoding_is_an_error(site: Site) -> None:
    site.pages["/br"] = Page(b"????", headers=(("Content-Encoding", "br"),))
    with pytest.raises(FetchError, match="not supported"):
        fetcher().get(site.url("/br"))


def test_a_dripping_server_is_cut_off_at_the_total_deadline(site: Site) -> None:
    site.pages["/slow"] = Page(b"x" * 4000, drip=10, drip_delay=0.05)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError):
        fetcher(total_timeout=0.6, read_timeout=5).get(site.url("/slow"))
    assert time.monotonic() - started < 2


def test_a_server_that_does_not_answer_hits_the_read_timeout(site: Site) -> None:
    site.pages["/stall"] = Page(b"late", delay=2)
    with pytest.raises(FetchTimeoutError):
        fetcher(read_timeout=0.3, total_timeout=10).get(site.url("/stall"))


def test_an_error_answer_is_returned_with_its_status_and_headers(site: Site) -> None:
    site.pages["/busy"] = Page(b"later", status=503, headers=(("Retry-After", "7"),))
    got = fetcher().get(site.url("/busy"))
    assert (got.status, got.header("retry-after")) == (503, "7")


def test_a_refused_connection_is_a_fetch_error() -> None:
    with serve(Site()) as gone:
        port = gone.port
    with pytest.raises(FetchError, match="could not connect"):
        fetcher().get(f"http://127.0.0.1:{port}/")
