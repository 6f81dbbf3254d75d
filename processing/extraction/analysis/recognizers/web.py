"""Email addresses and web URLs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from processing.extraction.analysis.recognizers.scanning import finditer_in, needle_windows
from processing.extraction.result import Entity

# ASCII only, dot-separated atoms: no leading, trailing or doubled dots. The
# lookbehind makes a match start only where a local part can start, which keeps
# the scan linear on long runs of word characters.
_EMAIL = re.compile(
    r"(?<![\w.%+-])"
    r"(?P<local>[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*)"
    r"@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
    r"(?![\w-]|\.[A-Za-z0-9])"
)
_MAX_LOCAL = 64
_MAX_DOMAIN = 253
_EMAIL_REACH_BEFORE = _MAX_LOCAL + 2
_EMAIL_REACH_AFTER = _MAX_DOMAIN + 8

# Characters that end a URL in running text: whitespace, quotes, angle brackets
# and the few ASCII characters that URLs must escape.
_URL_CHAR = r"[^\s<>\"'`{}|\\^\u00ab\u00bb\u201c\u201d\u2018\u2019]"
_URL = re.compile(rf"(?<![\w@./-])(?:https?://|www\.){_URL_CHAR}+", re.IGNORECASE)
# A URL wrapped onto the next line (as PDF text often has it) goes on with a
# token holding a letter and URL punctuation, and not starting a URL itself:
# "https://web.archiv" + newline + "e.org/web/2019".
_WRAPPED_TAIL = re.compile(
    rf"(?!(?i:https?:|www\.))(?={_URL_CHAR}*[A-Za-z])(?={_URL_CHAR}*[/.\-_?=&%#~]){_URL_CHAR}+"
)
# Literal markers of a URL and where the URL starts relative to each:
# "https://" and "http://" start 5 or 4 characters before "://".
_URL_MARKERS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("://", (5, 4)),
    ("www.", (0,)),
    ("WWW.", (0,)),
)
_TRAILING = ".,;:!?*"
_WRAP_AFTER = "/-_=&%#~"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})", re.IGNORECASE)


class EmailRecognizer:
    """Email addresses; the value has its domain lower-cased."""

    name = "email"

    def recognize(self, text: str) -> Iterator[Entity]:
        windows = needle_windows(text, ("@",), before=_EMAIL_REACH_BEFORE, after=_EMAIL_REACH_AFTER)
        for match in finditer_in(_EMAIL, text, windows):
            local, domain = match.group("local", "domain")
            if len(local) > _MAX_LOCAL or len(domain) > _MAX_DOMAIN:
                continue
            yield Entity(
                type="email",
                text=match.group(),
                value=f"{local}@{domain.lower()}",
                start=match.start(),
                end=match.end(),
            )


class UrlRecognizer:
    """``http``/``https`` URLs and bare ``www.`` addresses.

    Trailing sentence punctuation and unbalanced closing brackets are not part
    of the URL. A URL broken over lines goes on across the line
    break when the next line starts with what reads as the rest of a URL; its
    ``text`` keeps the line break and its value does not. The value is the URL
    with its scheme and host lower-cased; a bare ``www.`` address keeps having
    no scheme.
    """

    name = "url"

    def recognize(self, text: str) -> Iterator[Entity]:
        for start, end in _url_spans(text):
            url = _trim_url(text[start:end])
            value = _normalize_url(url.replace("\n", ""))
            if value is None:
                continue
            yield Entity(type="url", text=url, value=value, start=start, end=start + len(url))


def _url_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of URL candidates, tried only where a scheme or ``www.`` begins."""
    starts: set[int] = set()
    for marker, offsets in _URL_MARKERS:
        index = text.find(marker)
        while index != -1:
            starts.update(index - offset for offset in offsets if index >= offset)
            index = text.find(marker, index + 1)
    end = 0
    for start in sorted(starts):
        if start < end:
            continue  # inside the previous URL
        match = _URL.match(text, start)
        if match is None:
            continue
        end = match.end()
        while _wraps_at(text, end) and (tail := _WRAPPED_TAIL.match(text, end + 1)):
            end = tail.end()
        yield start, end


def _wraps_at(text: str, end: int) -> bool:
    """Whether a URL ending at ``end`` may go on on the next line.

    Not after punctuation that ends sentences or brackets; after a dot only
    when the next line starts in lower case ("premiumtv.co." + "uk/page").
    """
    if not text.startswith("\n", end):
        return False
    last, following = text[end - 1], text[end + 1 : end + 2]
    if last == ".":
        return following.islower()
    return last.isalnum() or last in _WRAP_AFTER


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)
        if last not in _TRAILING and not unbalanced:
            break
        url = url[:-1]
    return url


def _normalize_url(url: str) -> str | None:
    """The normalised URL, or ``None`` when its host is not plausible."""
    bare = url[:4].lower() == "www."
    try:
        parts = urlsplit(f"http://{url}" if bare else url)
        host = parts.hostname
        netloc = parts.netloc
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if not host or not _is_plausible_host(host, bare=bare):
        return None
    userinfo, _, hostport = netloc.rpartition("@")
    netloc = f"{userinfo}@{hostport.lower()}" if userinfo else hostport.lower()
    rest = url[url.index(parts.netloc) + len(parts.netloc) :] if parts.netloc else ""
    if bare:
        return netloc + rest
    return f"{parts.scheme.lower()}://{netloc}{rest}"


def _is_plausible_host(host: str, *, bare: bool) -> bool:
    if not bare:
        if host == "localhost":
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return True
    labels = host.split(".")
    if len(labels) < (3 if bare else 2):
        return False
    *names, tld = labels
    return bool(_TLD.fullmatch(tld)) and all(_HOST_LABEL.fullmatch(label) for label in names)
