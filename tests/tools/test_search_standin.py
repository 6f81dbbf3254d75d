"""The Azure AI Search stand-in, driven only by the real azure-search-documents
clients: index management, indexing batches, text, filtered, vector and
hybrid queries, limits, retries and authentication."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.search.documents import SearchClient
from azure.search.documents.indexes import SearchIndexClient
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
from azure.search.documents.models import VectorizedQuery

from tools.standins.search import API_VERSION, TOKEN_SCOPE, SearchStandIn

KEY = "test-admin-key"
INDEX = "documents"
DIMENSIONS = 4


def make_index(*, extra: list[SearchField] | None = None) -> SearchIndex:
    """The index the app's search adapter is expected to create."""
    fields = [
        SimpleField(name="id", type=SearchFieldDataType.STRING, key=True),
        SearchableField(name="content", analyzer_name="en.microsoft"),
        SimpleField(name="owner", type=SearchFieldDataType.STRING, filterable=True),
        SimpleField(name="content_type", type=SearchFieldDataType.STRING, filterable=True),
        SimpleField(name="filename", type=SearchFieldDataType.STRING, filterable=True),
        SimpleField(
            name="created",
            type=SearchFieldDataType.DATE_TIME_OFFSET,
            filterable=True,
            sortable=True,
        ),
        SimpleField(
            name="tags",
            type="Collection(Edm.String)",
            filterable=True,
        ),
        SearchField(
            name="embedding",
            type="Collection(Edm.Single)",
            searchable=True,
            vector_search_dimensions=DIMENSIONS,
            vector_search_profile_name="hnsw-cosine",
        ),
        *(extra or []),
    ]
    return SearchIndex(
        name=INDEX,
        fields=fields,
        vector_search=VectorSearch(
            algorithms=[
                HnswAlgorithmConfiguration(name="hnsw", parameters=HnswParameters(metric="cosine"))
            ],
            profiles=[VectorSearchProfile(name="hnsw-cosine", algorithm_configuration_name="hnsw")],
        ),
        semantic_search=SemanticSearch(
            configurations=[
                SemanticConfiguration(
                    name="default",
                    prioritized_fields=SemanticPrioritizedFields(
                        content_fields=[SemanticField(field_name="content")]
                    ),
                )
            ]
        ),
    )


def make_documents() -> list[dict[str, Any]]:
    """Twenty documents; d01..d03 differ in how often they say 'contract'."""
    texts = {
        "d01": "Contract renewal. The contract says the contract ends in May.",
        "d02": "Contract draft for the supplier. Payment terms follow.",
        "d03": "Notes on the supplier meeting and the contract.",
        "d04": "Invoice for March with payment terms.",
        "d05": "Quarterly report on revenue and costs.",
    }
    owners = ["alice", "bob", "carol", "dave"]
    documents = []
    for number in range(1, 21):
        key = f"d{number:02d}"
        angle = number * math.pi / 20
        documents.append(
            {
                "id": key,
                "content": texts.get(key, f"Meeting minutes number {number} about planning."),
                "owner": owners[number % 4],
                "content_type": "application/pdf" if number % 2 else "text/plain",
                "filename": "O'Brien.pdf" if number == 7 else f"file-{number}.pdf",
                "created": f"2024-01-{number:02d}T12:00:00Z",
                "tags": ["legal"] if number in (3, 9) else ["general"],
                "embedding": [math.cos(angle), math.sin(angle), 0.0, 0.0],
            }
        )
    return documents


def cosine_score(a: list[float], b: list[float]) -> float:
    """The documented @search.score for cosine: 1 / (1 + (1 - cosine))."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    cosine = dot / (math.hypot(*a) * math.hypot(*b))
    return 1 / (1 + (1 - cosine))


@pytest.fixture
def standin() -> Iterator[SearchStandIn]:
    with SearchStandIn(api_key=KEY) as server:
        yield server


@pytest.fixture
def index_client(standin: SearchStandIn) -> SearchIndexClient:
    return SearchIndexClient(standin.endpoint, AzureKeyCredential(KEY))


@pytest.fixture
def client(standin: SearchStandIn, index_client: SearchIndexClient) -> SearchClient:
    """A search client on the app's index holding make_documents()."""
    index_client.create_or_update_index(make_index())
    search_client = SearchClient(
        standin.endpoint, INDEX, AzureKeyCredential(KEY), retry_backoff_factor=0.01
    )
    results = search_client.upload_documents(make_documents())
    assert all(result.succeeded for result in results)
    return search_client


