"""Queries: the caller's words or vector in, ranked hits with snippets out.

Modes: ``text`` (BM25), ``vector`` (cosine k-NN over embedded chunks) and
``hybrid`` (both, fused by reciprocal rank fusion with k = 60,
:data:`search.ports.RRF_K`). Without an embeddings provider the default mode
is ``text``, ``hybrid`` falls back to ``text`` (the answer's ``mode`` says so)
and ``vector`` is a 501 ``embeddings_not_configured``. Every query names the
caller's owner to the engine, which filters by it before ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from search.errors import EmbeddingsNotConfiguredError, QueryError
from search.ports import Embedder, SearchEngine
from search.records import EngineHit, EngineQuery, Filters, Mode
from search.requests import DOCUMENT_ID, Paging, TextSearch, VectorSearch
from search.status import IndexStatus, StatusRepository
from search.text import snippet


@dataclass(frozen=True, slots=True)
class Answer:
    """A page of hits; ``next_skip`` is where the next page starts (None: no more)."""

    mode: Mode
    items: list[dict[str, Any]]
    next_skip: int | None


class SearchService:
    def __init__(
        self,
        *,
        engine: SearchEngine,
        embedder: Embedder | None,
        statuses: StatusRepository,
    ) -> None:
        self._engine = engine
        self._embedder = embedder
        self._statuses = statuses

    @property
    def default_mode(self) -> Mode:
        return Mode.HYBRID if self._embedder is not None else Mode.TEXT

    def search(self, owner: str, request: TextSearch) -> Answer:
        mode = request.mode or self.default_mode
        if mode is Mode.HYBRID and self._embedder is None:
            mode = Mode.TEXT
        vector = None
        if mode is not Mode.TEXT:
            vector = self._embed(" ".join(request.terms))
        return self._run(
            owner,
            mode=mode,
            terms=request.terms,
            vector=vector,
            filters=request.filters,
            paging=request.paging,
        )

    def search_vector(self, owner: str, request: VectorSearch) -> Answer:
        if request.vector is not None:
            embedder = self._require_embedder()
            if len(request.vector) != embedder.dimensions:
                raise QueryError(
                    "invalid_vector", f'"vector" must have {embedder.dimensions} dimensions'
                )
            vector = request.vector
        else:
            assert request.text is not None
            vector = self._embed(request.text)
        return self._run(
            owner,
            mode=Mode.VECTOR,
            terms=(),
            vector=vector,
            filters=request.filters,
            paging=request.paging,
        )

    def status(self, owner: str, document_id: str) -> IndexStatus | None:
        """The document's index status, if it is the owner's and was ever indexed."""
        if not DOCUMENT_ID.match(document_id):
            return None
        status = self._statuses.get(document_id)
        return status if status is not None and status.owner == owner else None

    def _require_embedder(self) -> Embedder:
        if self._embedder is None:
            raise EmbeddingsNotConfiguredError(
                "vector search needs an embeddings provider (EMBEDDINGS_ENDPOINT)"
            )
        return self._embedder

    def _embed(self, text: str) -> tuple[float, ...]:
        return self._require_embedder().embed([text])[0]

    def _run(
        self,
        owner: str,
        *,
        mode: Mode,
        terms: tuple[str, ...],
        vector: tuple[float, ...] | None,
        filters: Filters,
        paging: Paging,
    ) -> Answer:
        # One more than asked for tells whether a next page exists.
        hits = self._engine.search(
            EngineQuery(
                owner=owner,
                mode=mode,
                terms=terms,
                vector=vector,
                filters=filters,
                top=paging.top + 1,
                skip=paging.skip,
            )
        )
        more = len(hits) > paging.top
        items = [render(hit, terms) for hit in hits[: paging.top] if hit.chunk.owner == owner]
        return Answer(mode, items, paging.skip + paging.top if more else None)


def render(hit: EngineHit, terms: tuple[str, ...]) -> dict[str, Any]:
    chunk = hit.chunk
    passage = snippet(chunk.content, terms)
    start = chunk.start + passage.offset
    return {
        "document_id": chunk.document_id,
        "filename": chunk.filename,
        "content_type": chunk.content_type,
        "page": chunk.page,
        "heading": chunk.heading,
        "chunk": chunk.number,
        "snippet": passage.text,
        "highlights": [{"start": s, "end": e} for s, e in passage.highlights],
        "text_span": {"start": start, "end": start + len(passage.text)},
        "score": hit.score,
        "links": {
            "document": f"/api/documents/{chunk.document_id}",
            "result": f"/api/documents/{chunk.document_id}/result",
        },
    }
