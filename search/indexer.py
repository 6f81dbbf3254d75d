"""Indexing: a processed document's stored result becomes its chunks in the engine.

Triggered by ``document.processing.completed`` (and by reindex jobs). The
text indexed is the result's ``redacted_text`` when PII redaction produced
one (its offsets are the text's), else ``text``. Chunk keys derive from the
document id and chunk number, and a document's chunks are replaced as a
whole, so a redelivered event writes the same rows; a write that fails
part-way takes the document out of the index until the redelivery writes it
whole. The status record says ``indexing`` while the work runs, then
``indexed`` or ``indexing_failed``:
a transient failure (engine, embeddings, storage) is recorded and raised so
Event Grid redelivers; a permanent one (an unreadable result) is recorded
and not retried. ``document.deleted`` removes the chunks and the status.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from kernel.clock import Clock
from kernel.errors import AppError, DependencyError, NotFoundError
from kernel.logcontext import bind
from processing.extraction.result import ProcessingResult
from search.chunking import TextLayout, chunk_spans
from search.documents import DocumentEvent, DocumentSource, StoredDocument
from search.ports import Embedder, SearchEngine
from search.records import Chunk
from search.status import IndexState, IndexStatus, StatusRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Chunking:
    size: int
    overlap: int
    #: Characters of one document embedded at most (later chunks are text only).
    max_embedded_chars: int


class Indexer:
    def __init__(
        self,
        *,
        documents: DocumentSource,
        engine: SearchEngine,
        statuses: StatusRepository,
        chunking: Chunking,
        embedder: Embedder | None,
        clock: Clock,
    ) -> None:
        self._documents = documents
        self._engine = engine
        self._statuses = statuses
        self._chunking = chunking
        self._embedder = embedder
        self._clock = clock

    @property
    def documents(self) -> DocumentSource:
        """Where the documents and their results are read."""
        return self._documents

    def fingerprint(self, pipeline_version: str) -> str:
        """What produced an index entry: a change in any part means reindexing."""
        chunking = self._chunking
        model = (
            f"{self._embedder.model}:{self._embedder.dimensions}:{chunking.max_embedded_chars}"
            if self._embedder
            else "none"
        )
        return f"{pipeline_version}|{chunking.size}/{chunking.overlap}|{model}"

    def on_completed(self, event: DocumentEvent) -> IndexStatus | None:
        bind(document_id=event.document_id)
        try:
            document = self._documents.get(event.document_id, event.data)
        except NotFoundError:
            log.warning("search_index.no_record")
            return None
        return self.index(document)

    def on_deleted(self, event: DocumentEvent) -> int:
        bind(document_id=event.document_id)
        removed = self._engine.delete_document(event.document_id)
        self._statuses.delete(event.document_id)
        log.info("search_index.removed", extra={"chunks": removed})
        return removed

    def index(self, document: StoredDocument, *, force: bool = False) -> IndexStatus:
        """Index ``document`` (unless it already is, with the same fingerprint)."""
        bind(document_id=document.id)
        current = self._statuses.get(document.id)
        started = IndexStatus(document.id, document.owner, IndexState.INDEXING, self._clock())
        try:
            result = self._documents.result(document)
            fingerprint = self.fingerprint(result.pipeline_version)
            if (
                not force
                and current is not None
                and current.state is IndexState.INDEXED
                and current.fingerprint == fingerprint
            ):
                log.info("search_index.unchanged")
                return current
            self._statuses.save(started.replace(fingerprint=fingerprint))
            chunks = self.chunks(document, result)
            self._replace(document.id, chunks)
        except AppError as exc:
            failed = self._statuses.save(
                started.replace(
                    state=IndexState.FAILED,
                    updated_at=self._clock(),
                    error_code=exc.code,
                    error_message=exc.message,
                )
            )
            log.warning(
                "search_index.failed",
                extra={"code": exc.code},
            )
            if isinstance(exc, DependencyError):
                raise
            return failed
        embedded = sum(1 for chunk in chunks if chunk.vector is not None)
        indexed = self._statuses.save(
            started.replace(
                state=IndexState.INDEXED,
                updated_at=self._clock(),
                fingerprint=fingerprint,
                chunks=len(chunks),
                embedded_chunks=embedded,
            )
        )
        log.info(
            "search_index.indexed",
            extra={"chunks": len(chunks), "embedded": embedded},
        )
        return indexed

    def _replace(self, document_id: str, chunks: list[Chunk]) -> None:
        """Write the chunks; if that fails part-way (an engine without transactions
        may have taken some batches), take the document out of the index rather
        than leave a mix of versions visible, until the redelivery writes it whole."""
        try:
            self._engine.replace_document(document_id, chunks)
        except DependencyError:
            try:
                self._engine.delete_document(document_id)
            except DependencyError:
                # The status record (indexing_failed) says what the index may hold.
                log.warning("search_index.cleanup_failed")
            raise

    def chunks(self, document: StoredDocument, result: ProcessingResult) -> list[Chunk]:
        text = result.redacted_text if result.redacted_text is not None else result.text
        layout = TextLayout(
            text,
            pages=[(page.number, page.start, page.end) for page in result.pages],
            headings=sorted((heading.start, heading.text) for heading in result.headings),
        )
        spans = chunk_spans(layout, self._chunking.size, self._chunking.overlap)
        entity_types = tuple(sorted({entity.type for entity in result.entities}))
        vectors = self._vectors([text[span.start : span.end] for span in spans])
        return [
            Chunk(
                owner=document.owner,
                document_id=document.id,
                number=number,
                content=text[span.start : span.end],
                start=span.start,
                end=span.end,
                filename=document.filename or result.document.filename,
                content_type=document.content_type or result.document.content_type,
                created_at=document.created_at,
                page=span.page,
                heading=span.heading,
                entity_types=entity_types,
                vector=vectors[number] if number < len(vectors) else None,
            )
            for number, span in enumerate(spans)
        ]

    def _vectors(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """Vectors for the leading texts within the per-document character cap."""
        if self._embedder is None:
            return []
        budget = self._chunking.max_embedded_chars
        leading = []
        for text in texts:
            budget -= len(text)
            if budget < 0:
                break
            leading.append(text)
        return self._embedder.embed(leading) if leading else []
