"""The whole app through the local host, on the embedded store and on Azurite:
upload, blob drop, duplicate deliveries and a host killed mid-processing."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kernel.events.catalog import DOCUMENT_COMPLETED, DOCUMENT_UPLOADED
from kernel.settings import StorageSettings
from kernel.storage.factory import create_stores
from tests.azurite import Azurite
from tests.builders.pdfs import build_reportlab_pdf
from tests.e2e.apphost import ROOT, TOPIC_KEY, AppHost, wait_for

pytestmark = pytest.mark.e2e

RESULT_SCHEMA = json.loads((ROOT / "processing/extraction/schema/result.schema.json").read_text())
DOCUMENT_TEXT = [
    "Quarterly report for ACME Ltd, issued on 14 March 2026.",
    "Revenue grew 12.5% to $1,250,000 compared with the previous quarter.",
    "Questions go to investor.relations@acme.example or +1 212 555 0100.",
]


@pytest.fixture(params=["embedded", "azurite"])
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings that put the app on one storage backend, isolated per test."""
    if request.param == "embedded":
        return {}
    azurite: Azurite = request.getfixturevalue("azurite")
    suffix = uuid.uuid4().hex[:8]
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "DOCUMENTS_TABLE": f"documents{suffix}",
        "UPLOADS_CONTAINER": f"uploads-{suffix}",
        "INBOX_CONTAINER": f"inbox-{suffix}",
        "RESULTS_CONTAINER": f"results-{suffix}",
        "WEBHOOK_QUEUE": f"deliveries-{suffix}",
    }


@pytest.fixture
def host(tmp_path: Path, backend: dict[str, str]) -> Iterator[AppHost]:
    app_host = AppHost(tmp_path / "data", env=backend).start()
    yield app_host
    app_host.stop()


def completions_for(host: AppHost, document_id: str) -> list[dict[str, Any]]:
    return [
        e for e in host.events(DOCUMENT_COMPLETED) if e["subject"] == f"documents/{document_id}"
    ]