def ids(results: Any) -> list[str]:
    return [document["id"] for document in results]


# -- index management ---------------------------------------------------------


def test_index_create_then_update_is_idempotent(
    standin: SearchStandIn, index_client: SearchIndexClient
) -> None:
    """create_or_update_index PUTs /indexes('name') with Prefer: return=representation;
    the first call creates (201), the same definition again updates (200) with a new
    etag and the same fields; get and list return it."""
    created = index_client.create_or_update_index(make_index())
    again = index_client.create_or_update_index(make_index())

    assert [f.name for f in again.fields] == [f.name for f in created.fields]
    assert created.e_tag and again.e_tag and created.e_tag != again.e_tag
    vector = next(f for f in again.fields if f.name == "embedding")
    assert vector.vector_search_dimensions == DIMENSIONS
    assert again.semantic_search is not None
    assert again.semantic_search.configurations is not None
    assert again.semantic_search.configurations[0].name == "default"
    assert index_client.get_index(INDEX).e_tag == again.e_tag
    assert list(index_client.list_index_names()) == [INDEX]

    puts = [r for r in standin.requests if r.method == "PUT"]
    assert [r.path for r in puts] == [f"/indexes('{INDEX}')"] * 2
    assert [r.status for r in puts] == [201, 200]
    assert puts[0].headers["prefer"] == "return=representation"
    assert puts[0].query["api-version"] == API_VERSION
    assert puts[0].headers["api-key"] == "<redacted>"
    assert puts[0].body["fields"][0] == {
        "name": "id",
        "type": "Edm.String",
        "key": True,
        "searchable": False,
        "filterable": False,
        "facetable": False,
        "sortable": False,
        "retrievable": True,
    }


def test_index_update_may_add_fields_but_not_change_them(index_client: SearchIndexClient) -> None:
    """Adding a field to an existing index succeeds; changing an existing field's
    type or vector dimensions is refused with 400 OperationNotAllowed, as the
    service does."""
    index_client.create_or_update_index(make_index())
    pages = SimpleField(name="pages", type=SearchFieldDataType.INT32, filterable=True)
    updated = index_client.create_or_update_index(make_index(extra=[pages]))
    assert "pages" in [f.name for f in updated.fields]

    changed = make_index()
    owner = next(f for f in changed.fields if f.name == "owner")
    owner.type = SearchFieldDataType.INT32
    with pytest.raises(HttpResponseError) as refused:
        index_client.create_or_update_index(changed)
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "OperationNotAllowed"
    assert "Existing field 'owner' cannot be changed." in str(refused.value)

    resized = make_index()
    vector = next(f for f in resized.fields if f.name == "embedding")
    vector.vector_search_dimensions = 8
    with pytest.raises(HttpResponseError) as refused_vector:
        index_client.create_or_update_index(resized)
    assert refused_vector.value.status_code == 400


def test_index_schema_is_validated(index_client: SearchIndexClient) -> None:
    """An index without exactly one Edm.String key, or with a vector field that
    names no known profile, is refused with 400."""
    no_key = SearchIndex(
        name="nokey", fields=[SimpleField(name="id", type=SearchFieldDataType.STRING)]
    )
    with pytest.raises(HttpResponseError) as missing:
        index_client.create_or_update_index(no_key)
    assert missing.value.status_code == 400

    int_key = SearchIndex(
        name="intkey", fields=[SimpleField(name="id", type=SearchFieldDataType.INT32, key=True)]
    )
    with pytest.raises(HttpResponseError):
        index_client.create_or_update_index(int_key)

    bad_profile = make_index()
    vector = next(f for f in bad_profile.fields if f.name == "embedding")
    vector.vector_search_profile_name = "missing"
    with pytest.raises(HttpResponseError) as unknown:
        index_client.create_or_update_index(bad_profile)
    assert "missing" in str(unknown.value)


