"""Search through the real decorated functions on the embedded store and engine:
a processed document is indexed from its completion event, found by its words
with page, snippet and highlights, narrowed by filters, scoped to its owner,
indexed once per redelivery, removed by document.deleted, rebuilt by a reindex
job; bad queries get coded problems; failures end in a recorded index status."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from kernel.events.catalog import DOCUMENT_COMPLETED, DOCUMENT_DELETED, DOCUMENT_UPLOADED
from kernel.identity import ROLES, Caller
from processing import runtime as processing_runtime
from processing.runtime import Services
from search import runtime as search_runtime
from search import triggers as search_triggers
from search.documents import DocumentSource, StoredDocument
from search.errors import SearchUnavailableError
from search.runtime import Search, build_search
from search.settings import SearchSettings
from tests.builders.pdfs import build_reportlab_pdf
from tests.functional.test_processing_functions import Context, call_http, user_function
from tests.support.app import RecordingPublisher, embedded_services
from tests.support.clock import START, FakeClock

PAGE_ONE = [
    "Quarterly report for ACME Ltd, issued on 14 March 2026.",
    "Revenue grew 12.5% to $1,250,000 compared with the previous quarter.",
]
PAGE_TWO = ["Questions about the dividend go to investor.relations@acme.example today."]


@dataclass
class World:
    processing: Services
    search: Search
    publisher: RecordingPublisher

    def deliver(self, function: str, event: dict[str, Any]) -> None:
        datum = meta.Datum(type="json", value=json.dumps(event))
        decoded = EventGridEventInConverter.decode(datum, trigger_metadata={})
        user_function(function)(event=decoded, context=Context())

    def process(self, data: bytes, filename: str) -> str:
        response = call_http(
            "upload_document", "POST", "documents", body=data, params={"filename": filename}
        )
        document_id = str(json.loads(response.get_body())["id"])
        [uploaded] = [
            e
            for e in self.publisher.of_type(DOCUMENT_UPLOADED)
            if e["data"]["document_id"] == document_id
        ]
        self.deliver("process_document", uploaded)
        return document_id

    def completion(self, document_id: str) -> dict[str, Any]:
        [event] = [
            e
            for e in self.publisher.of_type(DOCUMENT_COMPLETED)
            if e["data"]["document_id"] == document_id
        ]
        return event

    def index(self, document_id: str) -> None:
        self.deliver("index_document", self.completion(document_id))


def build_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> World:
    publisher = RecordingPublisher()
    processing = embedded_services(tmp_path, publisher, clock=FakeClock(START))
    search = build_search(SearchSettings(**settings), processing.platform)
    monkeypatch.setattr(processing_runtime, "services", lambda: processing)
    monkeypatch.setattr(search_runtime, "search", lambda: search)
    return World(processing, search, publisher)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    built = build_world(tmp_path, monkeypatch)
    yield built
    built.processing.platform.stores.close()


@pytest.fixture
def report(world: World) -> str:
    document_id = world.process(build_reportlab_pdf([PAGE_ONE, PAGE_TWO]), "q1-report.pdf")
    world.index(document_id)
    return document_id


def get(params: dict[str, str], **headers: str) -> tuple[int, dict[str, Any]]:
    response = call_http("search_documents", "GET", "search", params=params, headers=headers)
    return response.status_code, json.loads(response.get_body())


def test_a_processed_pdf_is_found_by_its_words_with_page_snippet_and_highlights(
    world: World, report: str
) -> None:
    status, page = get({"q": "dividend"})
    assert status == 200
    assert page["mode"] == "text"
    [hit] = page["items"]
    assert (hit["document_id"], hit["filename"], hit["page"]) == (report, "q1-report.pdf", 2)
    assert hit["content_type"] == "application/pdf"
    [span] = hit["highlights"]
    assert hit["snippet"][span["start"] : span["end"]] == "dividend"
    assert hit["links"] == {
        "document": f"/api/documents/{report}",
        "result": f"/api/documents/{report}/result",
    }
    result = json.loads(world.processing.result_bytes(f"{report}.json"))
    text_span = hit["text_span"]
    assert result["text"][text_span["start"] : text_span["end"]] == hit["snippet"]
    [first] = get({"q": "REVENUE quarter"})[1]["items"]
    assert first["page"] == 1
    marked = {first["snippet"][h["start"] : h["end"]].lower() for h in first["highlights"]}
    assert marked == {"revenue", "quarter"}


def test_filters_narrow_the_hits(world: World, report: str) -> None:
    memo = world.process(b"A memo about the dividend policy, no money figures.", "memo.txt")
    world.index(memo)
    both = {h["document_id"] for h in get({"q": "dividend"})[1]["items"]}
    assert both == {report, memo}
    for params, expected in [
        ({"content_type": "text/plain"}, {memo}),
        ({"filename": "q1-report.pdf"}, {report}),
        ({"entity_type": "email"}, {report}),
        ({"document_id": memo}, {memo}),
        ({"created_after": "2000-01-01T00:00:00Z"}, {report, memo}),
        ({"created_before": "2000-01-01"}, set()),
    ]:
        found = {h["document_id"] for h in get({"q": "dividend", **params})[1]["items"]}
        assert found == expected, params


def test_another_owners_documents_never_appear(
    world: World, report: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record that names its owner (as identity will write them) is indexed as that
    owner's; each caller sees only their own hits, in every mode of the engine."""
    tables = world.processing.platform.stores.tables
    bobs = world.process(b"Bob's dividend forecast for the board.", "bob.txt")
    row = tables.get("documents", "doc", bobs)
    tables.upsert("documents", {**{k: v for k, v in row.items() if k != "etag"}, "owner": "bob"})
    world.index(bobs)
    assert {h["document_id"] for h in get({"q": "dividend"})[1]["items"]} == {report}
    monkeypatch.setattr(search_triggers, "authorize", lambda headers, role: Caller("bob", ROLES))
    assert {h["document_id"] for h in get({"q": "dividend"})[1]["items"]} == {bobs}
    status = call_http("get_search_status", "GET", "x", route_params={"id": report})
    assert status.status_code == 404
    for unknown in ("f" * 24, "not an id", "x'\u00e9/../"):
        missing = call_http("get_search_status", "GET", "x", route_params={"id": unknown})
        assert (missing.status_code, json.loads(missing.get_body())["code"]) == (404, "not_found")


