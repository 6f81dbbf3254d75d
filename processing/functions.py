"""The processing triggers: the HTTP API, the Event Grid processor and the reconciler.

Each trigger decodes its input, binds the log context, calls a service and
maps errors; the work happens in :mod:`processing.uploads`,
:mod:`processing.processor` and :mod:`processing.reconciler`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import azure.functions as func

from processing import logcontext
from processing.errors import ProcessingError
from processing.events import InboundEvent, InvalidEventError
from processing.ports import NotFoundError
from processing.records import Status
from processing.webapi import (
    PROBLEM_JSON,
    Problem,
    RequestError,
    decode_upload,
    page_params,
    problem_for,
)

if TYPE_CHECKING:
    from processing.runtime import Services

log = logging.getLogger(__name__)

bp = func.Blueprint()

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"

HttpHandler = Callable[[func.HttpRequest], func.HttpResponse]


def services() -> Services:
    """The app's services; the adapters and the pipeline load on the first call."""
    from processing.runtime import services as build_once

    return build_once()


def http_endpoint(handler: HttpHandler) -> Callable[[func.HttpRequest, func.Context], Any]:
    """Bind the log context and turn typed errors into problem responses."""

    @functools.wraps(handler, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    def endpoint(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        with _invocation(context, req.headers.get("traceparent")):
            try:
                return handler(req)
            except ProcessingError as exc:
                return problem_response(problem_for(exc), req)
            except Exception:
                log.exception("http.unhandled_error")
                return problem_response(
                    Problem(500, "internal_error", "an unexpected error occurred"), req
                )

    # The worker binds arguments by inspect.signature(), which follows
    # __wrapped__: without this it would see (req) and never pass context.
    del endpoint.__wrapped__
    return endpoint


@bp.route(route="documents", methods=["POST"])
@http_endpoint
def upload_document(req: func.HttpRequest) -> func.HttpResponse:
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
    inbound = InboundEvent.from_event_grid(event)
    with _invocation(context, inbound.traceparent, event_id=inbound.id, event_type=inbound.type):
        try:
            services().processor.handle(inbound)
        except (InvalidEventError, NotFoundError):
            # Permanent for this event: retrying cannot help, so acknowledge it.
            log.warning("event.rejected", exc_info=True)


@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False)
def reconcile_documents(timer: func.TimerRequest, context: func.Context) -> None:
    with _invocation(context, None):
        services().reconciler.run()


def json_response(status: int, body: Any, **headers: str) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/json", headers=headers
    )


def problem_response(problem: Problem, req: func.HttpRequest) -> func.HttpResponse:
    from urllib.parse import urlsplit

    return func.HttpResponse(
        problem.body(instance=urlsplit(req.url).path),
        status_code=problem.status,
        mimetype=PROBLEM_JSON,
        headers=dict(problem.headers or {}),
    )


@contextmanager
def _invocation(context: func.Context, traceparent: str | None, **fields: Any) -> Iterator[None]:
    logcontext.install()
    with logcontext.bound(
        invocation_id=context.invocation_id,
        function_name=context.function_name,
        traceparent=traceparent or _context_traceparent(context),
        **fields,
    ):
        yield


def _context_traceparent(context: func.Context) -> str | None:
    trace_context = getattr(context, "trace_context", None)
    return getattr(trace_context, "trace_parent", None) if trace_context else None


def _status_param(value: str | None) -> Status | None:
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