def test_index_update_with_a_stale_etag_is_412(index_client: SearchIndexClient) -> None:
    """With MatchConditions.IfNotModified the SDK sends If-Match; a stale etag is
    412, raised as ResourceModifiedError, and the index is left as it was."""
    first = index_client.create_or_update_index(make_index())
    current = index_client.create_or_update_index(make_index())
    with pytest.raises(ResourceModifiedError):
        index_client.create_or_update_index(first, match_condition=MatchConditions.IfNotModified)
    with pytest.raises(ResourceModifiedError):
        index_client.delete_index(first, match_condition=MatchConditions.IfNotModified)
    assert index_client.get_index(INDEX).e_tag == current.e_tag


def test_index_delete_and_unknown_index(index_client: SearchIndexClient) -> None:
    """delete_index removes the index; then get_index and searching it raise
    ResourceNotFoundError (404)."""
    index_client.create_or_update_index(make_index())
    index_client.delete_index(INDEX)
    with pytest.raises(ResourceNotFoundError):
        index_client.get_index(INDEX)
    with pytest.raises(ResourceNotFoundError) as missing:
        list(index_client.get_search_client(INDEX).search("anything"))
    assert f"The index '{INDEX}'" in str(missing.value)


# -- documents ----------------------------------------------------------------


def test_documents_count_get_merge_and_delete(client: SearchClient) -> None:
    """Uploads count and can be fetched; merge changes given fields only; merge of
    a missing key fails with 404 in a 207 batch; delete removes documents."""
    assert client.get_document_count() == 20
    assert client.get_document("d07")["filename"] == "O'Brien.pdf"

    merged = client.merge_documents([{"id": "d07", "owner": "zoe"}])
    assert [(r.key, r.status_code, r.succeeded) for r in merged] == [("d07", 200, True)]
    document = client.get_document("d07", selected_fields=["id", "owner", "filename"])
    assert document == {"id": "d07", "owner": "zoe", "filename": "O'Brien.pdf"}

    mixed = client.merge_documents([{"id": "d01", "owner": "zoe"}, {"id": "nope", "owner": "x"}])
    assert [(r.key, r.succeeded, r.status_code) for r in mixed] == [
        ("d01", True, 200),
        ("nope", False, 404),
    ]
    assert mixed[1].error_message == "Document not found."

    deleted = client.delete_documents([{"id": "d01"}, {"id": "d02"}])
    assert all(r.succeeded for r in deleted)
    assert client.get_document_count() == 18
    with pytest.raises(ResourceNotFoundError):
        client.get_document("d01")
    assert "d01" not in ids(client.search("contract"))


def test_documents_are_validated(client: SearchClient) -> None:
    """A key with characters the service refuses fails that item with 400; a
    property the index lacks, or a vector of the wrong length, refuses the batch."""
    results = client.upload_documents([{"id": "bad key!"}, {"id": "good-key="}])
    assert [(r.succeeded, r.status_code) for r in results] == [(False, 400), (True, 201)]
    assert "Invalid document key" in (results[0].error_message or "")

    with pytest.raises(HttpResponseError) as unknown:
        client.upload_documents([{"id": "x", "nosuch": 1}])
    assert "The property 'nosuch' does not exist" in str(unknown.value)
    with pytest.raises(HttpResponseError) as short:
        client.upload_documents([{"id": "x", "embedding": [1.0, 0.0]}])
    assert short.value.status_code == 400
    assert client.get_document_count() == 21


