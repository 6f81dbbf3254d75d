"""File names as callers give them, made safe to store and show.

A name is only ever displayed and returned, never used for a path or a blob
name, but it is shown to people: characters that make one name look like
another (bidirectional overrides turning ``invoice<U+202E>fdp.exe`` into
``invoiceexe.pdf``, invisible zero-width characters, line and paragraph
separators) are removed, and names Windows reserves for devices get a prefix
so a downloaded copy can be saved.
"""

from __future__ import annotations

import re
import unicodedata

_MAX_FILENAME_CHARS = 200
#: Path separators, C0/C1 controls, characters Windows forbids in names.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|]+")
#: Bidirectional embeddings, overrides and isolates; zero-width characters and
#: the BOM; line and paragraph separators (NEL is U+0085, in the C1 range above).
_DECEPTIVE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u2028\u2029]")
_WINDOWS_DEVICE = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?$", re.IGNORECASE)


def sanitize_filename(raw: str | None) -> str | None:
    """A display-safe file name: Unicode NFC, no path, no control, reserved or
    deceptive characters, no bare Windows device name, at most 200 characters
    (extension kept). ``None`` if nothing is left."""
    if not raw:
        return None
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _DECEPTIVE.sub("", name)
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        return None
    if _WINDOWS_DEVICE.match(name):
        name = "_" + name
    if len(name) > _MAX_FILENAME_CHARS:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name[: _MAX_FILENAME_CHARS - len(keep) - 1].rstrip(" .") + (
            "." + keep if keep else ""
        )
    return name
