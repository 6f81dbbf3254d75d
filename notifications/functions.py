"""The notification triggers: the subscriptions API, the notifier (Event Grid)
and the delivery worker (queue).

Each trigger decodes its input, binds the log context and calls
:mod:`notifications.subscriptions` or :mod:`notifications.dispatch`; the
services load on the first invocation (:mod:`notifications.runtime`).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import azure.functions as func

from processing.invocations import http_endpoint, invocation, json_response, problem_response

if TYPE_CHECKING:
    from notifications.runtime import Notifications

log = logging.getLogger(__name__)

bp = func.Blueprint()

MAX_DESCRIPTION_CHARS = 1000

HttpHandler = Callable[[func.HttpRequest], func.HttpResponse]


def services() -> Notifications:
    """The notification services; storage clients load on the first call."""
    from notifications.runtime import notifications

    return notifications()


def conflicts_as_409(handler: HttpHandler) -> HttpHandler:
    """Answer 409 when the subscription or delivery is in the wrong state."""

    @functools.wraps(handler)
    def wrapped(req: func.HttpRequest) -> func.HttpResponse:
        from notifications.errors import DeliveryStateError
        from processing.ports import ConflictError
        from processing.webapi import Problem

        try:
            return handler(req)
        except DeliveryStateError as exc:
            return problem_response(Problem(409, exc.reason, exc.message), req)
        except ConflictError as exc:
            return problem_response(Problem(409, "conflict", exc.message), req)

    return wrapped


@bp.route(route="subscriptions", methods=["POST"])
@http_endpoint
def create_subscription(req: func.HttpRequest) -> func.HttpResponse:
    url, event_types, description = _registration(req.get_body())
    subscription = services().subscriptions.register(url, event_types, description)
    return json_response(
        201, subscription.to_api(with_secret=True), Location=f"/api/subscriptions/{subscription.id}"
    )


@bp.route(route="subscriptions", methods=["GET"])
@http_endpoint
def list_subscriptions(req: func.HttpRequest) -> func.HttpResponse:
    from processing.webapi import page_params

    limit, after = page_params(req.params)
    found = services().subscriptions.page(after=after, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    next_link = f"/api/subscriptions?limit={limit}&after={page[-1].id}" if more else None
    return json_response(200, {"items": [s.to_api() for s in page], "next": next_link})


@bp.route(route="subscriptions/{id}", methods=["GET"])
@http_endpoint
def get_subscription(req: func.HttpRequest) -> func.HttpResponse:
    subscription = services().subscriptions.get(req.route_params["id"])
    return json_response(200, subscription.to_api())


@bp.route(route="subscriptions/{id}", methods=["DELETE"])
@http_endpoint
def delete_subscription(req: func.HttpRequest) -> func.HttpResponse:
    services().subscriptions.delete(req.route_params["id"])
    return func.HttpResponse(status_code=204)


@bp.route(route="subscriptions/{id}/rotate-secret", methods=["POST"])
@http_endpoint
@conflicts_as_409
def rotate_subscription_secret(req: func.HttpRequest) -> func.HttpResponse:
    subscription = services().subscriptions.rotate_secret(req.route_params["id"])
    return json_response(200, subscription.to_api(with_secret=True))


@bp.route(route="subscriptions/{id}/deliveries", methods=["GET"])
@http_endpoint
def list_subscription_deliveries(req: func.HttpRequest) -> func.HttpResponse:
    from processing.webapi import page_params

    target_id = req.route_params["id"]
    svc = services()
    svc.dispatcher.check_target(target_id)
    limit, after = page_params(req.params)
    found = svc.dispatcher.attempts(target_id, after=after, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    next_link = (
        f"/api/subscriptions/{target_id}/deliveries?limit={limit}&after={page[-1][0]}"
        if more
        else None
    )
    return json_response(200, {"items": [a.to_api() for _, a in page], "next": next_link})


@bp.route(route="deliveries/{id}/redeliver", methods=["POST"])
@http_endpoint
@conflicts_as_409
def redeliver_notification(req: func.HttpRequest) -> func.HttpResponse:
    delivery = services().dispatcher.redeliver(req.route_params["id"])
    return json_response(202, delivery.to_api())


@bp.route(route="dead-letters", methods=["GET"])
@http_endpoint
def list_dead_letters(req: func.HttpRequest) -> func.HttpResponse:
    from processing.webapi import page_params

    limit, after = page_params(req.params)
    found = services().dispatcher.dead_letters(after=after, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    next_link = f"/api/dead-letters?limit={limit}&after={page[-1]['delivery_id']}" if more else None
    return json_response(200, {"items": page, "next": next_link})


@bp.event_grid_trigger(arg_name="event")
def notify_completion(event: func.EventGridEvent, context: func.Context) -> None:
    from notifications.events import cloudevent_from_trigger

    cloudevent = cloudevent_from_trigger(event)
    traceparent = cloudevent.get("traceparent")
    with invocation(
        context,
        traceparent if isinstance(traceparent, str) else None,
        event_id=cloudevent.get("id"),
        event_type=cloudevent.get("type"),
    ):
        services().dispatcher.fan_out(cloudevent)


@bp.queue_trigger(
    # %WEBHOOK_QUEUE%: the host resolves the queue name from that app setting.
    arg_name="message",
    queue_name="%WEBHOOK_QUEUE%",
    connection="AzureWebJobsStorage",
)
def deliver_webhook(message: func.QueueMessage, context: func.Context) -> None:
    with invocation(context, None, queue_message_id=message.id):
        services().dispatcher.handle(message.get_body().decode("utf-8"))


def _registration(body: bytes) -> tuple[str, list[str] | None, str | None]:
    from processing.webapi import RequestError

    try:
        document: Any = json.loads(body or b"null")
    except ValueError:
        raise RequestError("the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise RequestError('the body must be a JSON object such as {"url": "https://..."}')
    url = document.get("url")
    if not isinstance(url, str) or not url:
        raise RequestError("url is required and must be a string")
    event_types = document.get("event_types")
    if event_types is not None and (
        not isinstance(event_types, list)
        or not event_types
        or not all(isinstance(t, str) for t in event_types)
    ):
        raise RequestError("event_types must be a non-empty list of strings")
    description = document.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS
    ):
        raise RequestError(f"description must be a string of at most {MAX_DESCRIPTION_CHARS} chars")
    return url, event_types, description
