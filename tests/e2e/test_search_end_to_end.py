"""Search on the local host (``python -m tools.devhost``, as ``make run``): uploaded
PDF, DOCX and TXT documents are found by their words with the right page, heading
and highlights, filters narrow the hits, a deleted document leaves the index,
another owner's document never appears, and vector and hybrid queries work
through a loopback OpenAI-compatible embeddings server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from kernel.events.catalog import DOCUMENT_COMPLETED, DOCUMENT_DELETED
from kernel.settings import StorageSettings
from kernel.storage.factory import create_stores
from tests.builders.pdfs import build_reportlab_pdf
from tests.e2e.apphost import TOPIC_KEY, AppHost, wait_for
from tools.standins.openai_api import OpenAIStandIn

pytestmark = pytest.mark.e2e

MODEL = "text-embedding-3-small"


def build_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Payment terms", level=1)
    document.add_paragraph("Invoices are settled within thirty days by bank transfer.")
    document.add_heading("Warranty", level=1)
    document.add_paragraph("The warranty covers manufacturing defects for two years.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def embeddings() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as server:
        yield server


@pytest.fixture
def host(tmp_path: Path, embeddings: OpenAIStandIn) -> Iterator[AppHost]:
    app_host = AppHost(
        tmp_path / "data",
        env={
            "EMBEDDINGS_ENDPOINT": embeddings.root_url,
            "EMBEDDINGS_MODEL": MODEL,
            "EMBEDDINGS_DIMENSIONS": "128",
            "EMBEDDINGS_API_KEY": "local-key",
        },
    ).start()
    yield app_host
    app_host.stop()


def search(host: AppHost, **params: str) -> dict[str, Any]:
    return host.get_json(f"/api/search?{urlencode(params)}")  # type: ignore[no-any-return]


def indexed(host: AppHost, data: bytes, filename: str) -> str:
    document_id = str(host.upload(data, filename)["id"])
    done = host.wait_for_status(document_id, {"completed", "failed"})
    assert done["status"] == "completed", done
    wait_for(
        lambda: (
            (host.try_get(f"/api/search/documents/{document_id}") or {}).get("index_status")
            == "indexed"
        ),
        20,
        host=host,
    )
    return document_id


def publish(host: AppHost, event_type: str, data: dict[str, Any]) -> None:
    from azure.core.credentials import AzureKeyCredential
    from azure.core.messaging import CloudEvent
    from azure.eventgrid import EventGridPublisherClient

    client = EventGridPublisherClient(
        f"{host.base_url}/devhost/eventgrid/api/events", AzureKeyCredential(TOPIC_KEY)
    )
    client.send(
        [
            CloudEvent(
                source="/docflow/documents",
                type=event_type,
                subject=f"documents/{data['document_id']}",
                data=data,
            )
        ]
    )


def marked(hit: dict[str, Any]) -> set[str]:
    return {hit["snippet"][h["start"] : h["end"]].lower() for h in hit["highlights"]}


def test_search_on_the_local_host(host: AppHost, embeddings: OpenAIStandIn) -> None:
    pdf = indexed(
        host,
        build_reportlab_pdf(
            [["Quarterly report of ACME Ltd."], ["The dividend rises to 40 cents per share."]]
        ),
        "report.pdf",
    )
    docx_id = indexed(host, build_docx(), "contract.docx")
    txt = indexed(host, b"Minutes: the garden committee planted roses and tulips.", "minutes.txt")

    # words from each document find it, with page, heading and highlights in the snippet
    [hit] = search(host, q="dividend", mode="text")["items"]
    assert (hit["document_id"], hit["page"]) == (pdf, 2)
    assert marked(hit) == {"dividend"}
    [hit] = search(host, q="warranty defects", mode="text")["items"]
    assert (hit["document_id"], hit["filename"]) == (docx_id, "contract.docx")
    assert hit["heading"] in {"Payment terms", "Warranty"}
    assert marked(hit) >= {"defects"}
    [hit] = search(host, q="tulips", mode="text")["items"]
    assert (hit["document_id"], hit["page"]) == (txt, None)

    # filters narrow the hits
    assert {h["document_id"] for h in search(host, q="the", mode="text")["items"]} == {
        pdf,
        docx_id,
        txt,
    }
    plain = search(host, q="the", mode="text", content_type="text/plain")["items"]
    assert {h["document_id"] for h in plain} == {txt}

    # hybrid is the default with embeddings; vector search embeds through the stand-in
    page = search(host, q="roses garden")
    assert page["mode"] == "hybrid" and page["items"][0]["document_id"] == txt
    status, _, body = host.request(
        "POST", "/api/search/vector", body=json.dumps({"text": "garden roses", "top": 1}).encode()
    )
    assert status == 200
    assert [h["document_id"] for h in json.loads(body)["items"]] == [txt]
    assert any(r.path == "/openai/v1/embeddings" for r in embeddings.requests)

    # a deleted document leaves the index
    publish(host, DOCUMENT_DELETED, {"document_id": txt})
    wait_for(lambda: not search(host, q="tulips", mode="text")["items"], 20, host=host)
    assert host.try_get(f"/api/search/documents/{txt}") is None


def test_another_owners_document_never_appears(host: AppHost) -> None:
    """A document whose record names another owner (as identity will write them) is
    indexed as theirs, and the local caller never sees it."""
    mine = indexed(host, b"Local notes on the harbour project.", "mine.txt")
    theirs = indexed(host, b"Bob's notes on the harbour project.", "theirs.txt")
    stores = create_stores(StorageSettings(data_dir=host.data_dir))
    row = stores.tables.get("documents", "doc", theirs)
    stores.tables.upsert(
        "documents", {**{k: v for k, v in row.items() if k != "etag"}, "owner": "bob"}
    )
    stores.tables.delete("searchstatus", "doc", theirs)  # as if never indexed
    [completed] = [e for e in host.events(DOCUMENT_COMPLETED) if e["data"]["document_id"] == theirs]
    publish(host, DOCUMENT_COMPLETED, completed["data"])
    wait_for(
        lambda: (
            [h["document_id"] for h in search(host, q="harbour", mode="text")["items"]] == [mine]
        ),
        20,
        host=host,
    )
    for mode in ("text", "hybrid"):
        assert [
            h["document_id"] for h in search(host, q="harbour project", mode=mode)["items"]
        ] == [mine]
    assert host.try_get(f"/api/search/documents/{theirs}") is None
    stores.close()
