"""The in-memory service behind the Azure AI Search stand-in: index
definitions, documents and queries, independent of HTTP.

Every operation takes and returns the JSON bodies of the REST contract and
raises ``SearchError`` for the error responses; ``tools.standins.search``
serves them. Not thread-safe on its own: the server holds one lock around
every call.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tools.standins.search_odata import (
    BOOLEAN,
    DATETIME,
    DOUBLE,
    INT32,
    INT64,
    STRING,
    STRING_COLLECTION,
    Condition,
    ODataError,
    OrderKey,
    parse_filter,
    parse_orderby,
)
from tools.standins.search_text import (
    AnalyzedField,
    SimpleQuery,
    analyze,
    corpus_stats,
    highlight,
    parse_query,
)

VECTOR = "Collection(Edm.Single)"
FIELD_TYPES = frozenset(
    {STRING, INT32, INT64, DOUBLE, BOOLEAN, DATETIME, STRING_COLLECTION, VECTOR}
)
METRICS = frozenset({"cosine", "euclidean", "dotProduct"})

# Documented limits (learn.microsoft.com, "Service limits in Azure AI Search").
MAX_BATCH_ACTIONS = 1000  # "Supported maximum 1,000 documents per batch"
MAX_VECTOR_FIELDS = 10  # "Maximum 10 fields in a vector query"
MAX_ORDERBY_CLAUSES = 32  # "Maximum 32 fields in $orderby clause"
MAX_PAGE = 1000  # "the maximum page size is 1,000"
DEFAULT_TOP = 50  # "By default, the search engine returns up to the first 50 matches"
MAX_SKIP = 100_000  # REST reference: skip "cannot be greater than 100,000"
# RRF constant (learn.microsoft.com, "Hybrid search scoring (RRF)").
RRF_K = 60
# HNSW parameters the service fills in when omitted (efConstruction 400 is
# documented in "Relevance in vector search"; m 4 and efSearch 500 are the
# Create Index reference's defaults).
HNSW_DEFAULTS: Mapping[str, Any] = {"m": 4, "efConstruction": 400, "efSearch": 500}

_INDEX_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,127}$")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
_DOC_KEY = re.compile(r"^[A-Za-z0-9_\-=]+$")
_INT32_RANGE = range(-(2**31), 2**31)
_INT64_RANGE = range(-(2**63), 2**63)


class SearchError(Exception):
    """An error response: status plus the service's ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        details: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.details = list(details)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def _invalid(detail: str) -> SearchError:
    # The service prefixes body validation failures this way ("The request is
    # invalid. Details: definition : ..." in its 400 responses).
    return SearchError(400, f"The request is invalid. Details: {detail}")


def _expression_error(parameter: str, exc: ODataError) -> SearchError:
    return SearchError(400, f"Invalid expression: {exc}\r\nParameter name: {parameter}")


# -- index definitions --------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of an index with the service's defaults applied."""

    name: str
    type: str
    key: bool
    searchable: bool
    filterable: bool
    sortable: bool
    facetable: bool
    retrievable: bool
    analyzer: str | None
    dimensions: int | None
    profile: str | None

    @property
    def is_vector(self) -> bool:
        return self.type == VECTOR

    @property
    def is_text(self) -> bool:
        return self.type in (STRING, STRING_COLLECTION)

    def fixed(self) -> tuple[object, ...]:
        """The attributes an index update may not change (retrievable may)."""
        return (
            self.type,
            self.key,
            self.searchable,
            self.filterable,
            self.sortable,
            self.facetable,
            self.analyzer,
            self.dimensions,
            self.profile,
        )


def _flag(spec: Mapping[str, Any], name: str, default: bool) -> bool:
    value = spec.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _invalid(f"definition : '{name}' of field '{spec.get('name')}' must be a boolean.")
    return value