def test_redelivery_writes_the_same_rows_once_indexed(world: World, report: str) -> None:
    engine = world.search.engine
    before = engine.count("local")
    world.index(report)
    world.index(report)
    assert engine.count("local") == before > 0
    response = call_http("get_search_status", "GET", "x", route_params={"id": report})
    status = json.loads(response.get_body())
    assert status["index_status"] == "indexed"
    assert status["chunks"] == before
    assert status["embedded_chunks"] == 0


def test_document_deleted_removes_its_chunks_and_status(world: World, report: str) -> None:
    world.deliver(
        "index_document",
        {
            "specversion": "1.0",
            "id": "del-1",
            "source": "/docflow/documents",
            "type": DOCUMENT_DELETED,
            "subject": f"documents/{report}",
            "data": {"document_id": report},
        },
    )
    assert get({"q": "dividend"})[1]["items"] == []
    assert world.search.engine.count("local") == 0
    status = call_http("get_search_status", "GET", "x", route_params={"id": report})
    assert status.status_code == 404


def test_paging_with_skip_and_the_next_link(world: World) -> None:
    for number in range(3):
        world.index(world.process(f"Budget note number {number}.".encode(), f"n{number}.txt"))
    first = get({"q": "budget", "top": "2"})[1]
    assert len(first["items"]) == 2
    assert first["next"] == "/api/search?q=budget&top=2&skip=2"
    second = get({"q": "budget", "top": "2", "skip": "2"})[1]
    assert len(second["items"]) == 1 and second["next"] is None
    seen = {h["document_id"] for h in first["items"] + second["items"]}
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "empty_query"),
        ({"q": "   "}, "empty_query"),
        ({"q": "*** ---"}, "empty_query"),
        ({"q": "x" * 501}, "query_too_long"),
        ({"q": "a", "top": "51"}, "invalid_top"),
        ({"q": "a", "top": "ten"}, "invalid_top"),
        ({"q": "a", "skip": "-1"}, "invalid_skip"),
        ({"q": "a", "mode": "fuzzy"}, "invalid_mode"),
        ({"q": "a", "created_after": "yesterday"}, "invalid_filter"),
        (
            {"q": "a", "created_after": "2024-02-01", "created_before": "2024-01-01"},
            "invalid_filter",
        ),
        ({"q": "a", "document_id": "../etc"}, "invalid_filter"),
        ({"q": "a", "entity_type": "a b"}, "invalid_filter"),
    ],
)
def test_bad_queries_get_coded_problems(world: World, params: dict[str, str], code: str) -> None:
    response = call_http("search_documents", "GET", "search", params=params)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert json.loads(response.get_body())["code"] == code


def test_query_syntax_is_never_interpreted(world: World, report: str) -> None:
    """Operators, quotes and field syntax are just separators between words."""
    for q in ['dividend OR "', "content:dividend", "dividend*", "(dividend) AND NOT", '"dividend"']:
        status, page = get({"q": q})
        assert status == 200, q
        assert [h["document_id"] for h in page["items"]] == [report], q


