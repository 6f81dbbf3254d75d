"""URLs as a crawler compares them, shows them and scopes them.

:func:`normalize` gives every spelling of one page the same key: scheme and
host lowercase, default ports dropped, dot segments resolved, percent-escapes
of unreserved characters decoded (others uppercase), fragments and tracking
parameters dropped, the remaining query sorted, a trailing slash dropped
(except the root's). :func:`shown_url` is what a record or a log line may
show: query values with secret-looking names and token-like path segments
redacted.

Include and exclude patterns apply to the URL's path (with its query, when it
has one): a pattern that starts with ``^`` is a regular expression
(``re.search``); anything else is a glob (``*`` any run of characters, ``/``
included; ``?`` one character), so ``/docs/*`` covers every page under /docs.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from kernel.egress.addresses import InvalidUrlError, split_url
from kernel.egress.redaction import REDACTED, redact_path
from webingest.errors import InvalidCrawlError

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING = re.compile(
    r"^(?:utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_ga|_gl|yclid"
    r"|igshid|ref_src|_hsenc|_hsmi|mkt_tok|oly_enc_id|oly_anon_id|vero_id|spm)$",
    re.IGNORECASE,
)
_SECRET_PARAM = re.compile(
    r"(?:^|_|-)(?:sig|signature|token|key|apikey|secret|password|passwd|pwd|auth|code"
    r"|session|sid|credential|jwt|ticket|otp|hash)(?:$|_|-)|^(?:se|sp|sv|sr|skoid|sktid|st)$",
    re.IGNORECASE,
)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
MAX_PATTERNS = 20
MAX_PATTERN_CHARS = 200


def normalize(url: str) -> str:
    """The canonical form of an absolute http(s) URL; InvalidUrlError when it is none."""
    parsed = split_url(url.split("#", 1)[0])
    parts = urlsplit(parsed.url)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    netloc = host if parsed.port == _DEFAULT_PORTS[parsed.scheme] else f"{host}:{parsed.port}"
    path = _remove_dot_segments(_normalize_escapes(parts.path or "/"))
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.match(key)
    ]
    return urlunsplit((parsed.scheme, netloc, path, urlencode(sorted(query)), ""))


def url_key(normalized: str) -> str:
    """A table-safe key for a normalised URL."""
    return hashlib.sha256(normalized.encode()).hexdigest()[:40]


def shown_url(url: str) -> str:
    """``url`` as records and logs show it: credentials and fragment gone,
    secret-looking query values and path tokens redacted."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    query = [
        (key, REDACTED if _SECRET_PARAM.search(key) else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    shown_query = urlencode(query, safe="<>")
    return urlunsplit((parts.scheme, netloc, redact_path(host, parts.path), shown_query, ""))


def _normalize_escapes(path: str) -> str:
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    # Raw characters a path must escape (non-ASCII) are escaped; escapes stay.
    return quote(_ESCAPE.sub(fix, path), safe="/:@!$&'()*+,;=-._~%")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = path.endswith(("/.", "/..")) and not path.endswith("/")
    result = "/" + "/".join(output)
    return result + "/" if trailing and not result.endswith("/") else result


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> Pattern:
        if not isinstance(text, str) or not text or len(text) > MAX_PATTERN_CHARS:
            raise InvalidCrawlError(
                f"patterns must be non-empty strings of at most {MAX_PATTERN_CHARS} characters"
            )
        source = text if text.startswith("^") else fnmatch.translate(text)
        try:
            return cls(text, re.compile(source))
        except re.error as exc:
            raise InvalidCrawlError(f"the pattern {text!r} is not a valid regex: {exc}") from None

    def matches(self, target: str) -> bool:
        if self.text.startswith("^"):
            return self.regex.search(target) is not None
        return self.regex.match(target) is not None


def parse_patterns(value: object, name: str) -> tuple[Pattern, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_PATTERNS:
        raise InvalidCrawlError(f"{name} must be a list of at most {MAX_PATTERNS} patterns")
    return tuple(Pattern.parse(item) for item in value)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which discovered URLs a crawl follows."""

    start: str  # normalised
    same_site: bool = True
    include: tuple[Pattern, ...] = ()
    exclude: tuple[Pattern, ...] = ()

    def verdict(self, normalized: str) -> str | None:
        """None when the crawl follows ``normalized``, else the skip reason
        (``out_of_scope`` or ``excluded``)."""
        parts = urlsplit(normalized)
        if self.same_site and _site(parts.netloc) != _site(urlsplit(self.start).netloc):
            return "out_of_scope"
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if self.include and not any(p.matches(target) for p in self.include):
            return "excluded"
        if any(p.matches(target) for p in self.exclude):
            return "excluded"
        return None


def _site(netloc: str) -> str:
    return netloc.lower().removeprefix("www.")


def absolute_links(base: str, hrefs: Sequence[str]) -> list[str]:
    """The http(s) targets of ``hrefs`` resolved against ``base``, normalised, in
    order, without duplicates; anything unparsable is dropped."""
    found: dict[str, None] = {}
    for href in hrefs:
        try:
            absolute = urljoin(base, href.strip())
            if urlsplit(absolute).scheme not in _DEFAULT_PORTS:
                continue
            found.setdefault(normalize(absolute))
        except (ValueError, InvalidUrlError):
            continue
    return list(found)