def test_upload_completes_with_result_and_one_completion_event(host: AppHost) -> None:
    pdf = build_reportlab_pdf([DOCUMENT_TEXT, ["Second page of the report."]], title="Q1")
    record = host.upload(pdf, "q1-report.pdf")
    assert record["status"] == "queued"

    done = host.wait_for_status(record["id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    assert done["content_type"] == "application/pdf"

    result = host.get_json(f"/api/documents/{record['id']}/result")
    jsonschema.validate(result, RESULT_SCHEMA)
    assert result["document"]["filename"] == "q1-report.pdf"
    assert result["metadata"]["title"] == "Q1"
    assert [p["number"] for p in result["pages"]] == [1, 2]
    assert {"date", "percent", "money", "email"} <= {e["type"] for e in result["entities"]}

    [event] = wait_for(lambda: completions_for(host, record["id"]), 10, host=host)
    assert event["data"]["result_url"].endswith(f"/api/documents/{record['id']}/result")
    assert event["traceparent"].split("-")[1] == record_trace_id(host, record["id"])


def record_trace_id(host: AppHost, document_id: str) -> str:
    """The trace id the upload started, as carried by its document.uploaded event."""
    [uploaded] = [
        e for e in host.events(DOCUMENT_UPLOADED) if e["data"]["document_id"] == document_id
    ]
    return str(uploaded["traceparent"].split("-")[1])


def test_result_of_an_unfinished_or_unknown_document_is_a_problem(host: AppHost) -> None:
    status, headers, body = host.request("GET", "/api/documents/ffffffffffffffffffffffff/result")
    assert status == 404
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "not_found"


def test_bad_uploads_get_coded_problems(host: AppHost) -> None:
    for body, status, code in [
        (b"", 400, "empty"),
        (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, 415, "unsupported_type"),
    ]:
        got, headers, payload = host.request("POST", "/api/documents?filename=x.pdf", body=body)
        assert got == status
        assert headers["content-type"].startswith("application/problem+json")
        assert json.loads(payload)["code"] == code


def test_dropped_blob_is_processed_once(host: AppHost, backend: dict[str, str]) -> None:
    inbox = backend.get("INBOX_CONTAINER", "inbox")
    stores = create_stores(
        StorageSettings(
            connection_string=backend.get("AzureWebJobsStorage"), data_dir=host.data_dir
        )
    )
    stores.blobs.put(inbox, "drops/memo.txt", "\n".join(DOCUMENT_TEXT).encode())

    def completed_blob_documents() -> list[dict[str, Any]]:
        items = host.get_json("/api/documents")["items"]
        return [d for d in items if d["source"] == "blob" and d["status"] == "completed"]

    [document] = wait_for(completed_blob_documents, 60, host=host)
    assert document["filename"] == "memo.txt"
    # A few more watcher polls find nothing new.
    wait_for(lambda: len(completions_for(host, document["id"])) == 1, 10, host=host)
    host.wait_for_blob_polls(3)
    host.wait_for_quiet_deliveries()
    assert len(host.get_json("/api/documents")["items"]) == 1
    assert len(completions_for(host, document["id"])) == 1
    stores.close()


def test_the_same_upload_event_delivered_three_times_gives_one_result_and_event(
    host: AppHost,
) -> None:
    from azure.core.credentials import AzureKeyCredential
    from azure.core.messaging import CloudEvent
    from azure.eventgrid import EventGridPublisherClient

    record = host.upload(b"A short memo about the 14 March 2026 board meeting.", "memo.txt")
    host.wait_for_status(record["id"], {"completed"})
    [original] = [
        e for e in host.events(DOCUMENT_UPLOADED) if e["data"]["document_id"] == record["id"]
    ]
    client = EventGridPublisherClient(
        f"{host.base_url}/devhost/eventgrid/api/events", AzureKeyCredential(TOPIC_KEY)
    )
    duplicate = CloudEvent(
        source=original["source"],
        type=original["type"],
        subject=original["subject"],
        data=original["data"],
        id=original["id"],
    )
    client.send([duplicate])
    client.send([duplicate])
    wait_for(
        lambda: len([e for e in host.events(DOCUMENT_UPLOADED) if e["id"] == original["id"]]) == 3,
        10,
        host=host,
    )

    def processor_deliveries() -> list[dict[str, Any]]:
        return [
            d
            for d in host.get_json("/devhost/deliveries")
            if d["eventId"] == original["id"] and d["function"] == "process_document"
        ]

    # All three copies reach the processor and succeed; only the first did work.
    wait_for(lambda: [d["state"] for d in processor_deliveries()] == ["done"] * 3, 30, host=host)
    assert len(completions_for(host, record["id"])) == 1
    status = host.get_json(f"/api/documents/{record['id']}")
    assert status["status"] == "completed"


def test_host_killed_mid_processing_still_completes_after_restart(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    # A short lease, so the restarted host may take over the dead worker's claim soon.
    env = {**backend, "PROCESSING_LEASE_SECONDS": "2", "PROCESSING_HEARTBEAT_SECONDS": "1"}
    host = AppHost(tmp_path / "data", env=env).start()
    try:
        words = random.Random(3).choices(
            ["alpha", "budget", "contract", "delivery", "estimate", "figure", "growth"], k=600_000
        )
        text = " ".join(
            " ".join(words[i : i + 12]).capitalize() + "." for i in range(0, len(words), 12)
        )
        record = host.upload(text.encode(), "long.txt")
        host.wait_for_status(record["id"], {"processing"}, timeout=30)
        host.kill()

        host.start()
        done = host.wait_for_status(record["id"], {"completed", "failed"}, timeout=120)
        assert done["status"] == "completed", done
        wait_for(lambda: len(completions_for(host, record["id"])) == 1, 10, host=host)
    finally:
        host.stop()


def _stored(host: AppHost, backend: dict[str, str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Every blob (``container/name``) and every documents-table row the app's
    storage holds: on Azurite listed with the SDK itself, container by container
    and row by row; on the embedded store through its ports."""
    table = backend.get("DOCUMENTS_TABLE", "documents")
    containers = [
        backend.get(name, default)
        for name, default in (
            ("UPLOADS_CONTAINER", "uploads"),
            ("RESULTS_CONTAINER", "results"),
            ("INBOX_CONTAINER", "inbox"),
        )
    ]
    if "AzureWebJobsStorage" in backend:
        from azure.data.tables import TableServiceClient
        from azure.storage.blob import BlobServiceClient

        connection = backend["AzureWebJobsStorage"]
        blobs = BlobServiceClient.from_connection_string(connection)
        names = [
            f"{c.name}/{b.name}"
            for c in blobs.list_containers()
            if c.name in containers
            for b in blobs.get_container_client(c.name).list_blobs()
        ]
        tables = TableServiceClient.from_connection_string(connection)
        rows = [dict(e) for e in tables.get_table_client(table).list_entities()]
        return names, rows
    stores = create_stores(StorageSettings(data_dir=host.data_dir))
    try:
        names = [f"{c}/{b.name}" for c in containers for b in stores.blobs.list(c)]
        rows = [
            row
            for partition in ("doc", "blob", "cache", "owners")
            for row in stores.tables.query(table, partition)
        ]
    finally:
        stores.close()
    return names, rows


def test_delete_removes_every_stored_byte_of_the_document(
    host: AppHost, backend: dict[str, str]
) -> None:
    """Two uploads of the same bytes (the second reuses the first's parse):
    deleting the first leaves the second whole; deleting the second leaves no
    blob and no row naming either (only the owner's document count, now 0),
    and each delete publishes ``document.deleted``; a second delete is a 204 too."""
    data = "\n".join(DOCUMENT_TEXT).encode()
    first = host.upload(data, "memo.txt")["id"]
    assert host.wait_for_status(first, {"completed"})["status"] == "completed"
    second = host.upload(data, "copy.txt")["id"]
    assert host.wait_for_status(second, {"completed"})["status"] == "completed"

    assert host.request("DELETE", f"/api/documents/{first}")[0] == 204
    assert host.request("GET", f"/api/documents/{first}")[0] == 404
    kept = host.get_json(f"/api/documents/{second}/result")
    assert kept["document"]["filename"] == "copy.txt"
    names, rows = _stored(host, backend)
    assert not [n for n in names if first in n]
    assert [r for r in rows if first in json.dumps(r, default=str)] == []

    assert host.request("DELETE", f"/api/documents/{second}")[0] == 204
    assert host.request("DELETE", f"/api/documents/{second}")[0] == 204
    names, rows = _stored(host, backend)
    assert names == []
    assert [(r["PartitionKey"], r["RowKey"], r["documents"]) for r in rows] == [
        ("owners", "local", 0)
    ]
    deleted = [e["subject"] for e in host.events("document.deleted")]
    assert deleted == [f"documents/{first}", f"documents/{second}"]
