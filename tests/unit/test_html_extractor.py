"""HTML pages: detected from their bytes, reduced to their main content with
title, author, date, language and outgoing links; boilerplate stays out."""

from __future__ import annotations

import pytest

from processing.extraction.detect import detect_type, looks_like_html
from processing.extraction.errors import LimitsExceededError
from processing.extraction.extractors import html as html_extractor
from processing.extraction.limits import Deadline, Limits
from processing.extraction.pipeline import run_pipeline
from processing.extraction.result import DocumentType, result_from_dict
from tests.builders.sites import BOILERPLATE_FOOTER, PARAGRAPHS, article


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body>x</body></html>",
        b"\xef\xbb\xbf\n  <html lang=en><p>x</p></html>",
        b"<HTML>\n<BODY>x</BODY></HTML>",
        b"<p>one paragraph</p>",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>',
    ],
)
def test_pages_are_detected_as_html(data: bytes) -> None:
    assert looks_like_html(data)
    assert detect_type(data) is DocumentType.HTML


@pytest.mark.parametrize(
    "data",
    [
        b"Plain notes about <html> tags.\n",
        b"<pre>is not a start tag we sniff",
        b"<?xml version='1.0'?><note/>",
    ],
)
def test_text_that_merely_mentions_tags_stays_text(data: bytes) -> None:
    assert detect_type(data) is DocumentType.TXT


def test_an_article_yields_its_main_text_without_navigation_or_footer() -> None:
    page = article("Analytical Engines", links=["/a", "https://other.example/b#top", "/a"])
    result = run_pipeline(page, "engines.html")
    assert result.document.content_type == "text/html"
    assert PARAGRAPHS["en"][0] in result.text
    assert PARAGRAPHS["en"][1] in result.text
    assert BOILERPLATE_FOOTER not in result.text
    assert "Pricing" not in result.text
    assert result.metadata.title == "Analytical Engines"
    assert result.metadata.author == "Ada Lovelace"
    assert result.metadata.created == "2024-05-01"
    assert result.metadata.language == "en"
    urls = [link.url for link in result.links]
    # Navigation links count (a crawler follows them); duplicates and fragments do not.
    assert "/pricing" in urls
    assert urls.count("/a") == 1
    assert "https://other.example/b" in urls
    assert result.links[urls.index("/a")].text == "Link to /a"


def test_a_page_in_another_language_is_detected_as_that_language() -> None:
    result = run_pipeline(article("Die Maschine", language="de"), "de.html")
    assert result.metadata.language == "de"
    assert PARAGRAPHS["de"][0] in result.text


def test_links_resolve_against_base_href_and_skip_scripts_and_mail() -> None:
    page = (
        b'<html><head><base href="https://docs.example/guide/"></head><body>'
        b'<a href="intro.html">Intro</a><a href="javascript:alert(1)">x</a>'
        b'<a href="mailto:a@b.example">mail</a><a href="#local">here</a>'
        b"<p>Enough words here to make a small page with some text in it for the test.</p>"
        b"</body></html>"
    )
    result = run_pipeline(page, "base.html")
    assert [link.url for link in result.links] == ["https://docs.example/guide/intro.html"]


def test_a_page_without_main_content_keeps_its_whole_text_with_a_warning() -> None:
    page = b"<html><body><footer>Only a footer here</footer><script>var x=1</script></body></html>"
    result = run_pipeline(page)
    assert result.text == "Only a footer here"
    assert "no_main_content" in [w.code for w in result.warnings]


def test_links_beyond_the_cap_are_dropped_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_extractor, "MAX_LINKS", 3)
    page = article("Many links", links=[f"/p{i}" for i in range(10)])
    result = run_pipeline(page)
    assert len(result.links) == 3
    assert "links_truncated" in [w.code for w in result.warnings]


def test_a_tree_over_the_element_cap_is_limits_exceeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_extractor, "MAX_ELEMENTS", 50)
    page = b"<html><body>" + b"<div>x</div>" * 100 + b"</body></html>"
    with pytest.raises(LimitsExceededError):
        html_extractor.extract_html(page, Limits(), Deadline.never())


def test_an_html_result_round_trips_through_the_checked_decoder() -> None:
    result = run_pipeline(article("Round trip", links=["/x"]))
    assert result_from_dict(result.to_dict()) == result
