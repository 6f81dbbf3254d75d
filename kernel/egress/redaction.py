"""Keeping URL secrets out of logs, stored records and listings.

Secrets travel in URLs in two places: the query (Logic App SAS signatures,
``?token=`` parameters) and the path (Slack's ``/services/T…/B…/<secret>``,
Discord's ``/api/webhooks/<id>/<token>``, Teams' ``/webhookb2/…``, and the
long random segments many other providers put there). :func:`redact_url`
keeps the scheme, host, port and the path up to the first secret-looking
segment; :func:`redact_text` does the same to every URL inside free text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

REDACTED = "redacted"

#: Paths whose segments after these prefixes are credentials by the provider's design.
_SECRET_AFTER = (
    ("hooks.slack.com", "/services/"),
    ("hooks.slack.com", "/workflows/"),
    ("hooks.slack.com", "/triggers/"),
    ("discord.com", "/api/webhooks/"),
    ("discordapp.com", "/api/webhooks/"),
    ("webhook.office.com", "/webhookb2/"),
    ("outlook.office.com", "/webhook/"),
    ("chat.googleapis.com", "/v1/spaces/"),
)
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+")
#: A segment this long and this varied is treated as a token.
_TOKEN_MIN_CHARS = 16
_TOKEN_MIN_BITS_PER_CHAR = 3.0


def redact_url(url: str) -> str:
    """``url`` with credentials, fragment and query dropped (the query shown as
    ``?redacted``) and the path cut at its first secret-looking segment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _redact_unparsed(url)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    query = REDACTED if parts.query or url.endswith("?") else ""
    return urlunsplit((parts.scheme, netloc, redact_path(host, parts.path), query, ""))


def redact_path(host: str, path: str) -> str:
    """``path`` up to its first secret: after a provider's token prefix, or a
    segment that looks random (long, and mixing many different characters)."""
    host = host.lower()
    for provider, prefix in _SECRET_AFTER:
        if (host == provider or host.endswith("." + provider)) and path.startswith(prefix):
            return prefix + REDACTED
    kept = []
    for segment in path.split("/"):
        if _looks_like_token(segment):
            kept.append(REDACTED)
            break
        kept.append(segment)
    return "/".join(kept)


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted as :func:`redact_url` does."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


def _looks_like_token(segment: str) -> bool:
    if len(segment) < _TOKEN_MIN_CHARS:
        return False
    counts = Counter(segment)
    bits = -sum(n / len(segment) * math.log2(n / len(segment)) for n in counts.values())
    has_digit = any(ch.isdigit() for ch in segment)
    has_letter = any(ch.isalpha() for ch in segment)
    return bits >= _TOKEN_MIN_BITS_PER_CHAR and has_digit and has_letter


def _redact_unparsed(url: str) -> str:
    head, _, _ = url.partition("?")
    scheme, sep, rest = head.partition("://")
    host = rest.split("/", 1)[0].rpartition("@")[2]
    return f"{scheme}{sep}{host}/{REDACTED}"