def test_batch_over_1000_actions_is_refused(standin: SearchStandIn, client: SearchClient) -> None:
    """A batch of 1,001 actions is refused with 400 and indexes nothing; 1,000 pass."""
    too_many = [{"id": f"bulk{n}", "content": "bulk"} for n in range(1001)]
    with pytest.raises(HttpResponseError) as refused:
        client.upload_documents(too_many)
    assert refused.value.status_code == 400
    assert "from 1 to 1000" in str(refused.value)
    assert client.get_document_count() == 20

    results = client.upload_documents(too_many[:1000])
    assert len(results) == 1000
    assert client.get_document_count() == 1020


def test_oversized_request_is_413_and_the_sdk_splits_the_batch() -> None:
    """A body over the request limit is answered 413; the SDK then halves the
    batch until each part fits, so every document arrives."""
    with SearchStandIn(api_key=KEY, max_request_bytes=4096) as small:
        SearchIndexClient(small.endpoint, AzureKeyCredential(KEY)).create_or_update_index(
            make_index()
        )
        client = SearchClient(small.endpoint, INDEX, AzureKeyCredential(KEY))
        documents = [{"id": f"big{n}", "content": "word " * 100} for n in range(12)]
        results = client.upload_documents(documents)

        assert len(results) == 12
        assert all(r.succeeded for r in results)
        assert client.get_document_count() == 12
        statuses = [r.status for r in small.requests if r.path.endswith("search.index")]
        assert statuses[0] == 413
        assert statuses.count(200) >= 2


# -- text search --------------------------------------------------------------


def test_text_search_ranks_more_hits_higher_and_highlights(client: SearchClient) -> None:
    """BM25: the document saying 'contract' three times outranks those saying it
    fewer times; highlights are fragments of the field text with the matched
    term wrapped in the requested tags."""
    results = list(
        client.search(
            "contract",
            highlight_fields="content",
            highlight_pre_tag="<mark>",
            highlight_post_tag="</mark>",
        )
    )
    assert ids(results)[:1] == ["d01"]
    assert set(ids(results)) == {"d01", "d02", "d03"}
    scores = [r["@search.score"] for r in results]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1] > 0

    fragments = results[0]["@search.highlights"]["content"]
    assert fragments
    content = next(d["content"] for d in make_documents() if d["id"] == "d01")
    for fragment in fragments:
        assert "<mark>" in fragment
        assert re.sub("</?mark>", "", fragment) in content
    assert "The <mark>contract</mark> says the <mark>contract</mark> ends in May." in fragments


def test_simple_query_syntax(client: SearchClient) -> None:
    """Phrases, prefix*, +, - and searchMode behave as the simple syntax documents."""
    assert set(ids(client.search('"payment terms"'))) == {"d02", "d04"}
    assert ids(client.search('"terms payment"')) == []
    assert set(ids(client.search("supp*"))) == {"d02", "d03"}
    assert set(ids(client.search("contract +supplier"))) == {"d02", "d03"}
    assert set(ids(client.search("contract supplier", search_mode="all"))) == {"d02", "d03"}
    assert set(ids(client.search("contract -supplier", search_mode="all"))) == {"d01"}
    assert set(ids(client.search("*", top=100))) == {d["id"] for d in make_documents()}


def test_select_orderby_skip_top_and_count(client: SearchClient) -> None:
    """select returns only the named fields; orderby sorts by a sortable field;
    skip/top page it; include_total_count gives @odata.count of all matches."""
    results = client.search(
        "*",
        select=["id", "created"],
        order_by=["created desc"],
        skip=2,
        top=3,
        include_total_count=True,
    )
    page = list(results)
    assert results.get_count() == 20
    assert ids(page) == ["d18", "d17", "d16"]
    assert {name for name in page[0] if not name.startswith("@")} == {"id", "created"}

    with pytest.raises(HttpResponseError) as refused:
        list(client.search("*", order_by=["owner asc"]))
    assert "not a sortable field" in str(refused.value)


def test_results_beyond_the_default_page_are_paged(
    standin: SearchStandIn, client: SearchClient
) -> None:
    """Without top the service returns 50 results and @search.nextPageParameters;
    the SDK follows them and yields every match."""
    client.upload_documents([{"id": f"extra{n}", "content": "extra"} for n in range(100)])
    standin.clear_requests()

    assert len(list(client.search("*"))) == 120
    skips = [r.body.get("skip") for r in standin.requests]
    assert skips == [None, 50, 100]
    assert len(list(client.search("*", top=70))) == 70


