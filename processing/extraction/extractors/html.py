"""HTML and XHTML pages: main content, metadata and outgoing links.

Main-content extraction is trafilatura's (navigation, footers, cookie banners
and other boilerplate removed); a page where it finds no main content falls
back to the text of the whole body. Links are read from every ``<a href>`` of
the page, navigation included, since that is what a crawler follows.
Nothing is fetched: relative links stay relative unless the page names a
``<base href>``, and the caller that knows the page's URL resolves them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from processing.extraction.errors import CorruptDocumentError, LimitsExceededError
from processing.extraction.limits import Deadline, Limits
from processing.extraction.result import DocumentMetadata, Extraction, Link, ProcessingWarning

#: Most links kept from one page; the rest are dropped with a warning.
MAX_LINKS = 2_000
#: Most elements parsed; a larger tree is ``limits_exceeded``.
MAX_ELEMENTS = 500_000
_MAX_LINK_TEXT = 200
_SPACES = re.compile(r"\s+")
_SKIPPED_SCHEMES = ("javascript", "mailto", "tel", "data", "about", "blob", "ftp", "file")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def extract_html(data: bytes, limits: Limits, deadline: Deadline) -> Extraction:
    """Extract the main text, title, author, date, declared language and links of a page."""
    del limits
    import lxml.html
    import trafilatura

    try:
        tree = lxml.html.document_fromstring(data)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise CorruptDocumentError("the HTML page could not be parsed") from exc
    elements = sum(1 for _ in tree.iter())
    if elements > MAX_ELEMENTS:
        raise LimitsExceededError(f"the page has {elements} elements; the limit is {MAX_ELEMENTS}")
    links, dropped = _links(tree)
    declared_language = _language(tree.get("lang") or tree.get("xml:lang"))
    deadline.check()
    # trafilatura edits the tree it is given: it gets the bytes and parses its own.
    found = trafilatura.bare_extraction(
        data,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        # Dates from the page's markup only: a guess from "© 2024" is no date.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    deadline.check()
    warnings: list[ProcessingWarning] = []
    meta: dict[str, Any] = {}
    if isinstance(found, dict):
        meta = found
    elif found is not None:
        meta = found.as_dict()
    text = str(meta.get("text") or "").strip()
    if not text:
        text = _body_text(tree)
        warnings.append(
            ProcessingWarning(
                "no_main_content", "no main content was found: the whole page is kept"
            )
        )
    if dropped:
        warnings.append(
            ProcessingWarning("links_truncated", f"only the first {MAX_LINKS} links are returned")
        )
    title = _clean(meta.get("title")) or _clean(tree.findtext(".//title"))
    date = _clean(meta.get("date"))
    metadata = DocumentMetadata(
        title=title,
        author=_clean(meta.get("author")),
        subject=_clean(meta.get("description")),
        created=date if date and _DATE.match(date) else None,
        encoding=_encoding(tree),
        language=declared_language,
    )
    return Extraction(text=text, metadata=metadata, warnings=tuple(warnings), links=links)


def _links(tree: Any) -> tuple[tuple[Link, ...], bool]:
    base = None
    for element in tree.iterfind(".//base[@href]"):
        href = str(element.get("href")).strip()
        if urlsplit(href).scheme in ("http", "https"):
            base = href
        break
    seen: set[str] = set()
    links: list[Link] = []
    for element in tree.iterfind(".//a[@href]"):
        href = _SPACES.sub("", str(element.get("href")))
        if not href or href.startswith("#"):
            continue
        try:
            scheme = urlsplit(href).scheme.lower()
            url = urljoin(base, href) if base else href
        except ValueError:
            continue
        if scheme in _SKIPPED_SCHEMES or url.split("#", 1)[0] in seen:
            continue
        url = url.split("#", 1)[0]
        if not url:
            continue
        if len(links) >= MAX_LINKS:
            return tuple(links), True
        seen.add(url)
        text = _SPACES.sub(" ", element.text_content()).strip()[:_MAX_LINK_TEXT]
        links.append(Link(url=url, text=text))
    return tuple(links), False


def _body_text(tree: Any) -> str:
    for element in tree.iterfind(".//script"):
        element.drop_tree()
    for element in tree.iterfind(".//style"):
        element.drop_tree()
    body = tree.find(".//body")
    node = body if body is not None else tree
    lines = (_SPACES.sub(" ", line).strip() for line in node.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _encoding(tree: Any) -> str | None:
    docinfo = getattr(tree.getroottree(), "docinfo", None)
    encoding = getattr(docinfo, "encoding", None)
    return str(encoding).lower() if encoding else None


def _language(value: str | None) -> str | None:
    """``en`` for ``lang="en-GB"``; None for anything that is not a language tag."""
    primary = (value or "").strip().split("-", 1)[0].lower()
    return primary if _LANGUAGE.match(primary) else None


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = _SPACES.sub(" ", str(value)).strip()
    return text or None
