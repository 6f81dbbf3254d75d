"""URL normalisation, redaction and crawl scope; robots.txt rules; host turns;
web ingestion settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import SettingsError
from kernel.storage.embedded.tables import EmbeddedTableStore
from webingest.errors import InvalidCrawlError
from webingest.politeness import HostGate
from webingest.robots import ALLOW_ALL, DISALLOW_ALL, PARSED, Robots
from webingest.settings import WebIngestSettings
from webingest.urls import Scope, absolute_links, normalize, parse_patterns, shown_url


@pytest.mark.parametrize(
    "spelling",
    [
        "https://example.com/docs/intro",
        "HTTPS://EXAMPLE.com/docs/intro",
        "https://example.com:443/docs/intro",
        "https://example.com/docs/intro/",
        "https://example.com/docs/intro#part-2",
        "https://example.com/docs/./guide/../intro",
        "https://example.com/docs/intro?utm_source=mail&utm_medium=x&fbclid=abc",
        "https://example.com/%64ocs/intro",
        "https://example.com./docs/intro",
    ],
)
def test_every_spelling_of_a_url_normalises_to_one(spelling: str) -> None:
    assert normalize(spelling) == "https://example.com/docs/intro"


def test_query_order_is_normalised_and_meaningful_parameters_stay() -> None:
    assert normalize("http://e.com/s?b=2&a=1&gclid=x") == "http://e.com/s?a=1&b=2"
    assert normalize("http://e.com:8080/") == "http://e.com:8080/"
    assert normalize("http://e.com/a%2fb") == "http://e.com/a%2Fb"


def test_shown_urls_redact_secret_looking_query_values() -> None:
    shown = shown_url("https://u:pw@h.example/p?page=2&sig=abc&api_key=k&X-Amz-Signature=s")
    assert (
        shown == "https://h.example/p?page=2&sig=redacted&api_key=redacted&X-Amz-Signature=redacted"
    )


def test_links_resolve_and_drop_what_is_not_http() -> None:
    found = absolute_links(
        "https://e.com/dir/page", ["../x", "mailto:a@b", "javascript:void(0)", "/y#z", "../x/"]
    )
    assert found == ["https://e.com/x", "https://e.com/y"]


def test_scope_same_site_include_and_exclude() -> None:
    scope = Scope(
        start="https://www.e.com/",
        include=parse_patterns(["/docs/*", "^/api/v[0-9]+/"], "include"),
        exclude=parse_patterns(["*.zip"], "exclude"),
    )
    assert scope.verdict("https://e.com/docs/a/b") is None
    assert scope.verdict("https://www.e.com/api/v2/x") is None
    assert scope.verdict("https://e.com/blog") == "excluded"
    assert scope.verdict("https://e.com/docs/file.zip") == "excluded"
    assert scope.verdict("https://other.com/docs/a") == "out_of_scope"
    assert Scope(start="https://e.com/", same_site=False).verdict("https://o.com/") is None


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(InvalidCrawlError):
        parse_patterns(["^(unclosed"], "include")
    with pytest.raises(InvalidCrawlError):
        parse_patterns("/docs/*", "include")


def test_robots_rules_wildcards_crawl_delay_and_sitemaps() -> None:
    robots = Robots(
        PARSED,
        "User-agent: *\nDisallow: /*.pdf$\nDisallow: /tmp/\nAllow: /tmp/ok\nCrawl-delay: 2\n"
        "Sitemap: https://e.com/sm.xml\n\nUser-agent: docflow-webingest\nDisallow: /bots/\n",
        "docflow-webingest",
    )
    assert not robots.allowed("https://e.com/bots/x")
    assert robots.allowed("https://e.com/tmp/x")  # its own group replaces the * group
    assert robots.sitemaps() == ["https://e.com/sm.xml"]
    generic = Robots(PARSED, "User-agent: *\nDisallow: /*.pdf$\nCrawl-delay: 2\n", "other")
    assert not generic.allowed("https://e.com/a/report.pdf")
    assert generic.allowed("https://e.com/a/report.pdf.html")
    assert generic.crawl_delay() == 2.0
    assert Robots(ALLOW_ALL).allowed("https://e.com/x")
    assert not Robots(DISALLOW_ALL).allowed("https://e.com/x")


def test_host_turns_are_spaced_by_the_interval(tmp_path: Path) -> None:
    clock = [100.0]
    gate = HostGate(EmbeddedTableStore(tmp_path), "webingest", now=lambda: clock[0])
    assert gate.take_turn("e.com", 1.0, max_wait=5).wait == 0
    second = gate.take_turn("e.com", 1.0, max_wait=5)
    third = gate.take_turn("e.com", 1.0, max_wait=5)
    assert (second.booked, round(second.wait, 2), round(third.wait, 2)) == (True, 1.07, 2.14)
    far = gate.take_turn("e.com", 1.0, max_wait=0.5)
    assert (far.booked, round(far.wait, 2)) == (False, 3.21)
    gate.hold_off("e.com", 30)
    assert gate.take_turn("e.com", 1.0, max_wait=5).wait == 30
    assert gate.take_turn("other.com", 1.0, max_wait=5).wait == 0


def test_settings_read_from_the_environment() -> None:
    settings = WebIngestSettings.from_env(
        {
            "WEBINGEST_ALLOWED_CIDRS": "127.0.0.0/8",
            "WEBINGEST_HOST_INTERVAL_MS": "0",
            "WEBINGEST_SCRAPE_ROBOTS": "false",
            "WEBINGEST_CONTACT_URL": "https://ops.example/bot",
            "BATCH_MAX_ITEMS": "7",
        }
    )
    assert settings.host_interval_ms == 0
    assert settings.scrape_robots is False
    assert settings.batch_max_items == 7
    assert settings.user_agent == "docflow-webingest/1.0 (+https://ops.example/bot)"
    assert settings.allow_list_warning()
    with pytest.raises(SettingsError):
        WebIngestSettings.from_env({"WEBINGEST_HOST_INTERVAL_MS": "fast"})
