"""File names as callers give them, made safe to store and show."""

from __future__ import annotations

import re
import unicodedata

_MAX_FILENAME_CHARS = 200
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def sanitize_filename(raw: str | None) -> str | None:
    """A display-safe file name: Unicode NFC, no path, no control or reserved
    characters, at most 200 characters (extension kept). ``None`` if nothing is left."""
    if not raw:
        return None
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    if not name:
        return None
    if len(name) > _MAX_FILENAME_CHARS:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name[: _MAX_FILENAME_CHARS - len(keep) - 1].rstrip(" .") + (
            "." + keep if keep else ""
        )
    return name