def _parse_field(spec: Any) -> Field:
    if not isinstance(spec, dict):
        raise _invalid("definition : Each field must be a JSON object.")
    name = spec.get("name")
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
        raise _invalid(f"definition : Invalid field name '{name}'.")
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        raise _invalid(f"definition : Field '{name}' has an unsupported type '{kind}'.")
    vector = kind == VECTOR
    text = kind in (STRING, STRING_COLLECTION)
    collection = kind.startswith("Collection(")
    hidden = spec.get("hidden")
    # Create Index: string fields are searchable, and simple fields filterable,
    # sortable and facetable, unless told otherwise; "hidden" is the older
    # inverse of "retrievable".
    field = Field(
        name=name,
        type=kind,
        key=_flag(spec, "key", False),
        searchable=_flag(spec, "searchable", text or vector),
        filterable=_flag(spec, "filterable", not vector),
        sortable=_flag(spec, "sortable", not collection),
        facetable=_flag(spec, "facetable", not vector),
        retrievable=_flag(spec, "retrievable", not hidden if isinstance(hidden, bool) else True),
        analyzer=spec.get("analyzer"),
        dimensions=spec.get("dimensions"),
        profile=spec.get("vectorSearchProfile"),
    )
    if field.searchable and not (text or vector):
        raise _invalid(f"definition : Field '{name}' of type '{kind}' cannot be searchable.")
    if field.sortable and collection:
        raise _invalid(f"definition : Collection field '{name}' cannot be sortable.")
    if field.analyzer is not None and not (text and field.searchable):
        raise _invalid(f"definition : Field '{name}' has an analyzer but is not searchable text.")
    if vector:
        if not field.searchable or field.filterable or field.sortable or field.facetable:
            raise _invalid(
                f"definition : Vector field '{name}' must be searchable and cannot be "
                "filterable, sortable or facetable."
            )
        if not isinstance(field.dimensions, int) or isinstance(field.dimensions, bool):
            raise _invalid(f"definition : Vector field '{name}' needs 'dimensions'.")
        if field.dimensions < 1:
            raise _invalid(f"definition : Vector field '{name}' needs positive 'dimensions'.")
        if not isinstance(field.profile, str):
            raise _invalid(f"definition : Vector field '{name}' needs 'vectorSearchProfile'.")
    elif field.dimensions is not None or field.profile is not None:
        raise _invalid(
            f"definition : Only Collection(Edm.Single) fields take 'dimensions' and "
            f"'vectorSearchProfile'; '{name}' is '{kind}'."
        )
    return field


def _field_json(spec: Mapping[str, Any], field: Field) -> dict[str, Any]:
    shown = {key: value for key, value in spec.items() if key != "hidden"}
    shown.update(
        name=field.name,
        type=field.type,
        key=field.key,
        searchable=field.searchable,
        filterable=field.filterable,
        sortable=field.sortable,
        facetable=field.facetable,
        retrievable=field.retrievable,
        stored=spec.get("stored", True),
        analyzer=field.analyzer,
        dimensions=field.dimensions,
        vectorSearchProfile=field.profile,
        synonymMaps=spec.get("synonymMaps") or [],
    )
    return shown


def _vector_metrics(definition: dict[str, Any], fields: Iterable[Field]) -> dict[str, str]:
    """Validate ``vectorSearch`` and return each vector field's metric."""
    config = definition.get("vectorSearch") or {}
    algorithms: dict[str, str] = {}
    for algorithm in config.get("algorithms") or []:
        kind = algorithm.get("kind")
        if kind == "hnsw":
            parameters = {**HNSW_DEFAULTS, "metric": "cosine"}
            parameters.update(algorithm.get("hnswParameters") or {})
            algorithm["hnswParameters"] = parameters
        elif kind == "exhaustiveKnn":
            parameters = {"metric": "cosine", **(algorithm.get("exhaustiveKnnParameters") or {})}
            algorithm["exhaustiveKnnParameters"] = parameters
        else:
            raise _invalid(f"definition : Unsupported vector search algorithm kind '{kind}'.")
        if parameters["metric"] not in METRICS:
            raise _invalid(
                f"definition : Unsupported metric '{parameters['metric']}' in algorithm "
                f"'{algorithm.get('name')}'."
            )
        algorithms[str(algorithm.get("name"))] = str(parameters["metric"])
    profiles: dict[str, str] = {}
    for profile in config.get("profiles") or []:
        algorithm_name = profile.get("algorithm")
        if algorithm_name not in algorithms:
            raise _invalid(
                f"definition : Vector profile '{profile.get('name')}' names an unknown "
                f"algorithm '{algorithm_name}'."
            )
        profiles[str(profile.get("name"))] = algorithms[algorithm_name]
    metrics: dict[str, str] = {}
    for vector in (f for f in fields if f.is_vector):
        if vector.profile not in profiles:
            raise _invalid(
                f"definition : Vector field '{vector.name}' names an unknown vector "
                f"search profile '{vector.profile}'."
            )
        metrics[vector.name] = profiles[str(vector.profile)]
    return metrics


