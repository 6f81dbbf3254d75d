"""The processing triggers: the HTTP API, the Event Grid processor and the reconciler.

Each trigger decodes its input, binds the log context, calls a service and
maps errors; the work happens in :mod:`processing.uploads`,
:mod:`processing.processor` and :mod:`processing.reconciler`. Imports of
anything beyond ``azure.functions`` sit inside the triggers: indexing the app
(cold start) must not pay for them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import azure.functions as func

from processing.invocations import http_endpoint, invocation, json_response, problem_response

if TYPE_CHECKING:
    from processing.records import Status
    from processing.runtime import Services

log = logging.getLogger(__name__)

bp = func.Blueprint()

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"


def services() -> Services:
    """The app's services; the adapters and the pipeline load on the first call."""
    from processing.runtime import services as build_once

    return build_once()


@bp.route(route="documents", methods=["POST"])
@http_endpoint
def upload_document(req: func.HttpRequest) -> func.HttpResponse:
    from processing.webapi import decode_upload

    upload = decode_upload(
        req.headers, req.params, req.get_body(), max_bytes=services().settings.max_upload_bytes
    )
    record = services().uploads.accept(
        upload.data, upload.filename, traceparent=req.headers.get("traceparent")
    )
    location = f"/api/documents/{record.id}"
    return json_response(202, {**record.to_api(), "links": _links(record.id)}, Location=location)


@bp.route(route="documents", methods=["GET"])
@http_endpoint
def list_documents(req: func.HttpRequest) -> func.HttpResponse:
    from processing.webapi import page_params

    limit, after = page_params(req.params)
    status = _status_param(req.params.get("status"))
    records = services().documents.recent(status=status, after=after, limit=limit + 1)
    page, more = records[:limit], len(records) > limit
    next_link = None
    if more:
        query = f"limit={limit}&after={page[-1].id}" + (f"&status={status.value}" if status else "")
        next_link = f"/api/documents?{query}"
    return json_response(200, {"items": [r.to_api() for r in page], "next": next_link})


@bp.route(route="documents/{id}", methods=["GET"])
@http_endpoint
def get_document(req: func.HttpRequest) -> func.HttpResponse:
    record = services().documents.get(req.route_params["id"])
    return json_response(200, {**record.to_api(), "links": _links(record.id)})


@bp.route(route="documents/{id}/result", methods=["GET"])
@http_endpoint
def get_document_result(req: func.HttpRequest) -> func.HttpResponse:
    from processing.records import Status
    from processing.webapi import Problem

    svc = services()
    record = svc.documents.get(req.route_params["id"])
    if record.status is not Status.COMPLETED or record.result_blob is None:
        return problem_response(
            Problem(409, "not_finished", f"the document is {record.status.value}, not completed"),
            req,
        )
    body = svc.stores.blobs.get(svc.settings.results_container, record.result_blob)
    return func.HttpResponse(body, status_code=200, mimetype="application/json", charset="utf-8")


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(200, {"status": "ok"})


@bp.route(route="openapi.yaml", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        OPENAPI_PATH.read_bytes(), status_code=200, mimetype="application/yaml", charset="utf-8"
    )


@bp.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent, context: func.Context) -> None:
    from processing.events import InboundEvent, InvalidEventError
    from processing.ports import NotFoundError

    inbound = InboundEvent.from_event_grid(event)
    with invocation(context, inbound.traceparent, event_id=inbound.id, event_type=inbound.type):
        try:
            services().processor.handle(inbound)
        except (InvalidEventError, NotFoundError):
            # Permanent for this event: retrying cannot help, so acknowledge it.
            log.warning("event.rejected", exc_info=True)


@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False)
def reconcile_documents(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context, None):
        services().reconciler.run()


def _status_param(value: str | None) -> Status | None:
    from processing.records import Status
    from processing.webapi import RequestError

    if not value:
        return None
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise RequestError(f"status must be one of {allowed}") from None


def _links(document_id: str) -> dict[str, str]:
    return {
        "self": f"/api/documents/{document_id}",
        "result": f"/api/documents/{document_id}/result",
    }
