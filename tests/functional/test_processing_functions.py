"""The real decorated processing functions, found through the app's own index and
called with ``func.HttpRequest`` / ``func.EventGridEvent`` as the worker calls them."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

import function_app
from kernel.events.catalog import DOCUMENT_COMPLETED, DOCUMENT_UPLOADED
from processing import runtime
from processing.runtime import Services
from tests.builders.pdfs import build_reportlab_pdf
from tests.support.app import RecordingPublisher, embedded_services
from tests.support.clock import START, FakeClock
from tools.devhost.functions import app_functions


class Context:
    """What the worker passes as ``context``."""

    invocation_id = "11111111-2222-3333-4444-555555555555"
    function_name = "test"
    trace_context = None


def user_function(name: str) -> Callable[..., Any]:
    [function] = [f for f in app_functions(function_app.app) if f.get_function_name() == name]
    return function.get_user_function()  # type: ignore[no-any-return]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> Iterator[Services]:
    built = embedded_services(tmp_path, RecordingPublisher(), clock=clock)
    monkeypatch.setattr(runtime, "services", lambda: built)
    yield built
    built.platform.stores.close()


def call_http(
    name: str,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    params: dict[str, str] | None = None,
    route_params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> func.HttpResponse:
    request = func.HttpRequest(
        method=method,
        url=f"http://localhost/api/{path}",
        headers=headers or {},
        params=params or {},
        route_params=route_params or {},
        body=body,
    )
    function = user_function(name)
    # As the worker does: context only for functions that declare it.
    extra = {"context": Context()} if "context" in inspect.signature(function).parameters else {}
    response: func.HttpResponse = function(req=request, **extra)
    return response


def deliver(event: dict[str, Any]) -> None:
    datum = meta.Datum(type="json", value=json.dumps(event))
    decoded = EventGridEventInConverter.decode(datum, trigger_metadata={})
    user_function("process_document")(event=decoded, context=Context())


def test_upload_process_and_fetch_through_the_decorated_functions(services: Services) -> None:
    publisher: RecordingPublisher = services.processor._publisher  # type: ignore[assignment]
    pdf = build_reportlab_pdf([["Invoice of 14 March 2026 for $120.00."]])
    response = call_http(
        "upload_document", "POST", "documents", body=pdf, params={"filename": "invoice.pdf"}
    )
    assert response.status_code == 202
    created = json.loads(response.get_body())
    assert response.headers["Location"] == f"/api/documents/{created['id']}"

    not_yet = call_http("get_document_result", "GET", "x", route_params={"id": created["id"]})
    assert not_yet.status_code == 409
    assert json.loads(not_yet.get_body())["code"] == "not_finished"

    [uploaded] = publisher.of_type(DOCUMENT_UPLOADED)
    deliver(uploaded)

    status = json.loads(
        call_http("get_document", "GET", "x", route_params={"id": created["id"]}).get_body()
    )
    assert status["status"] == "completed"
    result = call_http("get_document_result", "GET", "x", route_params={"id": created["id"]})
    assert result.status_code == 200
    assert json.loads(result.get_body())["document"]["filename"] == "invoice.pdf"
    assert len(publisher.of_type(DOCUMENT_COMPLETED)) == 1


def test_blob_created_in_event_grid_schema_is_processed(services: Services) -> None:
    services.platform.stores.blobs.put(
        "inbox", "drop.txt", b"A dropped memo about the annual budget."
    )
    deliver(
        {
            "id": "evt-1",
            "topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/"
            "storageAccounts/acct",
            "subject": "/blobServices/default/containers/inbox/blobs/drop.txt",
            "eventType": "Microsoft.Storage.BlobCreated",
            "eventTime": "2026-03-14T12:00:00Z",
            "data": {"api": "PutBlob", "eTag": "0x1", "contentLength": 39},
            "dataVersion": "",
            "metadataVersion": "1",
        }
    )
    [record] = services.documents.recent()
    assert (record.source.value, record.status.value) == ("blob", "completed")


def test_an_event_for_an_unknown_document_is_acknowledged_not_retried(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """An uploaded event naming no stored document returns normally (Event Grid must
    not redeliver it), creates nothing, publishes nothing and logs event.rejected."""
    publisher: RecordingPublisher = services.processor._publisher  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="processing.triggers"):
        deliver(
            {
                "specversion": "1.0",
                "id": "evt-2",
                "source": "/docflow/documents",
                "type": DOCUMENT_UPLOADED,
                "subject": "documents/ffffffffffffffffffffffff",
                "data": {"document_id": "ffffffffffffffffffffffff"},
            }
        )
    assert services.documents.recent() == []
    assert publisher.events == []
    assert [r.getMessage() for r in caplog.records if r.name == "processing.triggers"] == [
        "event.rejected"
    ]


def test_an_event_without_object_data_is_rejected_not_retried(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Data that is not a JSON object is permanent for this event: acknowledged and logged."""
    with caplog.at_level(logging.WARNING, logger="processing.triggers"):
        deliver(
            {
                "specversion": "1.0",
                "id": "evt-3",
                "source": "/docflow/documents",
                "type": DOCUMENT_UPLOADED,
                "subject": "documents/x",
                "data": ["not", "an", "object"],
            }
        )
    assert services.documents.recent() == []
    assert "event.rejected" in [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [({"status": "nonsense"}, 400, "bad_request"), ({"limit": "0"}, 400, "bad_request")],
)
def test_listing_rejects_bad_parameters_with_problems(
    services: Services, params: dict[str, str], status: int, code: str
) -> None:
    response = call_http("list_documents", "GET", "documents", params=params)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert json.loads(response.get_body())["code"] == code


def test_listing_pages_newest_first(services: Services, clock: FakeClock) -> None:
    ids = []
    for i in range(3):
        body = call_http("upload_document", "POST", "documents", body=f"note {i}".encode())
        ids.append(json.loads(body.get_body())["id"])
        clock.advance(seconds=1)
    first = json.loads(
        call_http("list_documents", "GET", "documents", params={"limit": "2"}).get_body()
    )
    assert [d["id"] for d in first["items"]] == [ids[2], ids[1]]
    after = first["next"].partition("after=")[2]
    second = json.loads(
        call_http(
            "list_documents", "GET", "documents", params={"limit": "2", "after": after}
        ).get_body()
    )
    assert [d["id"] for d in second["items"]] == [ids[0]]
    assert second["next"] is None


def test_unexpected_errors_become_a_generic_500_problem(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("/secret/path/settings.json leaked?")

    monkeypatch.setattr(services.documents, "get", explode)
    response = call_http("get_document", "GET", "x", route_params={"id": "a" * 24})
    assert response.status_code == 500
    body = response.get_body().decode()
    assert "secret" not in body and "Traceback" not in body
    assert json.loads(body)["code"] == "internal_error"


def test_health_needs_no_services() -> None:
    response = call_http("health", "GET", "health")
    assert (response.status_code, json.loads(response.get_body())) == (200, {"status": "ok"})