def test_vector_search_without_embeddings_is_501(world: World, report: str) -> None:
    response = call_http("search_vectors", "POST", "search/vector", body=b'{"text": "dividend"}')
    assert response.status_code == 501
    assert json.loads(response.get_body())["code"] == "embeddings_not_configured"
    vector = call_http("search_documents", "GET", "search", params={"q": "a", "mode": "vector"})
    assert json.loads(vector.get_body())["code"] == "embeddings_not_configured"
    # hybrid asked for falls back to text, and says so
    assert get({"q": "dividend", "mode": "hybrid"})[1]["mode"] == "text"


class FailingEngine:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return getattr(self.inner, name)  # type: ignore[no-any-return]

    def replace_document(self, document_id: str, chunks: Any) -> None:
        raise SearchUnavailableError("the engine is down")


def test_a_transient_failure_is_recorded_and_raised_for_redelivery(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = world.process(b"Retry me about the dividend.", "retry.txt")
    failing = build_search(
        SearchSettings(),
        world.processing.platform,
        engine=FailingEngine(world.search.engine),  # type: ignore[arg-type]
    )
    monkeypatch.setattr(search_runtime, "search", lambda: failing)
    with pytest.raises(SearchUnavailableError):
        world.index(document_id)
    status = call_http("get_search_status", "GET", "x", route_params={"id": document_id})
    body = json.loads(status.get_body())
    assert (body["index_status"], body["error"]["code"]) == (
        "indexing_failed",
        "search_unavailable",
    )
    monkeypatch.setattr(search_runtime, "search", lambda: world.search)
    world.index(document_id)  # the redelivery
    status = call_http("get_search_status", "GET", "x", route_params={"id": document_id})
    assert json.loads(status.get_body())["index_status"] == "indexed"


def stored(world: World, document_id: str) -> StoredDocument:
    stores = world.processing.platform.stores
    source = DocumentSource(
        stores.tables, stores.blobs, table="documents", results_container="results"
    )
    return source.get(document_id)


class HalfWritingEngine(FailingEngine):
    """Writes the first chunk, then fails: an engine without transactions mid-batch."""

    def replace_document(self, document_id: str, chunks: Any) -> None:
        self.inner.replace_document(document_id, list(chunks)[:1])
        raise SearchUnavailableError("throttled after the first batch")


def test_a_write_that_fails_part_way_leaves_no_half_document_visible(
    world: World, report: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(get({"q": "dividend revenue"})[1]["items"]) == 2  # both pages, indexed whole
    half = build_search(
        SearchSettings(),
        world.processing.platform,
        engine=HalfWritingEngine(world.search.engine),  # type: ignore[arg-type]
    )
    monkeypatch.setattr(search_runtime, "search", lambda: half)
    with pytest.raises(SearchUnavailableError):
        half.indexer.index(stored(world, report), force=True)
    assert get({"q": "dividend revenue"})[1]["items"] == []
    status = call_http("get_search_status", "GET", "x", route_params={"id": report})
    assert json.loads(status.get_body())["index_status"] == "indexing_failed"


def test_an_unreadable_result_is_recorded_as_failed_and_not_retried(world: World) -> None:
    document_id = world.process(b"A result that will be damaged.", "bad.txt")
    world.processing.platform.stores.blobs.put("results", f"{document_id}.json", b"{not json")
    world.index(document_id)  # returns: Event Grid must not redeliver
    status = call_http("get_search_status", "GET", "x", route_params={"id": document_id})
    body = json.loads(status.get_body())
    assert (body["index_status"], body["error"]["code"]) == (
        "indexing_failed",
        "unindexable_result",
    )


def test_reindex_rebuilds_the_callers_documents_with_progress(
    world: World, report: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.search.engine.delete_document(report)
    assert get({"q": "dividend"})[1]["items"] == []
    started = call_http("start_reindex", "POST", "search/reindex")
    assert started.status_code == 202
    job = json.loads(started.get_body())
    assert started.headers["Location"] == f"/api/search/reindex/{job['id']}"
    queues = world.processing.platform.stores.queues
    while messages := queues.receive("search-reindex"):
        for message in messages:
            user_function("reindex_documents")(
                message=func.QueueMessage(id=message.id, body=message.content.encode()),
                context=Context(),
            )
            queues.delete("search-reindex", message)
    progress = call_http("get_reindex", "GET", "x", route_params={"id": job["id"]})
    assert json.loads(progress.get_body())["status"] == "completed"
    assert json.loads(progress.get_body())["indexed"] == 1
    assert [h["document_id"] for h in get({"q": "dividend"})[1]["items"]] == [report]
    monkeypatch.setattr(search_triggers, "authorize", lambda headers, role: Caller("bob", ROLES))
    theirs = call_http("get_reindex", "GET", "x", route_params={"id": job["id"]})
    assert theirs.status_code == 404


def test_an_event_without_a_document_id_is_acknowledged_not_retried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    for data in ({"status": "completed"}, {"document_id": "../x'"}, {"document_id": 7}):
        caplog.clear()
        with caplog.at_level("WARNING", logger="search.triggers"):
            world.deliver(
                "index_document",
                {
                    "specversion": "1.0",
                    "id": "bad-1",
                    "source": "/docflow/documents",
                    "type": DOCUMENT_COMPLETED,
                    "subject": "documents/x",
                    "data": data,
                },
            )
        assert "event.rejected" in [r.getMessage() for r in caplog.records], data


def test_a_reindex_step_failing_on_its_last_try_ends_the_job_failed(
    world: World, report: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = build_search(
        SearchSettings(),
        world.processing.platform,
        engine=FailingEngine(world.search.engine),  # type: ignore[arg-type]
    )
    monkeypatch.setattr(search_runtime, "search", lambda: failing)
    job = json.loads(call_http("start_reindex", "POST", "search/reindex").get_body())
    [message] = world.processing.platform.stores.queues.receive("search-reindex")

    def step(dequeue_count: int) -> None:
        from azure.functions.queue import QueueMessageInConverter

        from kernel.storage.ports import QueueMessage
        from tools.devhost.queuetrigger import trigger_metadata

        received = QueueMessage(message.id, message.pop_receipt, message.content, dequeue_count)
        decoded = QueueMessageInConverter.decode(
            meta.Datum(type="string", value=message.content),
            trigger_metadata=trigger_metadata(received, 30),
        )
        user_function("reindex_documents")(message=decoded, context=Context())

    with pytest.raises(SearchUnavailableError):
        step(1)  # retried by the queue
    running = json.loads(
        call_http("get_reindex", "GET", "x", route_params={"id": job["id"]}).get_body()
    )
    assert running["status"] == "running"
    step(5)  # the last try: the job ends
    ended = json.loads(
        call_http("get_reindex", "GET", "x", route_params={"id": job["id"]}).get_body()
    )
    assert (ended["status"], ended["error_code"]) == ("failed", "search_unavailable")


def test_the_reindex_command_rebuilds_every_owners_documents(world: World, report: str) -> None:
    import io

    from search.__main__ import reindex

    world.search.engine.delete_document(report)
    out = io.StringIO()
    assert reindex(world.search, out=out) == (1, 0)
    assert out.getvalue() == "reindex: 1 indexed, 0 failed\n"
    assert [h["document_id"] for h in get({"q": "dividend"})[1]["items"]] == [report]


def test_with_real_tokens_another_owner_finds_nothing_of_alices(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AUTH_MODE=jwt with a loopback issuer's RS256 tokens: Alice's processed
    document is found by Alice; Bob's search finds nothing of it in any mode
    and its index status is 404 for him, as for an unknown id."""
    from kernel.identity import reset
    from tests.support.issuer import AUDIENCE, serving_issuer

    with serving_issuer() as issuer:
        monkeypatch.setenv("AUTH_MODE", "jwt")
        monkeypatch.setenv("AUTH_ISSUER", issuer.issuer)
        monkeypatch.setenv("AUTH_AUDIENCE", AUDIENCE)
        reset()
        alice = {"Authorization": f"Bearer {issuer.token(tenant='t-a', oid='alice')}"}
        bob = {"Authorization": f"Bearer {issuer.token(tenant='t-b', oid='bob')}"}
        response = call_http(
            "upload_document",
            "POST",
            "documents",
            body=b"Alice's confidential dividend forecast for the board.",
            params={"filename": "forecast.txt"},
            headers=alice,
        )
        assert response.status_code == 202, response.get_body()
        document_id = json.loads(response.get_body())["id"]
        [uploaded] = world.publisher.of_type(DOCUMENT_UPLOADED)
        world.deliver("process_document", uploaded)
        world.index(document_id)

        assert [h["document_id"] for h in get({"q": "dividend"}, **alice)[1]["items"]] == [
            document_id
        ]
        for mode in ("text", "hybrid"):
            status, page = get({"q": "dividend forecast", "mode": mode}, **bob)
            assert (status, page["items"]) == (200, []), mode
        missing = call_http(
            "get_search_status", "GET", "x", route_params={"id": document_id}, headers=bob
        )
        assert missing.status_code == 404
        assert get({"q": "dividend"})[0] == 401
    reset()