def _check_semantic(definition: Mapping[str, Any], fields: Mapping[str, Field]) -> None:
    # Semantic ranking is not run; configurations are checked and stored.
    for config in (definition.get("semantic") or {}).get("configurations") or []:
        prioritized = config.get("prioritizedFields") or {}
        named = [prioritized.get("titleField") or {}]
        named += prioritized.get("prioritizedContentFields") or []
        named += prioritized.get("prioritizedKeywordsFields") or []
        for entry in named:
            name = entry.get("fieldName")
            if name is not None and (name not in fields or not fields[name].is_text):
                raise _invalid(
                    f"definition : Semantic configuration '{config.get('name')}' names "
                    f"'{name}', which is not a text field of the index."
                )


# -- documents ----------------------------------------------------------------


@dataclass
class _Document:
    values: dict[str, Any]
    analyzed: dict[str, AnalyzedField]


def _normalize_datetime(raw: str) -> str:
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise _invalid(f"Cannot convert the literal '{raw}' to the expected type '{DATETIME}'.")
    # The service returns instants in UTC with a Z suffix.
    text = stamp.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace(".000+00:00", "Z").replace("+00:00", "Z")


def _convert(field: Field, value: Any) -> Any:  # noqa: PLR0911, PLR0912 - one per type
    """Check a document value against the field type; return the stored form."""
    if value is None:
        return None

    def wrong() -> SearchError:
        return _invalid(
            f"Cannot convert the literal '{value}' to the expected type '{field.type}'."
        )

    if field.type == STRING:
        if not isinstance(value, str):
            raise wrong()
        return value
    if field.type in (INT32, INT64):
        limits = _INT32_RANGE if field.type == INT32 else _INT64_RANGE
        if isinstance(value, bool) or not isinstance(value, int) or value not in limits:
            raise wrong()
        return value
    if field.type == DOUBLE:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong()
        return float(value)
    if field.type == BOOLEAN:
        if not isinstance(value, bool):
            raise wrong()
        return value
    if field.type == DATETIME:
        if not isinstance(value, str):
            raise wrong()
        return _normalize_datetime(value)
    if not isinstance(value, list):
        raise wrong()
    if field.type == STRING_COLLECTION:
        if not all(isinstance(item, str) for item in value):
            raise wrong()
        return list(value)
    if not all(isinstance(item, int | float) and not isinstance(item, bool) for item in value):
        raise wrong()
    if len(value) != field.dimensions:
        raise _invalid(
            f"The vector field '{field.name}', with dimension of '{field.dimensions}', expects "
            f"a length of '{field.dimensions}'. However, the provided vector has a length of "
            f"'{len(value)}'."
        )
    return [float(item) for item in value]


# -- similarity ---------------------------------------------------------------


def similarity_score(metric: str, query: Sequence[float], stored: Sequence[float]) -> float:
    """``@search.score`` of one vector match.

    Cosine is documented ("Relevance in vector search"): ``1 / (1 +
    cosine_distance)`` with ``cosine_distance = 1 - cosine_similarity``.
    For euclidean and dotProduct the docs give only the 0..1 range; the
    stand-in uses ``1 / (1 + distance)`` and ``(1 + dot) / 2``, which rank
    the same way.
    """
    dot = math.fsum(a * b for a, b in zip(query, stored, strict=True))
    if metric == "cosine":
        norms = math.hypot(*query) * math.hypot(*stored)
        cosine = dot / norms if norms else 0.0
        return 1.0 / (1.0 + (1.0 - cosine))
    if metric == "euclidean":
        return 1.0 / (1.0 + math.dist(query, stored))
    return (1.0 + dot) / 2.0


# -- indexes ------------------------------------------------------------------


@dataclass
class _Index:
    definition: dict[str, Any]
    fields: dict[str, Field]
    key: str
    metrics: dict[str, str]
    documents: dict[str, _Document] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.definition["name"])

    @property
    def etag(self) -> str:
        return str(self.definition["@odata.etag"])


@dataclass(frozen=True)
class _VectorQuery:
    vector: list[float]
    k: int
    fields: list[str]
    weight: float


