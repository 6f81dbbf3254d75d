"""The search capability's composition: its engine, embedder and services on
the shared platform, built once, on first use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from kernel.platform import Platform, platform
from search.documents import DocumentSource
from search.indexer import Chunking, Indexer
from search.ports import Embedder, SearchEngine
from search.reindex import ReindexService
from search.service import SearchService
from search.settings import SearchSettings, search_settings
from search.status import StatusRepository


@dataclass(frozen=True, slots=True)
class Search:
    settings: SearchSettings
    engine: SearchEngine
    embedder: Embedder | None
    indexer: Indexer
    queries: SearchService
    reindex: ReindexService


def create_engine(
    settings: SearchSettings,
    shared: Platform,
    *,
    client_options: Mapping[str, Any] | None = None,
) -> SearchEngine:
    """Azure AI Search when ``SEARCH_ENDPOINT`` is set, else the embedded engine."""
    if settings.endpoint:
        from search.azure_search import AzureSearchEngine

        return AzureSearchEngine(
            settings.endpoint,
            settings.index,
            analyzer=settings.analyzer,
            dimensions=settings.dimensions,
            credential=shared.credential,
            client_options=client_options,
        )
    from search.embedded import EmbeddedSearchEngine

    return EmbeddedSearchEngine(shared.settings.storage.data_dir, dimensions=settings.dimensions)


def create_embedder(
    settings: SearchSettings,
    shared: Platform,
    *,
    client_options: Mapping[str, Any] | None = None,
) -> Embedder | None:
    embeddings = settings.embeddings
    if embeddings is None:
        return None
    from search.openai_embeddings import OpenAIEmbedder

    return OpenAIEmbedder(
        embeddings.endpoint,
        embeddings.model,
        embeddings.dimensions,
        api_key=embeddings.api_key,
        credential=None if embeddings.api_key else shared.credential,
        client_options=client_options,
    )


def build_search(
    settings: SearchSettings,
    shared: Platform,
    *,
    engine: SearchEngine | None = None,
    embedder: Embedder | None = None,
) -> Search:
    engine = engine or create_engine(settings, shared)
    if embedder is None:
        embedder = create_embedder(settings, shared)
    stores = shared.stores
    statuses = StatusRepository(stores.tables, settings.status_table)
    documents = DocumentSource(
        stores.tables,
        stores.blobs,
        table=settings.documents_table,
        results_container=settings.results_container,
    )
    indexer = Indexer(
        documents=documents,
        engine=engine,
        statuses=statuses,
        chunking=Chunking(
            settings.chunk_chars,
            settings.chunk_overlap_chars,
            settings.embeddings_max_chars_per_document,
        ),
        embedder=embedder,
        clock=shared.clock,
    )
    return Search(
        settings=settings,
        engine=engine,
        embedder=embedder,
        indexer=indexer,
        queries=SearchService(engine=engine, embedder=embedder, statuses=statuses),
        reindex=ReindexService(
            tables=stores.tables,
            table=settings.status_table,
            queues=stores.queues,
            queue=settings.reindex_queue,
            documents=documents,
            indexer=indexer,
            clock=shared.clock,
        ),
    )


@cache
def search() -> Search:
    """The process-wide search services, built from the environment on first use."""
    return build_search(search_settings(), platform())
