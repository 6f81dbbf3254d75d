"""Web ingestion's triggers: scrape, crawl and batch routes, the frontier
queue worker, and the tracker of batch documents' outcomes.

Each route first asks :func:`kernel.identity.authorize` for the app role it
needs (``Documents.Write`` to scrape, crawl, cancel or batch, ``Documents.Read``
to read a crawl or batch), then decodes its input, calls a service with the
caller's owner and maps errors; the work happens in
:mod:`webingest.scrape`, :mod:`webingest.crawl` and :mod:`webingest.batch`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import azure.functions as func

from kernel.identity import DOCUMENTS_READ, DOCUMENTS_WRITE, authorize
from kernel.triggers import HttpApi, invocation, json_response

if TYPE_CHECKING:
    from kernel.http.problems import ProblemRegistry
    from webingest.runtime import WebIngest

log = logging.getLogger(__name__)

bp = func.Blueprint()


def services() -> WebIngest:
    from webingest.runtime import webingest

    return webingest()


def _problems() -> ProblemRegistry:
    from webingest.problems import PROBLEMS

    return PROBLEMS


api = HttpApi(_problems)


def _json(req: func.HttpRequest, example: str) -> dict[str, Any]:
    from kernel.http.bodies import json_object

    return json_object(req.get_body(), example=example)


@bp.route(route="scrape", methods=["POST"])
@api.endpoint
def scrape_page(req: func.HttpRequest) -> func.HttpResponse:
    from webingest.scrape import scrape_url

    owner = authorize(req.headers, DOCUMENTS_WRITE).owner
    url = scrape_url(_json(req, '{"url": "https://..."}'))
    record = services().scrapes.scrape(url, owner=owner, traceparent=req.headers.get("traceparent"))
    links = {
        "self": f"/api/documents/{record.id}",
        "result": f"/api/documents/{record.id}/result",
    }
    return json_response(
        202, {**record.to_api(), "links": links}, Location=f"/api/documents/{record.id}"
    )


@bp.route(route="crawl", methods=["POST"])
@api.endpoint
def start_crawl(req: func.HttpRequest) -> func.HttpResponse:
    from webingest.crawl import CrawlRequest

    owner = authorize(req.headers, DOCUMENTS_WRITE).owner
    svc = services().crawls
    request = CrawlRequest.from_json(
        _json(req, '{"url": "https://...", "max_pages": 50}'),
        max_pages=svc.max_pages,
        max_depth=svc.max_depth,
    )
    crawl = svc.start(request, owner=owner)
    return json_response(202, crawl, Location=f"/api/crawls/{crawl['id']}")


@bp.route(route="crawls/{id}", methods=["GET"])
@api.endpoint
def get_crawl(req: func.HttpRequest) -> func.HttpResponse:
    owner = authorize(req.headers, DOCUMENTS_READ).owner
    crawl = services().crawls.get(req.route_params["id"], owner=owner)
    return json_response(200, crawl)


@bp.route(route="crawls/{id}", methods=["DELETE"])
@api.endpoint
def cancel_crawl(req: func.HttpRequest) -> func.HttpResponse:
    owner = authorize(req.headers, DOCUMENTS_WRITE).owner
    crawl = services().crawls.cancel(req.route_params["id"], owner=owner)
    return json_response(200, crawl)


@bp.route(route="batch", methods=["POST"])
@api.endpoint
def create_batch(req: func.HttpRequest) -> func.HttpResponse:
    from webingest.batch_request import decode_batch

    owner = authorize(req.headers, DOCUMENTS_WRITE).owner
    svc = services().batches
    batch = decode_batch(
        req.headers,
        req.get_body,
        svc,
        owner=owner,
        traceparent=req.headers.get("traceparent"),
    )
    return json_response(202, batch, Location=f"/api/batches/{batch['id']}")


@bp.route(route="batches/{id}", methods=["GET"])
@api.endpoint
def get_batch(req: func.HttpRequest) -> func.HttpResponse:
    owner = authorize(req.headers, DOCUMENTS_READ).owner
    return json_response(200, services().batches.get(req.route_params["id"], owner=owner))


@bp.queue_trigger(
    # %WEBINGEST_QUEUE%: the host resolves the queue name from that app setting.
    arg_name="message",
    queue_name="%WEBINGEST_QUEUE%",
    connection="DATA_STORAGE",
)
def fetch_frontier(message: func.QueueMessage, context: func.Context) -> None:
    from webingest.jobs import FrontierJob, InvalidJobError

    with invocation(context, None, queue_message_id=message.id):
        try:
            job = FrontierJob.from_message(message.get_body().decode("utf-8", "replace"))
        except InvalidJobError:
            log.warning("frontier.job_rejected")
            return
        svc = services()
        if job.kind == "crawl":
            svc.crawler.handle(job, dequeue_count=message.dequeue_count or 1)
        else:
            svc.batch_worker.handle(job)


@bp.event_grid_trigger(arg_name="event")
def track_batch_documents(event: func.CloudEvent, context: func.Context) -> None:
    from kernel.events.cloudevents import InboundEvent

    inbound = InboundEvent.from_trigger(event)
    with invocation(context, inbound.traceparent, event_id=inbound.id, event_type=inbound.type):
        data = inbound.data_object()
        document_id, status = data.get("document_id"), data.get("status")
        if isinstance(document_id, str) and isinstance(status, str):
            services().tracker.on_document_finished(document_id, status)