# -- filters ------------------------------------------------------------------


def test_filter_with_a_quote_in_the_value(client: SearchClient) -> None:
    """A doubled quote in an OData string literal matches a value with a quote."""
    assert ids(client.search("*", filter="filename eq 'O''Brien.pdf'")) == ["d07"]


def test_search_in_and_any_filters(client: SearchClient) -> None:
    """search.in matches any value of a delimited list; tags/any(t: ...) matches a
    collection element; and/or/not combine them."""
    expected = {d["id"] for d in make_documents() if d["owner"] in ("alice", "bob")}
    found = ids(client.search("*", filter="search.in(owner, 'alice,bob', ',')", top=100))
    assert set(found) == expected
    assert set(ids(client.search("*", filter="tags/any(t: t eq 'legal')"))) == {"d03", "d09"}
    combined = "tags/any(t: t eq 'legal') and not (owner eq 'dave') or filename eq 'file-1.pdf'"
    assert set(ids(client.search("*", filter=combined))) == {"d01", "d09"}
    dated = "created ge 2024-01-19T00:00:00Z and content_type eq 'application/pdf'"
    assert ids(client.search("*", filter=dated)) == ["d19"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("owner eq", "Syntax error at position 8 in 'owner eq'"),
        ("owner eq 'unterminated", "unterminated string literal"),
        ("nosuch eq 'x'", "Could not find a property named 'nosuch'"),
        ("content eq 'x'", "'content' is not a filterable field"),
        ("owner eq 3", "incompatible types"),
    ],
)
def test_invalid_filter_is_400(client: SearchClient, expression: str, message: str) -> None:
    """A filter the service cannot parse or type-check is 400 'Invalid expression'
    naming $filter."""
    with pytest.raises(HttpResponseError) as refused:
        list(client.search("*", filter=expression))
    assert refused.value.status_code == 400
    assert "Invalid expression:" in str(refused.value)
    assert message in str(refused.value)
    assert "Parameter name: $filter" in str(refused.value)


# -- vectors and hybrid -------------------------------------------------------


def test_vector_query_returns_nearest_by_cosine(client: SearchClient) -> None:
    """A vector query returns the k nearest documents by cosine similarity with
    the documented score 1 / (1 + cosine distance), and honours a filter."""
    angle = 5.2 * math.pi / 20
    query = [math.cos(angle), math.sin(angle), 0.0, 0.0]
    vector_query = VectorizedQuery(vector=query, k_nearest_neighbors=3, fields="embedding")
    results = list(client.search(None, vector_queries=[vector_query]))

    assert ids(results) == ["d05", "d06", "d04"]
    embeddings = {d["id"]: d["embedding"] for d in make_documents()}
    for result in results:
        assert result["@search.score"] == pytest.approx(
            cosine_score(query, embeddings[result["id"]])
        )

    only_pdf = client.search(
        None,
        vector_queries=[vector_query],
        filter="content_type eq 'application/pdf'",
        vector_filter_mode="preFilter",
    )
    assert ids(only_pdf) == ["d05", "d07", "d03"]


def test_hybrid_query_fuses_text_and_vector_rankings_by_rrf(client: SearchClient) -> None:
    """Search text plus a vector query returns the Reciprocal Rank Fusion of the
    two rankings: each adds 1 / (60 + rank), the vector one times its weight."""
    angle = 15.3 * math.pi / 20
    query = [math.cos(angle), math.sin(angle), 0.0, 0.0]
    text_ranking = ids(client.search("contract payment"))
    vector_query = VectorizedQuery(vector=query, k_nearest_neighbors=4, fields="embedding")
    vector_ranking = ids(client.search(None, vector_queries=[vector_query]))
    expected: dict[str, float] = {}
    for ranking, weight in ((text_ranking, 1.0), (vector_ranking, 2.0)):
        for rank, key in enumerate(ranking, start=1):
            expected[key] = expected.get(key, 0.0) + weight / (60 + rank)

    weighted = VectorizedQuery(vector=query, k_nearest_neighbors=4, fields="embedding", weight=2.0)
    hybrid = list(client.search("contract payment", vector_queries=[weighted]))

    assert {r["id"]: r["@search.score"] for r in hybrid} == pytest.approx(expected)
    assert ids(hybrid) == sorted(expected, key=lambda key: -expected[key])
    assert ids(hybrid)[0] == vector_ranking[0]


