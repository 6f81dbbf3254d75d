"""The search triggers: the query API, the indexer (Event Grid) and reindex steps (queue).

Each trigger decodes its input, binds the log context and calls a service of
:mod:`search.runtime`; the services load on the first invocation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import azure.functions as func

from kernel.identity import DOCUMENTS_READ, DOCUMENTS_WRITE, authorize
from kernel.triggers import HttpApi, invocation, json_response

if TYPE_CHECKING:
    from kernel.http.problems import ProblemRegistry
    from search.runtime import Search
    from search.service import Answer

log = logging.getLogger(__name__)

bp = func.Blueprint()


def services() -> Search:
    from search.runtime import search

    return search()


def _problems() -> ProblemRegistry:
    from search.problems import PROBLEMS

    return PROBLEMS


api = HttpApi(_problems)


@bp.route(route="search", methods=["GET"])
@api.endpoint
def search_documents(req: func.HttpRequest) -> func.HttpResponse:
    from search.requests import TextSearch

    owner = authorize(req.headers, DOCUMENTS_READ).owner
    answer = services().queries.search(owner, TextSearch.from_params(req.params))
    return json_response(200, _page(answer, req.params))


@bp.route(route="search/vector", methods=["POST"])
@api.endpoint
def search_vectors(req: func.HttpRequest) -> func.HttpResponse:
    from kernel.http.bodies import json_object
    from search.requests import VectorSearch

    owner = authorize(req.headers, DOCUMENTS_READ).owner
    body = json_object(req.get_body(), example='{"text": "payment terms"}')
    answer = services().queries.search_vector(owner, VectorSearch.from_body(body))
    return json_response(200, {**_page(answer, None), "next_skip": answer.next_skip})


@bp.route(route="search/documents/{id}", methods=["GET"])
@api.endpoint
def get_search_status(req: func.HttpRequest) -> func.HttpResponse:
    from kernel.errors import NotFoundError

    document_id = req.route_params["id"]
    status = services().queries.status(authorize(req.headers, DOCUMENTS_READ).owner, document_id)
    if status is None:
        raise NotFoundError(f"document {document_id!r} is not indexed")
    return json_response(200, status.to_api())


@bp.route(route="search/reindex", methods=["POST"])
@api.endpoint
def start_reindex(req: func.HttpRequest) -> func.HttpResponse:
    job = services().reindex.start(authorize(req.headers, DOCUMENTS_WRITE).owner)
    return json_response(202, job.to_api(), Location=f"/api/search/reindex/{job.id}")


@bp.route(route="search/reindex/{id}", methods=["GET"])
@api.endpoint
def get_reindex(req: func.HttpRequest) -> func.HttpResponse:
    owner = authorize(req.headers, DOCUMENTS_READ).owner
    job = services().reindex.get(owner, req.route_params["id"])
    return json_response(200, job.to_api())


@bp.event_grid_trigger(arg_name="event")
def index_document(event: func.CloudEvent, context: func.Context) -> None:
    from kernel.errors import InvalidEventError
    from kernel.events.catalog import DOCUMENT_DELETED
    from kernel.events.cloudevents import InboundEvent
    from search.documents import DocumentEvent

    inbound = InboundEvent.from_trigger(event)
    with invocation(context, inbound.traceparent, event_id=inbound.id, event_type=inbound.type):
        try:
            document = DocumentEvent.from_event(inbound)
        except InvalidEventError:
            # Permanent for this event: retrying cannot help, so acknowledge it.
            log.warning("event.rejected", exc_info=True)
            return
        if inbound.type == DOCUMENT_DELETED:
            services().indexer.on_deleted(document)
        else:
            services().indexer.on_completed(document)


@bp.queue_trigger(
    # %SEARCH_REINDEX_QUEUE%: the host resolves the queue name from that app setting.
    arg_name="message",
    queue_name="%SEARCH_REINDEX_QUEUE%",
    connection="DATA_STORAGE",
)
def reindex_documents(message: func.QueueMessage, context: func.Context) -> None:
    with invocation(context, None, queue_message_id=message.id):
        services().reindex.step(
            message.get_body().decode("utf-8"), dequeue_count=message.dequeue_count or 1
        )


def _page(answer: Answer, params: Any) -> dict[str, Any]:
    next_link = None
    if answer.next_skip is not None and params is not None:
        query = {k: v for k, v in params.items() if k not in ("skip", "code")}
        next_link = f"/api/search?{urlencode({**query, 'skip': answer.next_skip})}"
    return {"mode": answer.mode.value, "items": answer.items, "next": next_link}
