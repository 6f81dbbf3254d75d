"""The values search indexes and answers with: chunks, filters, queries, hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

#: Chunk numbers are zero-padded in keys so that keys sort in document order.
_CHUNK_DIGITS = 5


def chunk_id(document_id: str, number: int) -> str:
    """A chunk's key, derived from its document and number: redelivery writes the same rows."""
    return f"{document_id}-{number:0{_CHUNK_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class Chunk:
    """One indexed passage of a document's text and what it is filtered by.

    ``start``/``end`` are offsets into the document's text (the result's
    ``text``), so a hit can be shown in context; ``entity_types`` are the
    document's (every chunk carries them, so filters stay one condition).
    """

    owner: str
    document_id: str
    number: int
    content: str
    start: int
    end: int
    filename: str | None = None
    content_type: str | None = None
    created_at: datetime | None = None
    page: int | None = None
    heading: str | None = None
    entity_types: tuple[str, ...] = ()
    vector: tuple[float, ...] | None = None

    @property
    def id(self) -> str:
        return chunk_id(self.document_id, self.number)


class Mode(StrEnum):
    TEXT = "text"
    VECTOR = "vector"
    HYBRID = "hybrid"


@dataclass(frozen=True, slots=True)
class Filters:
    """Conditions every hit meets; all of them hold at once."""

    content_type: str | None = None
    filename: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    entity_type: str | None = None
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class EngineQuery:
    """What an engine is asked: always one owner's chunks, never anyone else's.

    ``terms`` are analysed words (letters and digits only, lowercase), never
    the user's query syntax; ``vector`` is set for vector and hybrid queries.
    """

    owner: str
    mode: Mode
    terms: tuple[str, ...] = ()
    vector: tuple[float, ...] | None = None
    filters: Filters = field(default_factory=Filters)
    top: int = 10
    skip: int = 0


@dataclass(frozen=True, slots=True)
class EngineHit:
    """A chunk an engine found (its vector left out) and the engine's score."""

    chunk: Chunk
    score: float
