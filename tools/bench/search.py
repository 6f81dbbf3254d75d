"""``make bench search``: the embedded search engine's indexing throughput and
query latency over chunks of the shared corpus's text files.

Indexing is measured without embeddings (text only), in documents of 20
chunks. Queries run at 10,000 and 100,000 chunks: text (BM25), vector (exact
k-NN over random 256-dimension vectors stored with every chunk) and hybrid
(both, fused), each through the query service (snippets and highlights
included), and, as the engine-limit reference, a raw FTS5 ``MATCH`` on the
same table with the same words, ordered by rank, same page size.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kernel.clock import utcnow
from kernel.storage.embedded.tables import EmbeddedTableStore
from search.chunking import TextLayout, chunk_spans
from search.embedded import DATABASE_NAME, EmbeddedSearchEngine, match_expression
from search.records import Chunk, Mode
from search.requests import Paging, TextSearch
from search.service import SearchService
from search.status import StatusRepository
from search.text import query_terms, words
from tools.bench.tables import print_table

DIMENSIONS = 256
SIZES = (10_000, 100_000)
CHUNKS_PER_DOCUMENT = 20
QUERIES = 200
TOP = 10


def corpus_passages(corpus: Path) -> list[str]:
    """1,000-character, 10%-overlap chunks of every text file in the corpus."""
    passages = []
    for path in sorted((corpus / "txt").glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        passages += [text[s.start : s.end] for s in chunk_spans(TextLayout(text), 1000, 100)]
    return passages


class _Embedder:
    """Random query vectors of the bench's dimensions (no provider is called)."""

    model = "random"
    dimensions = DIMENSIONS

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        return [tuple(self._rng.gauss(0, 1) for _ in range(DIMENSIONS)) for _ in texts]


def bench_search(corpus: Path) -> None:
    rng = random.Random(20261203)
    passages = corpus_passages(corpus)
    if not passages:
        print("search: no text files in the corpus")
        return
    vocabulary = sorted({m.group().lower() for p in passages[:2000] for m in words(p)})
    queries = [" ".join(rng.sample(vocabulary, 2)) for _ in range(QUERIES)]
    print(
        f"Search (embedded engine): {len(passages)} corpus passages of at most 1,000 chars, "
        f"cycled to {SIZES[-1]:,} chunks; {QUERIES} two-word queries, top {TOP}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        engine = EmbeddedSearchEngine(data_dir, dimensions=DIMENSIONS)
        engine.ensure_ready()
        statuses = StatusRepository(EmbeddedTableStore(data_dir), "searchstatus")
        service = SearchService(engine=engine, embedder=_Embedder(rng), statuses=statuses)
        indexed = 0
        rows = []
        throughput: list[list[object]] = []
        for size in SIZES:
            plain, with_vectors = _index(engine, passages, indexed, size, rng)
            throughput.append([f"{size - indexed:,}", plain[0], with_vectors[0]])
            indexed = size
            rows += _latencies(engine, service, data_dir, queries, size)
        print("indexing (chunks/s; a document's chunks replaced in one transaction)")
        print_table(["chunks added", "text only", "with 256-dim vectors"], throughput)
        print("query latency (ms)")
        print_table(["chunks", "query", "p50", "p95", "x raw FTS5 p50"], rows)
        engine.close()
    print("target: the API-level text query costs at most 2x the raw FTS5 MATCH")


def _index(
    engine: EmbeddedSearchEngine, passages: list[str], start: int, stop: int, rng: random.Random
) -> tuple[tuple[float], tuple[float]]:
    """Index chunks ``start..stop``: the first half text only, the second with vectors."""
    now = utcnow()
    half = start + (stop - start) // 2
    rates = []
    for low, high, vectors in ((start, half, False), (half, stop, True)):
        began = time.perf_counter()
        for first in range(low, high, CHUNKS_PER_DOCUMENT):
            document_id = f"{first // CHUNKS_PER_DOCUMENT:024x}"
            count = min(CHUNKS_PER_DOCUMENT, high - first)
            engine.replace_document(
                document_id,
                [
                    Chunk(
                        owner="bench",
                        document_id=document_id,
                        number=n,
                        content=passages[(first + n) % len(passages)],
                        start=0,
                        end=0,
                        filename="corpus.txt",
                        content_type="text/plain",
                        created_at=now,
                        vector=tuple(rng.gauss(0, 1) for _ in range(DIMENSIONS))
                        if vectors
                        else None,
                    )
                    for n in range(count)
                ],
            )
        rates.append((high - low) / (time.perf_counter() - began))
    return (rates[0],), (rates[1],)


def _latencies(
    engine: EmbeddedSearchEngine,
    service: SearchService,
    data_dir: Path,
    queries: list[str],
    size: int,
) -> list[list[object]]:
    raw = sqlite3.connect(data_dir / DATABASE_NAME)

    def fts(query: str) -> None:
        raw.execute(
            "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?"
            " ORDER BY bm25(chunks_fts) LIMIT ?",
            (match_expression(query_terms(query)), TOP + 1),
        ).fetchall()

    def api(mode: Mode) -> Callable[[str], None]:
        def run(query: str) -> None:
            request = TextSearch(query_terms(query), mode, paging=Paging(TOP, 0))
            service.search("bench", request)

        return run

    service.search("bench", TextSearch(("warm",), Mode.VECTOR))  # loads the vectors once
    reference = _measure(fts, queries)
    rows: list[list[object]] = [[f"{size:,}", "raw FTS5 MATCH", *reference, 1.0]]
    for mode in (Mode.TEXT, Mode.VECTOR, Mode.HYBRID):
        p50, p95 = _measure(api(mode), queries)
        rows.append([f"{size:,}", f"API {mode.value}", p50, p95, p50 / reference[0]])
    raw.close()
    del engine
    return rows


def _measure(run: Callable[[str], None], queries: list[str]) -> tuple[float, float]:
    times = []
    for query in queries:
        began = time.perf_counter()
        run(query)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]
