"""The console's static files: a fixed allow-list, read once, with their ETags.

A request names an asset; only names in :data:`ASSETS` are served, so no part
of a request ever becomes a path on disk.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"

#: Everything the page loads: asset name -> media type. The page itself is ``index.html``.
ASSETS: dict[str, str] = {
    "index.html": "text/html",
    "console.css": "text/css",
    "app.js": "text/javascript",
    "api.js": "text/javascript",
    "dom.js": "text/javascript",
    "signin.js": "text/javascript",
    "upload.js": "text/javascript",
    "documents.js": "text/javascript",
    "viewer.js": "text/javascript",
    "search.js": "text/javascript",
    "webhooks.js": "text/javascript",
}

PAGE = "index.html"

#: No inline script or style, nothing from elsewhere, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    media_type: str
    body: bytes
    etag: str

    def headers(self) -> dict[str, str]:
        """Security and caching headers: the browser revalidates with the ETag."""
        return {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
            "ETag": self.etag,
        }

    def matches(self, if_none_match: str | None) -> bool:
        """True when the browser's copy (``If-None-Match``) is this version."""
        if not if_none_match:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


@functools.cache
def asset(name: str) -> Asset | None:
    """The allow-listed asset called ``name``, or None for any other name."""
    media_type = ASSETS.get(name)
    if media_type is None:
        return None
    body = (STATIC / name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Asset(name, media_type, body, etag)