_SEARCH_PARAMETERS = frozenset(
    {
        "search",
        "searchFields",
        "searchMode",
        "queryType",
        "filter",
        "orderby",
        "select",
        "top",
        "skip",
        "count",
        "highlight",
        "highlightPreTag",
        "highlightPostTag",
        "vectorQueries",
        "vectorFilterMode",
        # Accepted and without effect on a single in-memory replica.
        "sessionId",
        "scoringStatistics",
        "minimumCoverage",
    }
)
_NOT_IMPLEMENTED = frozenset(
    {
        "facets",
        "scoringProfile",
        "scoringParameters",
        "semanticConfiguration",
        "semanticQuery",
        "semanticErrorHandling",
        "semanticMaxWaitInMilliseconds",
        "answers",
        "captions",
        "debug",
        "queryRewrites",
        "hybridSearch",
    }
)


# Vector query options other than these (threshold, oversampling,
# filterOverride...) change results, so the stand-in refuses them.
_VECTOR_QUERY_PARAMETERS = frozenset({"kind", "vector", "k", "fields", "exhaustive", "weight"})


class SearchService:
    """Indexes and their documents; every method maps one REST operation."""

    def __init__(
        self,
        *,
        service_name: str = "standin",
        endpoint: str = "",
        max_batch_actions: int = MAX_BATCH_ACTIONS,
    ) -> None:
        self.service_name = service_name
        self.endpoint = endpoint
        self.max_batch_actions = max_batch_actions
        self._indexes: dict[str, _Index] = {}
        self._etags = 0

    # -- index operations

    def _index(self, name: str) -> _Index:
        index = self._indexes.get(name)
        if index is None:
            raise SearchError(
                404, f"The index '{name}' for service '{self.service_name}' was not found."
            )
        return index

    def _next_etag(self) -> str:
        self._etags += 1
        return f'"0x8DC{self._etags:013X}"'

    def _build(self, body: Any, previous: _Index | None) -> _Index:
        if not isinstance(body, dict):
            raise _invalid("definition : The index definition must be a JSON object.")
        definition = copy.deepcopy(body)
        name = definition.get("name")
        if not isinstance(name, str) or not _INDEX_NAME.match(name):
            raise _invalid(
                f"definition : Invalid index name '{name}'. Index names may contain only "
                "lowercase letters, digits or dashes, cannot start or end with a dash and "
                "are limited to 128 characters."
            )
        specs = definition.get("fields")
        if not isinstance(specs, list) or not specs:
            raise _invalid("definition : The index must have at least one field.")
        fields: dict[str, Field] = {}
        shown: list[dict[str, Any]] = []
        for spec in specs:
            parsed = _parse_field(spec)
            if parsed.name in fields:
                raise _invalid(f"definition : Field '{parsed.name}' is defined more than once.")
            fields[parsed.name] = parsed
            shown.append(_field_json(spec, parsed))
        keys = [f for f in fields.values() if f.key]
        if len(keys) != 1:
            raise _invalid("definition : The index must contain exactly one key field.")
        if keys[0].type != STRING:
            raise _invalid(
                f"definition : The key field '{keys[0].name}' must be of type Edm.String."
            )
        metrics = _vector_metrics(definition, fields.values())
        _check_semantic(definition, fields)
        if previous is not None:
            _check_update(previous.fields, fields)
        definition["fields"] = shown
        definition.pop("@odata.context", None)
        definition["@odata.etag"] = self._next_etag()
        index = _Index(definition, fields, keys[0].name, metrics)
        if previous is not None:
            # Added fields are null in the documents already there.
            index.documents = {
                key: _Document(document.values, _analyze(index, document.values))
                for key, document in previous.documents.items()
            }
        return index

    def _shown(self, index: _Index) -> dict[str, Any]:
        context = f"{self.endpoint}/$metadata#indexes/$entity"
        return {"@odata.context": context, **copy.deepcopy(index.definition)}

    def create_or_update_index(
        self, name: str, body: Any, *, if_match: str | None, if_none_match: str | None
    ) -> tuple[int, dict[str, Any]]:
        """PUT /indexes('name'): 201 when created, 200 when updated."""
        previous = self._indexes.get(name)
        _check_preconditions(previous.etag if previous else None, if_match, if_none_match)
        if isinstance(body, dict) and body.get("name") != name:
            raise _invalid(
                "definition : The index name in the body must match the name in the URL."
            )
        index = self._build(body, previous)
        self._indexes[name] = index
        return (200 if previous else 201), self._shown(index)

    def create_index(self, body: Any) -> dict[str, Any]:
        """POST /indexes: create only."""
        index = self._build(body, None)
        if index.name in self._indexes:
            raise SearchError(409, f"Cannot create index '{index.name}' because it already exists.")
        self._indexes[index.name] = index
        return self._shown(index)

    def get_index(self, name: str) -> dict[str, Any]:
        return self._shown(self._index(name))

    def index_etag(self, name: str) -> str:
        return self._index(name).etag

    def list_indexes(self) -> dict[str, Any]:
        return {
            "@odata.context": f"{self.endpoint}/$metadata#indexes",
            "value": [self._shown(index) for _, index in sorted(self._indexes.items())],
        }

    def delete_index(self, name: str, *, if_match: str | None, if_none_match: str | None) -> None:
        index = self._index(name)
        _check_preconditions(index.etag, if_match, if_none_match)
        del self._indexes[name]

    # -- documents

    def count(self, name: str) -> int:
        return len(self._index(name).documents)

    def get_document(self, name: str, key: str, select: str | None) -> dict[str, Any]:
        index = self._index(name)
        document = index.documents.get(key)
        if document is None:
            raise SearchError(404, "Document not found.")
        return _project(index, document, _parse_select(index, select))

    def index_documents(self, name: str, body: Any) -> tuple[int, dict[str, Any]]:
        """POST .../docs/search.index: 200 when every action succeeded, else 207."""
        index = self._index(name)
        actions = body.get("value") if isinstance(body, dict) else None
        if not isinstance(actions, list) or not 1 <= len(actions) <= self.max_batch_actions:
            # Wording the service used when a batch broke this limit.
            raise _invalid(
                "actions : The items collection must have from 1 to "
                f"{self.max_batch_actions} valid items to be indexed."
            )
        # The whole batch is checked before any action applies, as the service
        # refuses a malformed request as a whole.
        prepared = [_prepare_action(index, action) for action in actions]
        results = [self._apply(index, kind, key, values) for kind, key, values in prepared]
        failed = any(not result["status"] for result in results)
        return (207 if failed else 200), {"value": results}

    def _apply(self, index: _Index, kind: str, key: str, values: dict[str, Any]) -> dict[str, Any]:
        def result(status: int, error: str | None = None) -> dict[str, Any]:
            return {"key": key, "status": status < 300, "errorMessage": error, "statusCode": status}

        if not key:
            return result(400, "Document key cannot be missing or empty.")
        if not _DOC_KEY.match(key):
            return result(
                400,
                f"Invalid document key: '{key}'. Keys can only contain letters, digits, "
                "underscore (_), dash (-), or equal sign (=).",
            )
        existing = index.documents.get(key)
        if kind == "delete":
            index.documents.pop(key, None)
            return result(200)
        if kind == "merge" and existing is None:
            return result(404, "Document not found.")
        if existing is not None and kind in ("merge", "mergeOrUpload"):
            merged = {**existing.values, **values}
        else:
            merged = {name: values.get(name) for name in index.fields}
        index.documents[key] = _Document(merged, _analyze(index, merged))
        return result(200 if existing is not None else 201)

    # -- search

    def search(self, name: str, body: Any, url: str) -> dict[str, Any]:
        """POST .../docs/search.post.search."""
        index = self._index(name)
        request = _parse_search(index, body)
        scores = _scores(index, request)
        keys = _ordered(index, scores, request.order)
        page_size = DEFAULT_TOP if request.top is None else min(request.top, MAX_PAGE)
        page = keys[request.skip : request.skip + page_size]
        response: dict[str, Any] = {}
        if body.get("count"):
            response["@odata.count"] = len(keys)
        response["value"] = [_result(index, request, key, scores[key]) for key in page]
        next_parameters = _continuation(body, request.top, request.skip, len(keys))
        if next_parameters is not None:
            response["@search.nextPageParameters"] = next_parameters
            response["@odata.nextLink"] = url
        return response


