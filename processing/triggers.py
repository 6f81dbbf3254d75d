"""The document workflow's triggers: the HTTP API, the Event Grid processor and
the reconciler timer.

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

from kernel.identity import DOCUMENTS_READ, DOCUMENTS_WRITE, authorize
from kernel.triggers import HttpApi, invocation, json_response

if TYPE_CHECKING:
    from kernel.http.problems import ProblemRegistry
    from processing.records import DocumentRecord, Status
    from processing.runtime import Services

log = logging.getLogger(__name__)

bp = func.Blueprint()

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"


def services() -> Services:
    """The workflow's services; the adapters and the pipeline load on the first call."""
    from processing.runtime import services as build_once

    return build_once()


def _problems() -> ProblemRegistry:
    from processing.problems import PROBLEMS

    return PROBLEMS


api = HttpApi(_problems)


@bp.route(route="documents", methods=["POST"])
@api.endpoint
def upload_document(req: func.HttpRequest) -> func.HttpResponse:
    from processing.upload_request import decode_upload

    owner = authorize(req.headers, DOCUMENTS_WRITE).owner
    svc = services()
    upload = decode_upload(
        req.headers, req.params, req.get_body, max_bytes=svc.settings.max_upload_bytes
    )
    record = svc.uploads.accept(
        upload.data, upload.filename, owner=owner, traceparent=req.headers.get("traceparent")
    )
    return json_response(202, _document(record), Location=f"/api/documents/{record.id}")


@bp.route(route="documents", methods=["GET"])
@api.endpoint
def list_documents(req: func.HttpRequest) -> func.HttpResponse:
    from kernel.http.paging import PageRequest

    reach = authorize(req.headers, DOCUMENTS_READ).reach
    request = PageRequest.from_params(req.params)
    status = _status_param(req.params.get("status"))
    found = services().documents.recent(
        status=status, reach=reach, after=request.after, limit=request.fetch
    )
    page = request.page(
        found,
        cursor=lambda r: r.id,
        path="/api/documents",
        query={"status": status.value if status else None},
    )
    return json_response(200, page.to_api(lambda r: r.to_api()))


@bp.route(route="documents/{id}", methods=["GET"])
@api.endpoint
def get_document(req: func.HttpRequest) -> func.HttpResponse:
    reach = authorize(req.headers, DOCUMENTS_READ).reach
    return json_response(
        200, _document(services().documents.get(req.route_params["id"], reach=reach))
    )


@bp.route(route="documents/{id}", methods=["DELETE"])
@api.endpoint
def delete_document(req: func.HttpRequest) -> func.HttpResponse:
    reach = authorize(req.headers, DOCUMENTS_WRITE).reach
    services().deletions.delete(req.route_params["id"], reach)
    return func.HttpResponse(status_code=204)


@bp.route(route="documents/{id}/result", methods=["GET"])
@api.endpoint
def get_document_result(req: func.HttpRequest) -> func.HttpResponse:
    reach = authorize(req.headers, DOCUMENTS_READ).reach
    svc = services()
    result_blob = svc.documents.get(req.route_params["id"], reach=reach).require_result()
    return func.HttpResponse(
        svc.result_bytes(result_blob), status_code=200, mimetype="application/json", charset="utf-8"
    )


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(200, {"status": "ok"})


@bp.route(route="health/ready", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health_ready(req: func.HttpRequest) -> func.HttpResponse:
    """Readiness (Front Door's health probe): storage and the event topic answer."""
    from kernel.platform import readiness
    from kernel.triggers import problem_response

    report = readiness().report()
    if not report.ready:
        return problem_response(report.problem(), req)
    return json_response(200, report.to_api(), **{"Cache-Control": "no-store"})


@bp.route(route="openapi.yaml", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        OPENAPI_PATH.read_bytes(), status_code=200, mimetype="application/yaml", charset="utf-8"
    )


# The Functions library delivers a func.CloudEvent for the topic's CloudEvents-schema
# subscription and a func.EventGridEvent for the storage system topic's
# Event Grid-schema one; the worker accepts one class here, and either arrives.
@bp.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent, context: func.Context) -> None:
    from kernel.errors import InvalidEventError, NotFoundError
    from kernel.events.cloudevents import InboundEvent

    inbound = InboundEvent.from_trigger(event)
    with invocation(context, inbound.traceparent, event_id=inbound.id, event_type=inbound.type):
        try:
            services().processor.handle(inbound)
        except (InvalidEventError, NotFoundError):
            # Permanent for this event: retrying cannot help, so acknowledge it.
            log.warning("event.rejected", exc_info=True)


# Every minute: a stale claim (its lease of PROCESSING_LEASE_SECONDS ran out) waits at most
# this long on top of the lease before it is announced again.
@bp.timer_trigger(arg_name="timer", schedule="0 * * * * *", run_on_startup=False)
def reconcile_documents(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context, None):
        services().reconciler.run()


def _status_param(value: str | None) -> Status | None:
    from kernel.errors import RequestError
    from processing.records import Status

    if not value:
        return None
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise RequestError(f"status must be one of {allowed}") from None


def _document(record: DocumentRecord) -> dict[str, object]:
    links = {
        "self": f"/api/documents/{record.id}",
        "result": f"/api/documents/{record.id}/result",
    }
    return {**record.to_api(), "links": links}
