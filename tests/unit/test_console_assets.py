"""The console's assets: only allow-listed names are served, each with a strict CSP,
nosniff and an ETag that changes with the content and answers If-None-Match."""

from __future__ import annotations

import re

import pytest

from console import assets
from console.assets import ASSETS, CONTENT_SECURITY_POLICY, STATIC, asset


def test_every_allow_listed_asset_exists_and_every_static_file_is_listed() -> None:
    assert {path.name for path in STATIC.iterdir()} == set(ASSETS)


@pytest.mark.parametrize(
    "name", ["../assets.py", "..%2Fassets.py", "/etc/passwd", "APP.JS", "app.js/", "", "x.js"]
)
def test_a_name_outside_the_allow_list_is_not_served(name: str) -> None:
    assert asset(name) is None


def test_headers_forbid_inline_code_framing_and_sniffing() -> None:
    found = asset("app.js")
    assert found is not None
    headers = found.headers()
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert re.fullmatch(r'"[0-9a-f]{32}"', found.etag)


def test_the_etag_matches_its_own_version_only() -> None:
    found = asset("console.css")
    assert found is not None
    assert found.matches(found.etag)
    assert found.matches(f'"other", W/{found.etag}')
    assert found.matches("*")
    assert not found.matches('"0123"')
    assert not found.matches(None)


def test_the_page_has_no_inline_script_or_style_and_loads_only_its_own_assets() -> None:
    page = (STATIC / assets.PAGE).read_text()
    assert "<style" not in page and " style=" not in page
    assert re.findall(r"<script[^>]*>([^<]*)</script>", page) == [""]
    for reference in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert reference == "data:," or reference.removeprefix("/api/console/assets/") in ASSETS


def test_no_script_writes_html() -> None:
    for name in ASSETS:
        if name.endswith(".js"):
            source = (STATIC / name).read_text()
            assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source)