@dataclass(frozen=True)
class _SearchRequest:
    text: SimpleQuery | None  # None when only vector queries rank
    search_fields: list[str]
    condition: Condition | None
    vectors: list[_VectorQuery]
    post_filter: bool
    order: list[OrderKey]
    select: list[str] | None
    top: int | None
    skip: int
    highlights: dict[str, int]
    pre_tag: str
    post_tag: str


def _parse_search(index: _Index, body: Any) -> _SearchRequest:
    if not isinstance(body, dict):
        raise _invalid("parameters : The request body must be a JSON object.")
    for parameter in body:
        if parameter in _NOT_IMPLEMENTED:
            raise SearchError(
                400, f"The stand-in does not implement the search parameter '{parameter}'."
            )
        if parameter not in _SEARCH_PARAMETERS:
            raise _invalid(
                f"parameters : The parameter '{parameter}' in the request payload is not "
                "a valid parameter for the operation 'search'."
            )
    query_type = body.get("queryType") or "simple"
    if query_type != "simple":
        raise SearchError(
            400, f"The stand-in implements queryType 'simple' only, not '{query_type}'."
        )
    mode = body.get("vectorFilterMode") or "preFilter"
    if mode not in ("preFilter", "postFilter"):
        raise _invalid(f"parameters : Unsupported vectorFilterMode '{mode}'.")
    vectors = _parse_vector_queries(index, body.get("vectorQueries"))
    text = body.get("search")
    # With vector queries, a text part exists only when search text is given.
    has_text = not vectors or (isinstance(text, str) and bool(text.strip()))
    top, skip = _paging(body)
    return _SearchRequest(
        text=parse_query(text, all_mode=body.get("searchMode") == "all") if has_text else None,
        search_fields=_search_fields(index, body.get("searchFields")),
        condition=_parse_filter(index, body.get("filter")),
        vectors=vectors,
        post_filter=mode == "postFilter",
        order=_parse_orderby(index, body.get("orderby")),
        select=_parse_select(index, body.get("select")),
        top=top,
        skip=skip,
        highlights=_parse_highlight(index, body.get("highlight")),
        pre_tag=body.get("highlightPreTag") or "<em>",
        post_tag=body.get("highlightPostTag") or "</em>",
    )


