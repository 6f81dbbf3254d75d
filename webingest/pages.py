"""What a crawler reads in a fetched page: the links of an HTML page and the
URLs of a sitemap. Both parse with lxml without network access or entity
expansion, and both stop at a fixed number of URLs."""

from __future__ import annotations

from kernel.egress.fetch import FetchedResponse

MAX_LINKS_PER_PAGE = 2_000
MAX_SITEMAP_URLS = 10_000
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def is_html(response: FetchedResponse) -> bool:
    if response.media_type in HTML_TYPES:
        return True
    head = response.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def page_links(body: bytes) -> list[str]:
    """The ``href`` of every ``<a>`` and ``<area>`` (as written), and the page's
    ``<base href>`` first when it has one, marked with a leading ``base:``."""
    import lxml.etree
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(body)
    except (ValueError, lxml.etree.ParserError):
        return []
    hrefs: list[str] = []
    base = tree.find(".//base[@href]")
    if base is not None:
        hrefs.append("base:" + str(base.get("href")))
    for element in tree.iter("a", "area"):
        href = element.get("href")
        rel = (element.get("rel") or "").lower()
        if href and "nofollow" not in rel.split():
            hrefs.append(str(href))
            if len(hrefs) >= MAX_LINKS_PER_PAGE:
                break
    return hrefs


def sitemap_urls(body: bytes) -> tuple[list[str], list[str]]:
    """``(pages, nested sitemaps)`` listed in a sitemap or sitemap index."""
    import lxml.etree

    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=True
    )
    try:
        root = lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError:
        return [], []
    if root is None:
        return [], []
    pages: list[str] = []
    nested: list[str] = []
    is_index = lxml.etree.QName(root).localname == "sitemapindex"
    for element in root.iter("{*}loc"):
        text = (element.text or "").strip()
        if text:
            (nested if is_index else pages).append(text)
        if len(pages) + len(nested) >= MAX_SITEMAP_URLS:
            break
    return pages, nested
