"""Decoding JSON request bodies into the plain values routes validate."""

from __future__ import annotations

import json
from typing import Any

from kernel.errors import RequestError


def json_object(body: bytes, *, example: str) -> dict[str, Any]:
    """The body as a JSON object; RequestError (400) naming ``example`` otherwise."""
    try:
        document: Any = json.loads(body or b"null")
    except ValueError:
        raise RequestError("the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise RequestError(f"the body must be a JSON object such as {example}")
    return document
