"""The Azure AI Search adapter with the real azure-search-documents client against
the loopback stand-in: the index schema it creates (and updates idempotently),
throttling retried per Retry-After, failures as SearchUnavailableError, partial
batch failures, a managed-identity token over TLS, and the filter it sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from search.azure_search import AzureSearchEngine
from search.errors import SearchUnavailableError
from search.records import Chunk, EngineQuery, Filters, Mode
from tests.functional.test_enrichment_services import TOKEN, StaticToken
from tools.standins.search import TOKEN_SCOPE, SearchStandIn

KEY = "azure-admin-key"
FAST = {"retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "retry_total": 3}
DOC = "0" * 23 + "1"


@pytest.fixture
def standin() -> Iterator[SearchStandIn]:
    with SearchStandIn(api_key=KEY) as server:
        yield server


def engine_for(standin: SearchStandIn, dimensions: int | None = 4) -> AzureSearchEngine:
    return AzureSearchEngine(
        standin.endpoint, "documents", dimensions=dimensions, api_key=KEY, client_options=FAST
    )


def chunk(number: int, text: str = "quarterly report") -> Chunk:
    return Chunk("alice", DOC, number, text, 0, len(text), vector=(1.0, 0.0, 0.0, 0.0))


def test_the_index_is_created_with_its_schema_and_updated_idempotently(
    standin: SearchStandIn,
) -> None:
    engine_for(standin, dimensions=None).ensure_ready()  # text only first
    engine = engine_for(standin)
    engine.ensure_ready()  # adds the vector field
    engine.ensure_ready()
    puts = [r for r in standin.requests if r.method == "PUT"]
    assert [r.status for r in puts] == [201, 200, 200]
    fields = {f["name"]: f for f in puts[-1].body["fields"]}
    assert fields["id"]["key"] is True
    assert fields["content"]["searchable"] is True
    assert fields["content"]["analyzer"] == "en.microsoft"
    assert all(fields[n]["filterable"] for n in ("owner", "content_type", "filename", "created_at"))
    assert fields["embedding"]["dimensions"] == 4
    [algorithm] = puts[-1].body["vectorSearch"]["algorithms"]
    assert (algorithm["kind"], algorithm["hnswParameters"]["metric"]) == ("hnsw", "cosine")
    assert puts[-1].body["semantic"]["configurations"][0]["name"] == "default"


def test_every_query_sends_the_owner_filter_with_quotes_doubled(standin: SearchStandIn) -> None:
    engine = engine_for(standin)
    engine.search(
        EngineQuery(
            "o'neil",
            Mode.HYBRID,
            terms=("report",),
            vector=(1.0, 0, 0, 0),
            filters=Filters(filename="a'b.pdf", entity_type="email"),
        )
    )
    [search] = [r for r in standin.requests if r.path.endswith("search.post.search")]
    assert search.body["filter"] == (
        "owner eq 'o''neil' and filename eq 'a''b.pdf' and entity_types/any(t: t eq 'email')"
    )
    assert search.body["vectorFilterMode"] == "preFilter"
    assert search.body["search"] == "report"
    assert search.body["searchMode"] == "any"


def test_throttling_is_retried_after_the_interval_the_service_gives(
    standin: SearchStandIn,
) -> None:
    engine = engine_for(standin)
    engine.ensure_ready()
    standin.fail_next(429, retry_after=0)
    standin.fail_next(503, retry_after=0)
    engine.replace_document(DOC, [chunk(0)])
    assert engine.count("alice") == 1
    assert [r.status for r in standin.requests if "search.index" in r.path] == [429, 503, 200]


def test_a_service_that_stays_busy_is_a_transient_search_error(standin: SearchStandIn) -> None:
    engine = engine_for(standin)
    engine.ensure_ready()
    standin.fail_next(503, count=10, retry_after=0)
    with pytest.raises(SearchUnavailableError, match="HTTP 503"):
        engine.search(EngineQuery("alice", Mode.TEXT, terms=("report",)))


def test_a_batch_with_failed_items_is_an_error_so_the_event_is_redelivered(
    standin: SearchStandIn,
) -> None:
    engine = engine_for(standin)
    engine.ensure_ready()
    bad = Chunk("alice", "bad key!", 0, "text", 0, 4)
    with pytest.raises(SearchUnavailableError, match="1 of 1 upload actions failed"):
        engine.replace_document("bad key!", [bad])


def test_managed_identity_token_over_tls() -> None:
    credential = StaticToken()
    with SearchStandIn(api_key=None, token_check=lambda t: t == TOKEN, tls=True) as tls:
        engine = AzureSearchEngine(
            tls.endpoint,
            "documents",
            dimensions=4,
            credential=lambda: credential,  # type: ignore[arg-type, return-value]
            client_options={**FAST, "connection_verify": tls.ca_path},
        )
        engine.replace_document(DOC, [chunk(0), chunk(1, "annual report")])
        assert engine.count("alice") == 2
        assert all(r.headers.get("authorization") == "<redacted>" for r in tls.requests)
    assert {scopes for scopes in credential.scopes} == {(TOKEN_SCOPE,)}
