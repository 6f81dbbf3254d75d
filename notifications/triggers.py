"""The notification triggers: the subscriptions API, the notifier (Event Grid)
and the delivery worker (queue).

Each trigger decodes its input, binds the log context and calls a service of
:mod:`notifications.runtime`; the services load on the first invocation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import azure.functions as func

from kernel.identity import SUBSCRIPTIONS_MANAGE, authorize
from kernel.triggers import HttpApi, invocation, json_response

if TYPE_CHECKING:
    from kernel.http.problems import ProblemRegistry
    from notifications.runtime import Notifications

log = logging.getLogger(__name__)

bp = func.Blueprint()

MAX_DESCRIPTION_CHARS = 1000


def services() -> Notifications:
    """The notification services; storage clients load on the first call."""
    from notifications.runtime import notifications

    return notifications()


def _problems() -> ProblemRegistry:
    from notifications.problems import PROBLEMS

    return PROBLEMS


api = HttpApi(_problems)


@bp.route(route="subscriptions", methods=["POST"])
@api.endpoint
def create_subscription(req: func.HttpRequest) -> func.HttpResponse:
    owner = authorize(req.headers, SUBSCRIPTIONS_MANAGE).owner
    url, event_types, description = _registration(req.get_body())
    subscription = services().subscriptions.register(url, event_types, description, owner=owner)
    return json_response(
        201, subscription.to_api(with_secret=True), Location=f"/api/subscriptions/{subscription.id}"
    )


@bp.route(route="subscriptions", methods=["GET"])
@api.endpoint
def list_subscriptions(req: func.HttpRequest) -> func.HttpResponse:
    from kernel.http.paging import PageRequest

    reach = authorize(req.headers, SUBSCRIPTIONS_MANAGE).reach
    request = PageRequest.from_params(req.params)
    found = services().subscriptions.page(after=request.after, limit=request.fetch, reach=reach)
    page = request.page(found, cursor=lambda s: s.id, path="/api/subscriptions")
    return json_response(200, page.to_api(lambda s: s.to_api()))


@bp.route(route="subscriptions/{id}", methods=["GET"])
@api.endpoint
def get_subscription(req: func.HttpRequest) -> func.HttpResponse:
    reach = authorize(req.headers, SUBSCRIPTIONS_MANAGE).reach
    subscription = services().subscriptions.get(req.route_params["id"], reach)
    return json_response(200, subscription.to_api())


@bp.route(route="subscriptions/{id}", methods=["DELETE"])
@api.endpoint
def delete_subscription(req: func.HttpRequest) -> func.HttpResponse:
    reach = authorize(req.headers, SUBSCRIPTIONS_MANAGE).reach
    services().subscriptions.delete(req.route_params["id"], reach)
    return func.HttpResponse(status_code=204)


@bp.route(route="subscriptions/{id}/rotate-secret", methods=["POST"])
@api.endpoint
def rotate_subscription_secret(req: func.HttpRequest) -> func.HttpResponse:
    reach = authorize(req.headers, SUBSCRIPTIONS_MANAGE).reach
    subscription = services().subscriptions.rotate_secret(req.route_params["id"], reach)
    return json_response(200, subscription.to_api(with_secret=True))


@bp.route(route="subscriptions/{id}/deliveries", methods=["GET"])
@api.endpoint
def list_subscription_deliveries(req: func.HttpRequest) -> func.HttpResponse:
    from kernel.http.paging import PageRequest

    caller = authorize(req.headers, SUBSCRIPTIONS_MANAGE)
    target_id = req.route_params["id"]
    replay = services().replay
    replay.check_target(target_id, caller)
    request = PageRequest.from_params(req.params)
    found = replay.attempts(target_id, after=request.after, limit=request.fetch)
    page = request.page(
        found, cursor=lambda pair: pair[0], path=f"/api/subscriptions/{target_id}/deliveries"
    )
    return json_response(200, page.to_api(lambda pair: pair[1].to_api()))


@bp.route(route="deliveries/{id}/redeliver", methods=["POST"])
@api.endpoint
def redeliver_notification(req: func.HttpRequest) -> func.HttpResponse:
    caller = authorize(req.headers, SUBSCRIPTIONS_MANAGE)
    delivery = services().replay.redeliver(req.route_params["id"], caller)
    return json_response(202, delivery.to_api())


@bp.route(route="dead-letters", methods=["GET"])
@api.endpoint
def list_dead_letters(req: func.HttpRequest) -> func.HttpResponse:
    from kernel.http.paging import PageRequest

    caller = authorize(req.headers, SUBSCRIPTIONS_MANAGE)
    request = PageRequest.from_params(req.params)
    found = services().replay.dead_letters(caller, after=request.after, limit=request.fetch)
    page = request.page(
        found, cursor=lambda item: str(item["delivery_id"]), path="/api/dead-letters"
    )
    return json_response(200, page.to_api(lambda item: item))


@bp.event_grid_trigger(arg_name="event")
def notify_completion(event: func.CloudEvent, context: func.Context) -> None:
    from kernel.events.cloudevents import InboundEvent

    inbound = InboundEvent.from_trigger(event)
    with invocation(context, inbound.traceparent, event_id=inbound.id, event_type=inbound.type):
        services().fanout.fan_out(inbound.cloudevent)


@bp.queue_trigger(
    # %WEBHOOK_QUEUE%: the host resolves the queue name from that app setting.
    arg_name="message",
    queue_name="%WEBHOOK_QUEUE%",
    # The queue lives with the app's data (kernel.settings.DATA_STORAGE), not
    # in the host's own storage: the host reads DATA_STORAGE__queueServiceUri,
    # __credential and __clientId (the app identity, which holds roles on this
    # queue and its -poison twin only). Locally the dev host falls back to
    # AzureWebJobsStorage when DATA_STORAGE is unset, as the app does.
    connection="DATA_STORAGE",
)
def deliver_webhook(message: func.QueueMessage, context: func.Context) -> None:
    with invocation(context, None, queue_message_id=message.id):
        services().worker.handle(
            message.get_body().decode("utf-8"), dequeue_count=message.dequeue_count or 1
        )


def _registration(body: bytes) -> tuple[str, list[str] | None, str | None]:
    from kernel.errors import RequestError
    from kernel.http.bodies import json_object

    document: dict[str, Any] = json_object(body, example='{"url": "https://..."}')
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


# Every minute: an attempt whose worker died (its lease ran out) is queued again at once
# rather than when the queue shows its message again, ten minutes later.
@bp.timer_trigger(arg_name="timer", schedule="0 * * * * *", run_on_startup=False)
def sweep_deliveries(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context, None):
        services().replay.requeue_stalled()