# -- faults and authentication ------------------------------------------------


@pytest.mark.parametrize("status", [503, 429])
def test_transient_faults_are_retried(
    standin: SearchStandIn, client: SearchClient, status: int
) -> None:
    """Two 503/429 answers with Retry-After: 0 are retried by the SDK's policy and
    the third attempt succeeds; the stand-in saw all three."""
    standin.clear_requests()
    standin.fail_next(status, count=2, retry_after=0)

    assert ids(client.search("contract"))[:1] == ["d01"]
    assert [r.status for r in standin.requests] == [status, status, 200]
    assert len({r.path for r in standin.requests}) == 1


def test_retry_after_is_honoured(standin: SearchStandIn, client: SearchClient) -> None:
    """A 429 with Retry-After: 1 on an indexing POST makes the SDK wait about a second."""
    standin.clear_requests()
    standin.fail_next(429, retry_after=1)
    started = time.monotonic()
    results = client.upload_documents([{"id": "late", "content": "late"}])
    assert time.monotonic() - started >= 0.9
    assert results[0].succeeded
    assert [r.status for r in standin.requests] == [429, 200]


def test_wrong_api_key_is_403(standin: SearchStandIn) -> None:
    """A wrong api-key is 403, which the SDK raises as HttpResponseError (it maps
    only 401 to ClientAuthenticationError)."""
    client = SearchIndexClient(standin.endpoint, AzureKeyCredential("wrong"))
    with pytest.raises(HttpResponseError) as refused:
        client.create_or_update_index(make_index())
    assert refused.value.status_code == 403
    assert not isinstance(refused.value, ClientAuthenticationError)


class StaticToken:
    """A TokenCredential that hands out one token and records the scopes asked for."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def tls_standin() -> Iterator[SearchStandIn]:
    with SearchStandIn(api_key=KEY, tls=True, token_check=lambda token: token == "good") as server:
        yield server


def test_bearer_token_over_https(tls_standin: SearchStandIn) -> None:
    """Over https with the stand-in's CA, a TokenCredential's bearer token for the
    search scope (asked for by the SDK) is accepted for index, indexing and query
    calls, and the recorded requests show the header redacted."""
    assert tls_standin.endpoint.startswith("https://127.0.0.1:")
    assert tls_standin.ca_path is not None
    credential = StaticToken("good")
    index_client = SearchIndexClient(
        tls_standin.endpoint, credential, connection_verify=tls_standin.ca_path
    )
    index_client.create_or_update_index(make_index())
    # get_search_client passes on the credential but not the connection
    # settings, so the CA is given again.
    client = index_client.get_search_client(INDEX, connection_verify=tls_standin.ca_path)
    client.upload_documents(make_documents())

    assert ids(client.search("contract"))[:1] == ["d01"]
    assert set(credential.scopes) == {(TOKEN_SCOPE,)}
    assert all(r.headers["authorization"] == "<redacted>" for r in tls_standin.requests)
    assert all("api-key" not in r.headers for r in tls_standin.requests)


def test_rejected_bearer_token_is_client_authentication_error(
    tls_standin: SearchStandIn,
) -> None:
    """A bearer token the token check refuses is 401: ClientAuthenticationError."""
    client = SearchIndexClient(
        tls_standin.endpoint, StaticToken("bad"), connection_verify=tls_standin.ca_path
    )
    with pytest.raises(ClientAuthenticationError):
        list(client.list_index_names())
    assert [r.status for r in tls_standin.requests] == [401]
