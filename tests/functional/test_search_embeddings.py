"""Embeddings with the real openai client against the loopback OpenAI-compatible
stand-in: batching within 16 inputs and ~8,000 tokens, 429 with Retry-After
retried, failures as EmbeddingsUnavailableError, an Entra token on Azure's v1
path; then vector and hybrid search end to end through the decorated functions,
and the per-document cap on embedded characters."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.errors import EmbeddingsUnavailableError
from search.openai_embeddings import MAX_BATCH_INPUTS, OpenAIEmbedder, batches
from search.settings import EmbeddingsSettings
from tests.builders.pdfs import build_reportlab_pdf
from tests.functional.test_processing_functions import call_http
from tests.functional.test_search_functions import PAGE_ONE, PAGE_TWO, World, build_world, get
from tools.standins.openai_api import OpenAIStandIn

MODEL = "text-embedding-3-small"
DIMENSIONS = 64
KEY = "embeddings-key"
SCOPE = "https://cognitiveservices.azure.com/.default"


@pytest.fixture
def standin() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(authorize=lambda credential: credential in (KEY, "entra-token")) as server:
        yield server


def embedder(standin: OpenAIStandIn, **options: Any) -> OpenAIEmbedder:
    return OpenAIEmbedder(standin.root_url, MODEL, DIMENSIONS, api_key=KEY, client_options=options)


def test_requests_hold_at_most_16_inputs_and_about_8000_tokens() -> None:
    assert [len(b) for b in batches(["short"] * 40)] == [16, 16, 8]
    long = "x" * 9_000  # about 3,000 tokens each
    assert [len(b) for b in batches([long] * 5)] == [2, 2, 1]
    assert [i for b in batches(["a", long, "b"]) for i in b] == [0, 1, 2]


def test_vectors_come_back_in_order_of_the_inputs(standin: OpenAIStandIn) -> None:
    texts = [f"text number {n}" for n in range(MAX_BATCH_INPUTS * 2 + 3)]
    vectors = embedder(standin).embed(texts)
    assert len(vectors) == len(texts) and all(len(v) == DIMENSIONS for v in vectors)
    assert vectors[20] == embedder(standin).embed([texts[20]])[0]
    sizes = [len(r.body["input"]) for r in standin.requests]
    assert sizes[:3] == [16, 16, 3]
    assert {(r.path, r.auth) for r in standin.requests} == {("/openai/v1/embeddings", "bearer")}


def test_rate_limits_are_retried_after_the_interval_given(standin: OpenAIStandIn) -> None:
    standin.fail_next(429, count=2, retry_after=0.05)
    started = time.monotonic()
    [vector] = embedder(standin).embed(["dividend"])
    assert len(vector) == DIMENSIONS
    assert time.monotonic() - started >= 0.1
    assert len(standin.requests) == 3


def test_a_provider_that_keeps_failing_is_a_transient_error(standin: OpenAIStandIn) -> None:
    standin.fail_next(503, count=10, retry_after=0.01)
    with pytest.raises(EmbeddingsUnavailableError, match="HTTP 503"):
        embedder(standin, max_retries=1).embed(["dividend"])


def test_without_a_key_an_entra_token_for_cognitive_services_is_sent(
    standin: OpenAIStandIn,
) -> None:
    from azure.core.credentials import AccessToken

    scopes: list[tuple[str, ...]] = []

    class Credential:
        def get_token(self, *asked: str, **_: Any) -> AccessToken:
            scopes.append(asked)
            return AccessToken("entra-token", int(time.time()) + 3600)

    client = OpenAIEmbedder(
        standin.root_url,
        MODEL,
        DIMENSIONS,
        credential=Credential,  # type: ignore[arg-type]
    )
    client.embed(["dividend"])
    assert standin.requests[-1].auth == "bearer"
    assert scopes == [(SCOPE,)]


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin: OpenAIStandIn
) -> Iterator[World]:
    built = build_world(
        tmp_path,
        monkeypatch,
        embeddings=EmbeddingsSettings(standin.root_url, MODEL, DIMENSIONS, api_key=KEY),
    )
    yield built
    built.processing.platform.stores.close()


def vector_search(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = call_http("search_vectors", "POST", "search/vector", body=json.dumps(body).encode())
    return response.status_code, json.loads(response.get_body())


def test_vector_and_hybrid_search_through_the_embeddings_provider(world: World) -> None:
    report = world.process(build_reportlab_pdf([PAGE_ONE, PAGE_TWO]), "q1-report.pdf")
    world.index(report)
    memo = world.process(b"Minutes of the garden committee: roses and tulips.", "garden.txt")
    world.index(memo)
    status = json.loads(
        call_http("get_search_status", "GET", "x", route_params={"id": report}).get_body()
    )
    assert status["embedded_chunks"] == status["chunks"] > 0

    default = get({"q": "dividend investor"})[1]
    assert default["mode"] == "hybrid"
    assert default["items"][0]["document_id"] == report

    code, page = vector_search({"text": "roses tulips garden", "top": 1})
    assert code == 200 and page["mode"] == "vector"
    [hit] = page["items"]
    assert hit["document_id"] == memo
    assert page["next_skip"] == 1

    code, only = vector_search({"text": "roses tulips garden", "content_type": "application/pdf"})
    assert {h["document_id"] for h in only["items"]} == {report}

    stored = world.search.embedder
    assert stored is not None
    [raw] = stored.embed(["roses tulips garden"])
    code, by_vector = vector_search({"vector": list(raw), "top": 1})
    assert by_vector["items"][0]["document_id"] == memo


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_query"),
        ({"text": "a", "vector": [1.0]}, "invalid_query"),
        ({"text": ""}, "empty_query"),
        ({"vector": [1.0, 2.0]}, "invalid_vector"),
        ({"vector": ["a"]}, "invalid_vector"),
        ({"vector": []}, "invalid_vector"),
        ({"text": "a", "top": 0}, "invalid_top"),
        ({"text": "a", "created_before": 5}, "invalid_filter"),
    ],
)
def test_bad_vector_queries_get_coded_problems(
    world: World, body: dict[str, Any], code: str
) -> None:
    status, problem = vector_search(body)
    assert (status, problem["code"]) == (400, code)


def test_the_per_document_cap_leaves_later_chunks_text_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin: OpenAIStandIn
) -> None:
    capped = build_world(
        tmp_path,
        monkeypatch,
        embeddings=EmbeddingsSettings(standin.root_url, MODEL, DIMENSIONS, api_key=KEY),
        chunk_chars=200,
        chunk_overlap_chars=0,
        embeddings_max_chars_per_document=450,
    )
    text = " ".join(f"Sentence number {n} talks about the budget." for n in range(40))
    document_id = capped.process(text.encode(), "long.txt")
    capped.index(document_id)
    status = json.loads(
        call_http("get_search_status", "GET", "x", route_params={"id": document_id}).get_body()
    )
    assert status["chunks"] > 5
    assert 0 < status["embedded_chunks"] <= 2
    embedded = [text for r in standin.requests for text in r.body["input"]]
    assert len(embedded) == status["embedded_chunks"]
    assert sum(len(text) for text in embedded) <= 450
    # text search still reaches the chunks without vectors
    assert len(get({"q": "budget", "mode": "text", "top": "50"})[1]["items"]) == status["chunks"]
    capped.processing.platform.stores.close()
