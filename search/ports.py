"""The ports of search: an engine that stores and ranks chunks, and an embedder.

Each engine (:mod:`search.embedded`, :mod:`search.azure_search`) passes the
same contract tests (``tests/functional/test_search_engine_contract.py``).
Engines raise :class:`~search.errors.SearchUnavailableError` for their
service's failures, never SDK exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from search.records import Chunk, EngineHit, EngineQuery

#: Reciprocal rank fusion's constant, as Azure AI Search uses it: each ranking
#: adds ``1 / (60 + rank)`` (rank from 1) to a chunk's fused score.
RRF_K = 60


class SearchEngine(Protocol):
    """Chunks of documents, each keyed by document id and chunk number."""

    def ensure_ready(self) -> None:
        """Create or update the index schema (idempotent)."""
        ...

    def replace_document(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        """Make ``chunks`` the document's chunks: upsert them by key and remove
        any chunk of the document beyond them (from an earlier, longer version)."""
        ...

    def delete_document(self, document_id: str) -> int:
        """Remove every chunk of the document; returns how many there were."""
        ...

    def search(self, query: EngineQuery) -> list[EngineHit]:
        """At most ``query.top`` hits after ``query.skip``, best first, of
        ``query.owner``'s chunks that meet the filters."""
        ...

    def count(self, owner: str) -> int:
        """How many chunks the owner has indexed."""
        ...


class Embedder(Protocol):
    """Turns texts into vectors of a fixed size with one model."""

    @property
    def model(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """One vector per text, in order; EmbeddingsUnavailableError when it fails."""
        ...


def fuse(rankings: Sequence[Sequence[str]]) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of rankings of keys, best fused score first
    (ties by key, so the order is stable)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
