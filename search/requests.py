"""Search requests as the API takes them: query parameters or a JSON body,
checked into typed values (every refusal a coded 400)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from search.errors import QueryError
from search.records import Filters, Mode
from search.text import query_terms

DEFAULT_TOP = 10
MAX_TOP = 50
#: The deepest page reachable with ``skip`` (Azure AI Search allows 100,000).
MAX_SKIP = 1_000
MAX_VECTOR_DIMENSIONS = 4_096
MAX_TEXT_CHARS = 8_000
_MAX_FILTER_CHARS = 255
#: What a document id looks like (24 hex digits); anything else names no document.
DOCUMENT_ID = re.compile(r"^[0-9a-f]{24}$")
_ENTITY_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
FILTER_NAMES = (
    "content_type",
    "filename",
    "created_after",
    "created_before",
    "entity_type",
    "document_id",
)


@dataclass(frozen=True, slots=True)
class Paging:
    top: int = DEFAULT_TOP
    skip: int = 0


@dataclass(frozen=True, slots=True)
class TextSearch:
    """``GET /api/search``: words, a mode (None: the default for the configuration)."""

    terms: tuple[str, ...]
    mode: Mode | None
    filters: Filters = field(default_factory=Filters)
    paging: Paging = field(default_factory=Paging)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> TextSearch:
        raw_mode = params.get("mode")
        mode = None
        if raw_mode:
            try:
                mode = Mode(raw_mode)
            except ValueError:
                raise QueryError("invalid_mode", "mode must be text, vector or hybrid") from None
        return cls(
            terms=query_terms(params.get("q")),
            mode=mode,
            filters=filters_from(params),
            paging=paging_from(params),
        )


@dataclass(frozen=True, slots=True)
class VectorSearch:
    """``POST /api/search/vector``: a text to embed or a vector."""

    text: str | None
    vector: tuple[float, ...] | None
    filters: Filters = field(default_factory=Filters)
    paging: Paging = field(default_factory=Paging)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> VectorSearch:
        text, vector = body.get("text"), body.get("vector")
        if (text is None) == (vector is None):
            raise QueryError("invalid_query", 'give exactly one of "text" and "vector"')
        if text is not None:
            if not isinstance(text, str) or not text.strip():
                raise QueryError("empty_query", '"text" must be a non-empty string')
            if len(text) > MAX_TEXT_CHARS:
                raise QueryError("query_too_long", f'"text" is limited to {MAX_TEXT_CHARS} chars')
            return cls(text, None, filters_from(body), paging_from(body))
        if (
            not isinstance(vector, list)
            or not 1 <= len(vector) <= MAX_VECTOR_DIMENSIONS
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector)
        ):
            raise QueryError(
                "invalid_vector",
                f'"vector" must be a list of 1 to {MAX_VECTOR_DIMENSIONS} numbers',
            )
        values = tuple(float(x) for x in vector)
        if not all(math.isfinite(x) for x in values):
            raise QueryError("invalid_vector", '"vector" must hold finite numbers')
        return cls(None, values, filters_from(body), paging_from(body))


def paging_from(source: Mapping[str, Any]) -> Paging:
    return Paging(
        top=_bounded(source.get("top"), "top", DEFAULT_TOP, 1, MAX_TOP),
        skip=_bounded(source.get("skip"), "skip", 0, 0, MAX_SKIP),
    )


def _bounded(raw: Any, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise QueryError(f"invalid_{name}", f"{name} must be a whole number")
    try:
        value = int(raw) if isinstance(raw, int | str) else None
    except ValueError:
        value = None
    if value is None:
        raise QueryError(f"invalid_{name}", f"{name} must be a whole number")
    if not low <= value <= high:
        raise QueryError(f"invalid_{name}", f"{name} must be between {low} and {high}")
    return value


def filters_from(source: Mapping[str, Any]) -> Filters:
    """The filters of a request; ``invalid_filter`` for any malformed one."""
    values: dict[str, Any] = {}
    for name in ("content_type", "filename", "entity_type", "document_id"):
        raw = source.get(name)
        if raw is None or raw == "":
            continue
        if not isinstance(raw, str) or len(raw) > _MAX_FILTER_CHARS:
            raise QueryError("invalid_filter", f"{name} must be a string of at most 255 chars")
        values[name] = raw
    if "document_id" in values and not DOCUMENT_ID.match(values["document_id"]):
        raise QueryError("invalid_filter", "document_id must be a document id (24 hex digits)")
    if "entity_type" in values and not _ENTITY_TYPE.match(values["entity_type"]):
        raise QueryError("invalid_filter", "entity_type must be an entity type such as email")
    for name in ("created_after", "created_before"):
        raw = source.get(name)
        if raw is None or raw == "":
            continue
        values[name] = _timestamp(raw, name)
    after, before = values.get("created_after"), values.get("created_before")
    if after is not None and before is not None and after >= before:
        raise QueryError("invalid_filter", "created_after must be earlier than created_before")
    return Filters(**values)


def _timestamp(raw: Any, name: str) -> datetime:
    if isinstance(raw, str) and len(raw) <= 40:
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    raise QueryError("invalid_filter", f"{name} must be an ISO 8601 date or timestamp")
