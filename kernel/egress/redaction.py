"""Keeping URL query strings out of logs and stored records.

Logic App trigger URLs carry their SAS signature (``sig=``) in the query,
and subscribers' URLs may carry tokens there too, so every URL that reaches
a log line or a delivery record passes through :func:`redact_url`, and every
free-form error text through :func:`redact_text`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "redacted"

_URL_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]*)\?[^\s#\"'<>]*")


def redact_url(url: str) -> str:
    """``url`` with its query replaced by ``?redacted`` (and credentials and
    fragment dropped)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return redact_text(url.split("?", 1)[0] + ("?" + REDACTED if "?" in url else ""))
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    query = REDACTED if parts.query or url.endswith("?") else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str) -> str:
    """``text`` with the query of every URL in it replaced by ``?redacted``."""
    return _URL_QUERY.sub(lambda m: f"{m.group(1)}?{REDACTED}", text)
