"""Email addresses and web URLs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from processing.models import Entity

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

# Characters that end a URL in running text: whitespace, quotes, angle brackets
# and the few ASCII characters that URLs must escape.
_URL = re.compile(
    r"(?<![\w@./-])(?:https?://|www\.)[^\s<>\"'`{}|\\^\u00ab\u00bb\u201c\u201d\u2018\u2019]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})", re.IGNORECASE)


class EmailRecognizer:
    """Email addresses; the value has its domain lower-cased."""

    name = "email"

    def recognize(self, text: str) -> Iterator[Entity]:
        for match in _EMAIL.finditer(text):
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
    of the URL. The value is the URL with its scheme and host lower-cased; a
    bare ``www.`` address keeps having no scheme.
    """

    name = "url"

    def recognize(self, text: str) -> Iterator[Entity]:
        for match in _URL.finditer(text):
            url = _trim_url(match.group())
            value = _normalize_url(url)
            if value is None:
                continue
            start = match.start()
            yield Entity(type="url", text=url, value=value, start=start, end=start + len(url))


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last):
            url = url[:-1]
        else:
            break
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
