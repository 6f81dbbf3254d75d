"""The Azure AI Search engine, through ``azure-search-documents`` (imported on first use).

The index (``SEARCH_INDEX``) is created or updated idempotently: the key
``id`` (document id and chunk number), ``content`` searchable with the
configured language analyzer, ``owner``, ``document_id``, ``content_type``,
``filename``, ``created_at`` and ``entity_types`` filterable, ``number``,
``page``, ``heading`` and the offsets retrievable, and, when embeddings are
configured, ``embedding`` (HNSW, cosine, the configured dimensions) plus a
semantic configuration over ``content``. Updates only ever add fields, as
the service allows.

Chunks are written with ``upload`` actions (a chunk is replaced whole) in
batches of at most 1,000 actions and about 8 MB; a 207 with failed items is
an error, so Event Grid redelivers and the same keys are written again.
Every query carries the owner filter (:func:`search.odata.owner_filter`);
vector queries filter before ranking (``preFilter``). Throttling (429/503
with ``Retry-After``) is retried by azure-core's retry policy; what still
fails raises :class:`~search.errors.SearchUnavailableError`.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from search.errors import SearchUnavailableError
from search.odata import equals, owner_filter
from search.records import Chunk, EngineHit, EngineQuery, Mode

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

log = logging.getLogger(__name__)

MAX_BATCH_ACTIONS = 1000
MAX_BATCH_BYTES = 8 * 1024 * 1024
#: Each ranking fused in a hybrid query is at least this deep (the vector query's k).
HYBRID_DEPTH = 50
VECTOR_FIELD = "embedding"
VECTOR_PROFILE = "hnsw-cosine"
SEMANTIC_CONFIGURATION = "default"
_RETRIEVED = (
    "id",
    "owner",
    "document_id",
    "number",
    "content",
    "start",
    "stop",
    "filename",
    "content_type",
    "created_at",
    "page",
    "heading",
    "entity_types",
)


class AzureSearchEngine:
    """The :class:`~search.ports.SearchEngine` port over an Azure AI Search index."""

    def __init__(
        self,
        endpoint: str,
        index: str,
        *,
        analyzer: str = "en.microsoft",
        dimensions: int | None = None,
        credential: Callable[[], TokenCredential] | None = None,
        api_key: str | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        if credential is None and api_key is None:
            raise ValueError("a credential or an API key is needed")
        self._endpoint = endpoint
        self._index = index
        self._analyzer = analyzer
        self._dimensions = dimensions
        self._credential = credential
        self._api_key = api_key
        self._options = dict(client_options or {})
        self._lock = threading.Lock()
        self._clients: tuple[Any, Any] | None = None
        self._ready = False

    def _connect(self) -> tuple[Any, Any]:
        with self._lock:
            if self._clients is None:
                from azure.search.documents import SearchClient
                from azure.search.documents.indexes import SearchIndexClient

                credential: Any
                if self._api_key is not None:
                    from azure.core.credentials import AzureKeyCredential

                    credential = AzureKeyCredential(self._api_key)
                else:
                    assert self._credential is not None
                    credential = self._credential()
                self._clients = (
                    SearchIndexClient(self._endpoint, credential, **self._options),
                    SearchClient(self._endpoint, self._index, credential, **self._options),
                )
            return self._clients

    # -- the index schema

    def index_definition(self) -> Any:
        from azure.search.documents.indexes.models import (
            HnswAlgorithmConfiguration,
            HnswParameters,
            SearchableField,
            SearchField,
            SearchFieldDataType,
            SearchIndex,
            SemanticConfiguration,
            SemanticField,
            SemanticPrioritizedFields,
            SemanticSearch,
            SimpleField,
            VectorSearch,
            VectorSearchProfile,
        )

        text, number = SearchFieldDataType.STRING, SearchFieldDataType.INT32
        fields = [
            SimpleField(name="id", type=text, key=True, filterable=True),
            SimpleField(name="owner", type=text, filterable=True),
            SimpleField(name="document_id", type=text, filterable=True),
            SimpleField(name="number", type=number, filterable=True, sortable=True),
            SearchableField(name="content", analyzer_name=self._analyzer),
            SimpleField(name="start", type=number),
            SimpleField(name="stop", type=number),
            SimpleField(name="filename", type=text, filterable=True),
            SimpleField(name="content_type", type=text, filterable=True),
            SimpleField(
                name="created_at",
                type=SearchFieldDataType.DATE_TIME_OFFSET,
                filterable=True,
                sortable=True,
            ),
            SimpleField(name="page", type=number, filterable=True),
            SimpleField(name="heading", type=text),
            SimpleField(name="entity_types", type="Collection(Edm.String)", filterable=True),
        ]
        vector_search = None
        if self._dimensions is not None:
            fields.append(
                SearchField(
                    name=VECTOR_FIELD,
                    type="Collection(Edm.Single)",
                    searchable=True,
                    vector_search_dimensions=self._dimensions,
                    vector_search_profile_name=VECTOR_PROFILE,
                )
            )
            vector_search = VectorSearch(
                algorithms=[
                    HnswAlgorithmConfiguration(
                        name="hnsw", parameters=HnswParameters(metric="cosine")
                    )
                ],
                profiles=[
                    VectorSearchProfile(name=VECTOR_PROFILE, algorithm_configuration_name="hnsw")
                ],
            )
        semantic = SemanticSearch(
            configurations=[
                SemanticConfiguration(
                    name=SEMANTIC_CONFIGURATION,
                    prioritized_fields=SemanticPrioritizedFields(
                        content_fields=[SemanticField(field_name="content")]
                    ),
                )
            ]
        )
        return SearchIndex(
            name=self._index,
            fields=fields,
            vector_search=vector_search,
            semantic_search=semantic,
        )

    def ensure_ready(self) -> None:
        index_client, _ = self._connect()
        with _service_errors("create_or_update_index"):
            index_client.create_or_update_index(self.index_definition())
        self._ready = True

    def _ensure(self) -> Any:
        if not self._ready:
            self.ensure_ready()
        return self._connect()[1]

    # -- writes

    def replace_document(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        client = self._ensure()
        documents = [self._document(chunk) for chunk in chunks]
        for batch in _batches(documents):
            with _service_errors("upload_documents"):
                results = client.upload_documents(documents=batch)
            _check(results, "upload")
        stale = self._keys(
            client, f"{equals('document_id', document_id)} and number ge {len(chunks)}"
        )
        self._delete(client, stale)

    def delete_document(self, document_id: str) -> int:
        client = self._ensure()
        keys = self._keys(client, equals("document_id", document_id))
        self._delete(client, keys)
        return len(keys)

    def _delete(self, client: Any, keys: list[str]) -> None:
        for start in range(0, len(keys), MAX_BATCH_ACTIONS):
            batch = [{"id": key} for key in keys[start : start + MAX_BATCH_ACTIONS]]
            with _service_errors("delete_documents"):
                results = client.delete_documents(documents=batch)
            _check(results, "delete")

    def _keys(self, client: Any, condition: str) -> list[str]:
        with _service_errors("search"):
            found = client.search(search_text="*", filter=condition, select=["id"], top=100_000)
            return [str(item["id"]) for item in found]

    def _document(self, chunk: Chunk) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": chunk.id,
            "owner": chunk.owner,
            "document_id": chunk.document_id,
            "number": chunk.number,
            "content": chunk.content,
            "start": chunk.start,
            "stop": chunk.end,
            "filename": chunk.filename,
            "content_type": chunk.content_type,
            "created_at": chunk.created_at.isoformat() if chunk.created_at else None,
            "page": chunk.page,
            "heading": chunk.heading,
            "entity_types": list(chunk.entity_types),
        }
        if self._dimensions is not None:
            document[VECTOR_FIELD] = list(chunk.vector) if chunk.vector is not None else None
        return document

    # -- reads

    def count(self, owner: str) -> int:
        client = self._ensure()
        with _service_errors("search"):
            found = client.search(
                search_text="*", filter=equals("owner", owner), include_total_count=True, top=0
            )
            return int(found.get_count() or 0)

    def search(self, query: EngineQuery) -> list[EngineHit]:
        from azure.search.documents.models import VectorizedQuery

        client = self._ensure()
        arguments: dict[str, Any] = {
            "filter": owner_filter(query.owner, query.filters),
            "select": list(_RETRIEVED),
            "top": query.top,
            "skip": query.skip,
        }
        if query.mode is not Mode.VECTOR:
            arguments.update(
                search_text=" ".join(query.terms),
                search_fields=["content"],
                search_mode="any",
                query_type="simple",
            )
        if query.mode is not Mode.TEXT:
            if query.vector is None or self._dimensions is None:
                raise ValueError("a vector query needs a vector and an index with vectors")
            depth = query.skip + query.top
            if query.mode is Mode.HYBRID:
                depth = max(HYBRID_DEPTH, depth)
            arguments.update(
                vector_queries=[
                    VectorizedQuery(
                        vector=list(query.vector), k_nearest_neighbors=depth, fields=VECTOR_FIELD
                    )
                ],
                vector_filter_mode="preFilter",
            )
        with _service_errors("search"):
            found = client.search(**arguments)
            items = list(itertools.islice(found, query.top))
        return [EngineHit(_chunk(item), float(item["@search.score"])) for item in items]


def _chunk(item: Mapping[str, Any]) -> Chunk:
    created = item.get("created_at")
    return Chunk(
        owner=str(item["owner"]),
        document_id=str(item["document_id"]),
        number=int(item["number"]),
        content=str(item.get("content") or ""),
        start=int(item.get("start") or 0),
        end=int(item.get("stop") or 0),
        filename=item.get("filename"),
        content_type=item.get("content_type"),
        created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None,
        page=item.get("page"),
        heading=item.get("heading"),
        entity_types=tuple(item.get("entity_types") or ()),
    )


def _batches(documents: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Batches within the service's limits on actions and (approximately) bytes."""
    batch: list[dict[str, Any]] = []
    size = 0
    for document in documents:
        weight = len(json.dumps(document))
        if batch and (len(batch) >= MAX_BATCH_ACTIONS or size + weight > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(document)
        size += weight
    if batch:
        yield batch


def _check(results: Sequence[Any], action: str) -> None:
    failed = [result for result in results if not result.succeeded]
    if failed:
        statuses = sorted({int(result.status_code) for result in failed})
        log.warning(
            "search_index.batch_failed",
            extra={"action": action, "failed": len(failed), "statuses": statuses},
        )
        raise SearchUnavailableError(
            f"{len(failed)} of {len(results)} {action} actions failed (HTTP {statuses})"
        )


@contextmanager
def _service_errors(operation: str) -> Iterator[None]:
    """Turn azure-core's errors into SearchUnavailableError, logging the status."""
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        yield
    except AzureError as error:
        status = error.status_code if isinstance(error, HttpResponseError) else None
        log.warning(
            "search_service.failed",
            extra={"operation": operation, "status": status, "error_type": type(error).__name__},
        )
        detail = f"HTTP {status}" if status else type(error).__name__
        raise SearchUnavailableError(f"Azure AI Search {operation} failed ({detail})") from error