def _scores(index: _Index, request: _SearchRequest) -> dict[str, float]:
    """Rank the text part and each (vector query, field) pair, then fuse."""
    condition = request.condition
    candidates = {
        key: document
        for key, document in index.documents.items()
        if condition is None or condition.test(document.values, {})
    }
    ranked: list[list[tuple[str, float]]] = []
    weights: list[float] = []
    if request.text is not None:
        ranked.append(_text_ranking(index, candidates, request.text, request.search_fields))
        weights.append(1.0)
    for vector_query in request.vectors:
        for field_name in vector_query.fields:
            if request.post_filter:
                hits = _vector_ranking(index, index.documents, vector_query, field_name)
                hits = [hit for hit in hits if hit[0] in candidates]
            else:
                hits = _vector_ranking(index, candidates, vector_query, field_name)
            ranked.append(hits)
            weights.append(vector_query.weight)
    return _fuse(ranked, weights)


def _result(index: _Index, request: _SearchRequest, key: str, score: float) -> dict[str, Any]:
    document = index.documents[key]
    item = _project(index, document, request.select)
    item["@search.score"] = score
    leaves = request.text.leaves() if request.text is not None else []
    found: dict[str, list[str]] = {}
    for name, limit in request.highlights.items() if leaves else ():
        value = document.values.get(name)
        fragments = highlight(value, leaves, request.pre_tag, request.post_tag, limit)
        if fragments:
            found[name] = fragments
    if found:
        item["@search.highlights"] = found
    return item


def _check_preconditions(etag: str | None, if_match: str | None, if_none_match: str | None) -> None:
    failed = False
    if if_match is not None:
        failed = etag is None or if_match not in ("*", etag)
    if if_none_match is not None and etag is not None:
        failed = failed or if_none_match in ("*", etag)
    if failed:
        raise SearchError(
            412,
            "The precondition given in one of the request headers evaluated to false. "
            "No change was made to the resource from this request.",
        )


def _check_update(old: Mapping[str, Field], new: Mapping[str, Field]) -> None:
    # The service only adds fields to an existing index; it answers
    # OperationNotAllowed / CannotChangeExistingField for anything else.
    for name, before in old.items():
        if name not in new:
            message = f"Existing field '{name}' cannot be removed."
        elif new[name].fixed() != before.fixed():
            message = f"Existing field '{name}' cannot be changed."
        else:
            continue
        raise SearchError(
            400,
            message,
            code="OperationNotAllowed",
            details=[{"code": "CannotChangeExistingField", "message": message}],
        )


