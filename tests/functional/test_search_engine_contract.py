"""The search engine contract, run over the embedded engine (SQLite FTS5 + numpy)
and over the Azure AI Search adapter against its loopback REST stand-in: text
ranking, owner scoping, filters (quotes included), vector and hybrid queries,
paging, idempotent replacement and deletion."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from search.azure_search import AzureSearchEngine
from search.embedded import EmbeddedSearchEngine
from search.ports import SearchEngine
from search.records import Chunk, EngineQuery, Filters, Mode
from tools.standins.search import SearchStandIn

KEY = "contract-admin-key"
DIMENSIONS = 4
FAST = {"retry_backoff_factor": 0.01, "retry_backoff_max": 0.05, "retry_total": 3}
DOC_A, DOC_B, DOC_C, DOC_D = (f"{n:024x}" for n in (0xA, 0xB, 0xC, 0xD))


def vector(angle: float) -> tuple[float, ...]:
    return (math.cos(angle), math.sin(angle), 0.0, 0.0)


def chunks_of(
    document_id: str,
    texts: list[str],
    *,
    owner: str = "alice",
    filename: str = "report.pdf",
    content_type: str = "application/pdf",
    created: datetime = datetime(2024, 1, 10, tzinfo=UTC),
    entity_types: tuple[str, ...] = (),
    angles: list[float] | None = None,
) -> list[Chunk]:
    return [
        Chunk(
            owner=owner,
            document_id=document_id,
            number=number,
            content=text,
            start=number * 100,
            end=number * 100 + len(text),
            filename=filename,
            content_type=content_type,
            created_at=created,
            page=number + 1,
            heading="Terms" if number else None,
            entity_types=entity_types,
            vector=vector(angles[number]) if angles else None,
        )
        for number, text in enumerate(texts)
    ]


@pytest.fixture(params=["embedded", "azure"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchEngine]:
    if request.param == "embedded":
        embedded = EmbeddedSearchEngine(tmp_path, dimensions=DIMENSIONS)
        embedded.ensure_ready()
        yield embedded
        embedded.close()
        return
    with SearchStandIn(api_key=KEY) as standin:
        azure = AzureSearchEngine(
            standin.endpoint, "documents", dimensions=DIMENSIONS, api_key=KEY, client_options=FAST
        )
        azure.ensure_ready()
        yield azure


@pytest.fixture
def corpus(engine: SearchEngine) -> SearchEngine:
    engine.replace_document(
        DOC_A,
        chunks_of(
            DOC_A,
            [
                "Contract renewal. The contract says the contract ends in May.",
                "Payment terms: thirty days after the invoice.",
            ],
            entity_types=("date", "money"),
            angles=[0.0, 0.2],
        ),
    )
    engine.replace_document(
        DOC_B,
        chunks_of(
            DOC_B,
            ["Notes on the supplier meeting and the contract."],
            filename="O'Brien notes.txt",
            content_type="text/plain",
            created=datetime(2024, 3, 1, tzinfo=UTC),
            entity_types=("email",),
            angles=[1.2],
        ),
    )
    engine.replace_document(
        DOC_C,
        chunks_of(
            DOC_C,
            ["The contract of Bob: contract, contract, contract."],
            owner="bob",
            angles=[0.0],
        ),
    )
    return engine


def ask(engine: SearchEngine, **fields: Any) -> list[tuple[str, int]]:
    query = EngineQuery(**{"owner": "alice", "mode": Mode.TEXT, **fields})
    return [(hit.chunk.document_id, hit.chunk.number) for hit in engine.search(query)]


def test_text_search_ranks_by_bm25_within_the_owner(corpus: SearchEngine) -> None:
    assert ask(corpus, terms=("contract",)) == [(DOC_A, 0), (DOC_B, 0)]
    assert ask(corpus, terms=("contract",), owner="bob") == [(DOC_C, 0)]
    assert ask(corpus, terms=("invoice", "nothing")) == [(DOC_A, 1)]
    assert ask(corpus, terms=("absent",)) == []


def test_hits_carry_the_chunk_as_indexed(corpus: SearchEngine) -> None:
    [hit] = corpus.search(EngineQuery("alice", Mode.TEXT, terms=("supplier",)))
    chunk = hit.chunk
    assert (chunk.filename, chunk.content_type, chunk.page, chunk.number) == (
        "O'Brien notes.txt",
        "text/plain",
        1,
        0,
    )
    assert chunk.content == "Notes on the supplier meeting and the contract."
    assert chunk.created_at == datetime(2024, 3, 1, tzinfo=UTC)
    assert chunk.entity_types == ("email",)
    assert hit.score > 0


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(content_type="text/plain"), [(DOC_B, 0)]),
        (Filters(filename="O'Brien notes.txt"), [(DOC_B, 0)]),
        (Filters(filename="O'Brien notes.txt' or owner eq 'bob"), []),
        (Filters(created_after=datetime(2024, 2, 1, tzinfo=UTC)), [(DOC_B, 0)]),
        (Filters(created_before=datetime(2024, 2, 1, tzinfo=UTC)), [(DOC_A, 0)]),
        (Filters(entity_type="money"), [(DOC_A, 0)]),
        (Filters(entity_type="email"), [(DOC_B, 0)]),
        (Filters(document_id=DOC_B), [(DOC_B, 0)]),
        (Filters(document_id=DOC_C), []),
    ],
)
def test_filters_narrow_the_owner_hits(
    corpus: SearchEngine, filters: Filters, expected: list[tuple[str, int]]
) -> None:
    assert ask(corpus, terms=("contract",), filters=filters) == expected


def test_vector_search_is_nearest_first_and_filtered_before_ranking(corpus: SearchEngine) -> None:
    near = vector(0.05)
    assert ask(corpus, mode=Mode.VECTOR, vector=near, top=3) == [
        (DOC_A, 0),
        (DOC_A, 1),
        (DOC_B, 0),
    ]
    # The nearest of the filtered chunks, not the nearest overall filtered out.
    text_plain = Filters(content_type="text/plain")
    assert ask(corpus, mode=Mode.VECTOR, vector=near, top=1, filters=text_plain) == [(DOC_B, 0)]
    # Bob's identical vector is never a neighbour of Alice's query.
    assert DOC_C not in {d for d, _ in ask(corpus, mode=Mode.VECTOR, vector=vector(0.0), top=10)}
    [hit] = corpus.search(EngineQuery("alice", Mode.VECTOR, vector=vector(0.0), top=1))
    assert hit.score == pytest.approx(1.0, abs=1e-4)  # 1 / (2 - cosine) at cosine 1


def test_hybrid_fuses_text_and_vector_rankings(corpus: SearchEngine) -> None:
    # "supplier" matches B by text only; the vector is nearest to A's chunks.
    hits = ask(corpus, mode=Mode.HYBRID, terms=("supplier",), vector=vector(1.2), top=3)
    assert hits[0] == (DOC_B, 0)  # first in both rankings
    assert set(hits) == {(DOC_B, 0), (DOC_A, 0), (DOC_A, 1)}
    scores = [
        hit.score
        for hit in corpus.search(
            EngineQuery("alice", Mode.HYBRID, terms=("supplier",), vector=vector(1.2), top=1)
        )
    ]
    assert scores == [pytest.approx(2 / 61)]  # rank 1 in both lists, k = 60


def test_paging_walks_the_ranking_without_overlap(engine: SearchEngine) -> None:
    engine.replace_document(DOC_D, chunks_of(DOC_D, [f"alpha {'beta ' * n}" for n in range(7)]))
    whole = ask(engine, terms=("alpha",), top=7)
    pages = [ask(engine, terms=("alpha",), top=3, skip=skip) for skip in (0, 3, 6)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [item for page in pages for item in page] == whole
    assert sorted(whole) == [(DOC_D, n) for n in range(7)]


def test_replacing_is_idempotent_and_drops_chunks_beyond_the_new_version(
    engine: SearchEngine,
) -> None:
    five = chunks_of(DOC_D, [f"version one part {n}" for n in range(5)])
    engine.replace_document(DOC_D, five)
    engine.replace_document(DOC_D, five)
    assert engine.count("alice") == 5
    engine.replace_document(DOC_D, chunks_of(DOC_D, ["version two", "version two again"]))
    assert engine.count("alice") == 2
    assert ask(engine, terms=("one",)) == []
    assert sorted(ask(engine, terms=("two",), top=5)) == [(DOC_D, 0), (DOC_D, 1)]


def test_deleting_a_document_removes_every_chunk_and_only_its_own(corpus: SearchEngine) -> None:
    assert corpus.delete_document(DOC_A) == 2
    assert ask(corpus, terms=("contract", "invoice")) == [(DOC_B, 0)]
    assert ask(corpus, mode=Mode.VECTOR, vector=vector(0.0)) == [(DOC_B, 0)]
    assert corpus.count("bob") == 1
    assert corpus.delete_document(DOC_A) == 0


def test_accented_words_match_whatever_their_case(engine: SearchEngine) -> None:
    engine.replace_document(DOC_D, chunks_of(DOC_D, ["Réunion du Comité à Genève"]))
    assert ask(engine, terms=("réunion",)) == [(DOC_D, 0)]
    assert ask(engine, terms=("RÉUNION".lower(),)) == [(DOC_D, 0)]
    assert ask(engine, terms=("genève", "comité")) == [(DOC_D, 0)]