def _prepare_action(index: _Index, action: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(action, dict):
        raise _invalid("actions : Each action must be a JSON object.")
    kind = action.get("@search.action", "upload")
    if kind not in ("upload", "merge", "mergeOrUpload", "delete"):
        raise _invalid(f"actions : '{kind}' is not a valid @search.action.")
    raw_key = action.get(index.key)
    key = raw_key if isinstance(raw_key, str) else ""
    values: dict[str, Any] = {}
    for name, value in action.items():
        if name == "@search.action":
            continue
        field = index.fields.get(name)
        if field is None:
            raise _invalid(
                f"The property '{name}' does not exist on type 'search.documentFields'. "
                "Make sure to only use property names that are defined by the type."
            )
        values[name] = _convert(field, value)
    return kind, key, values


def _analyze(index: _Index, values: Mapping[str, Any]) -> dict[str, AnalyzedField]:
    return {
        name: analyze(values.get(name))
        for name, field in index.fields.items()
        if field.searchable and field.is_text
    }


def _project(index: _Index, document: _Document, select: list[str] | None) -> dict[str, Any]:
    # Fields that are not retrievable are never returned, selected or not.
    names = select if select is not None else list(index.fields)
    return {
        name: copy.deepcopy(document.values.get(name))
        for name in names
        if index.fields[name].retrievable
    }


def _names(raw: Any, parameter: str) -> list[str]:
    if not isinstance(raw, str):
        raise _invalid(f"parameters : '{parameter}' must be a comma-separated string.")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _parse_select(index: _Index, raw: Any) -> list[str] | None:
    if raw is None:
        return None
    names = _names(raw, "select")
    if names == ["*"]:
        return None
    for name in names:
        if name not in index.fields:
            raise _expression_error(
                "$select",
                ODataError(f"Could not find a property named '{name}' on type 'search.document'."),
            )
    return names


def _parse_filter(index: _Index, raw: Any) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _invalid("parameters : 'filter' must be a string.")
    try:
        return parse_filter(raw, index.fields)
    except ODataError as exc:
        raise _expression_error("$filter", exc) from None


def _parse_orderby(index: _Index, raw: Any) -> list[OrderKey]:
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise _invalid("parameters : 'orderby' must be a string.")
    try:
        keys = parse_orderby(raw, index.fields)
    except ODataError as exc:
        raise _expression_error("$orderby", exc) from None
    if len(keys) > MAX_ORDERBY_CLAUSES:
        raise _invalid(f"parameters : $orderby takes at most {MAX_ORDERBY_CLAUSES} clauses.")
    return keys


def _search_fields(index: _Index, raw: Any) -> list[str]:
    if raw is None:
        return [name for name, f in index.fields.items() if f.searchable and f.is_text]
    names = _names(raw, "searchFields")
    for name in names:
        found = index.fields.get(name)
        if found is None or not (found.searchable and found.is_text):
            raise _invalid(f"parameters : '{name}' in searchFields is not a searchable text field.")
    return names


def _parse_highlight(index: _Index, raw: Any) -> dict[str, int]:
    """``highlight`` as field -> fragment limit; ``content-3`` caps content at 3."""
    if raw is None:
        return {}
    limits: dict[str, int] = {}
    for entry in _names(raw, "highlight"):
        name, _, limit = entry.partition("-")
        found = index.fields.get(name)
        if found is None or not (found.searchable and found.is_text):
            raise _invalid(
                f"parameters : '{name}' cannot be highlighted: only searchable fields can."
            )
        # Five highlights per field is the service's default.
        limits[name] = int(limit) if limit.isdigit() else 5
    return limits


def _paging(body: Mapping[str, Any]) -> tuple[int | None, int]:
    top = body.get("top")
    skip = body.get("skip") or 0
    for name, value in (("top", top), ("skip", skip)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise _invalid(f"parameters : '{name}' must be a non-negative integer.")
    if skip > MAX_SKIP:
        raise _invalid(f"parameters : 'skip' cannot exceed {MAX_SKIP}.")
    return top, skip


def _continuation(
    body: Mapping[str, Any], top: int | None, skip: int, total: int
) -> dict[str, Any] | None:
    """``@search.nextPageParameters`` when one response cannot hold the results.

    As documented ("Continuation of partial search responses"): without
    ``top`` the service returns 50 results and continues at ``skip + 50``;
    a ``top`` above 1000 is served 1000 at a time.
    """
    if top is None:
        if total <= skip + DEFAULT_TOP:
            return None
        return {**body, "skip": skip + DEFAULT_TOP}
    if top <= MAX_PAGE or total <= skip + MAX_PAGE:
        return None
    return {**body, "skip": skip + MAX_PAGE, "top": top - MAX_PAGE}


def _parse_vector_queries(index: _Index, raw: Any) -> list[_VectorQuery]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _invalid("parameters : 'vectorQueries' must be an array.")
    queries: list[_VectorQuery] = []
    for item in raw:
        if not isinstance(item, dict) or item.get("kind") != "vector":
            kind = item.get("kind") if isinstance(item, dict) else None
            raise SearchError(
                400,
                f"The stand-in implements vector queries of kind 'vector' only, not '{kind}'.",
            )
        unknown = sorted(item.keys() - _VECTOR_QUERY_PARAMETERS)
        if unknown:
            raise SearchError(
                400, f"The stand-in does not implement the vector query parameters {unknown}."
            )
        vector = item.get("vector")
        if not isinstance(vector, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in vector
        ):
            raise _invalid("parameters : A vector query needs 'vector', an array of numbers.")
        names = _names(item.get("fields"), "fields")
        if not names or len(names) > MAX_VECTOR_FIELDS:
            raise _invalid(
                f"parameters : A vector query names from 1 to {MAX_VECTOR_FIELDS} vector fields."
            )
        for name in names:
            found = index.fields.get(name)
            if found is None or not found.is_vector:
                raise _invalid(f"parameters : Unknown field '{name}' in vector field list.")
            if len(vector) != found.dimensions:
                raise _invalid(
                    f"parameters : The vector field '{name}', with dimension of "
                    f"'{found.dimensions}', expects a length of '{found.dimensions}'. However, "
                    f"the provided vector has a length of '{len(vector)}'."
                )
        # Without k the stand-in returns as many neighbours as a default page.
        k = item.get("k", DEFAULT_TOP)
        weight = item.get("weight", 1.0)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise _invalid("parameters : 'k' must be a positive integer.")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
            raise _invalid("parameters : 'weight' must be a positive number.")
        queries.append(_VectorQuery([float(x) for x in vector], k, names, float(weight)))
    return queries


def _text_ranking(
    index: _Index,
    candidates: Mapping[str, _Document],
    query: SimpleQuery,
    search_fields: list[str],
) -> list[tuple[str, float]]:
    def scoped(document: _Document) -> dict[str, AnalyzedField]:
        return {name: document.analyzed[name] for name in search_fields}

    if query.match_all:
        return [(key, 1.0) for key in sorted(candidates)]
    stats = corpus_stats((scoped(doc) for doc in index.documents.values()), query.terms())
    hits = []
    for key, document in candidates.items():
        fields = scoped(document)
        if query.matches(fields):
            hits.append((key, query.score(fields, stats)))
    return sorted(hits, key=lambda hit: (-hit[1], hit[0]))


def _vector_ranking(
    index: _Index, pool: Mapping[str, _Document], query: _VectorQuery, field_name: str
) -> list[tuple[str, float]]:
    # Exact (exhaustive) search whatever the algorithm: HNSW approximates it.
    metric = index.metrics[field_name]
    hits = [
        (key, similarity_score(metric, query.vector, stored))
        for key, document in pool.items()
        if (stored := document.values.get(field_name)) is not None
    ]
    hits.sort(key=lambda hit: (-hit[1], hit[0]))
    return hits[: query.k]


def _fuse(ranked: list[list[tuple[str, float]]], weights: list[float]) -> dict[str, float]:
    """One ranking keeps its scores; several merge by Reciprocal Rank Fusion.

    RRF as documented: each list adds ``1 / (rank + 60)`` (rank from 1) to a
    document's score, a vector query's contribution multiplied by its weight.
    """
    if len(ranked) == 1:
        return dict(ranked[0])
    scores: dict[str, float] = {}
    for hits, weight in zip(ranked, weights, strict=True):
        for rank, (key, _) in enumerate(hits, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (rank + RRF_K)
    return scores


def _ordered(index: _Index, scores: Mapping[str, float], order: list[OrderKey]) -> list[str]:
    keys = sorted(scores, key=lambda key: (-scores[key], key))
    # Stable sorts from the last clause to the first; in ascending order
    # nulls come first, in descending order last.
    for clause in reversed(order):
        if clause.field is None:
            keys.sort(key=lambda key: scores[key], reverse=clause.descending)
            continue
        name = clause.field
        typed: Callable[[Any], Any] = (
            datetime.fromisoformat if index.fields[name].type == DATETIME else (lambda v: v)
        )

        def sort_key(
            key: str, name: str = name, typed: Callable[[Any], Any] = typed
        ) -> tuple[bool, Any]:
            value = index.documents[key].values.get(name)
            return (value is not None, typed(value) if value is not None else 0)

        keys.sort(key=sort_key, reverse=clause.descending)
    return keys
