"""The local Event Grid topic: accepts CloudEvents from the real
``EventGridPublisherClient``, logs them durably and queues one delivery per
matching subscription, like a custom topic with CloudEvents 1.0 input schema.

Publishing uses the same request Azure expects: ``POST {endpoint}?api-version=...``
with ``aeg-sas-key`` and a JSON array body (``application/cloudevents-batch+json``).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from tools.devhost.eventroutes import TOPIC, EventSubscriptionMap
from tools.devhost.server import Request, Response
from tools.devhost.state import BlobMark, NewEvent, StateStore

log = logging.getLogger(__name__)

TOPIC_PATH = "/devhost/eventgrid/api/events"

#: Event Grid's limits for a publish request and for one event.
MAX_BATCH_BYTES = 1024 * 1024
MAX_EVENT_BYTES = 1024 * 1024

_CLOUDEVENT_TYPES = {"application/cloudevents-batch+json", "application/cloudevents+json"}


class EventRouter:
    """Logs events and queues their deliveries to the subscribed functions."""

    def __init__(
        self,
        state: StateStore,
        subscriptions: EventSubscriptionMap,
        functions: Collection[str],
        on_queued: Callable[[], None],
    ) -> None:
        self._state = state
        self._subscriptions = subscriptions
        self._functions = set(functions)
        self._on_queued = on_queued
        for sub in subscriptions.subscriptions:
            if sub.function not in self._functions:
                log.warning(
                    "subscription %s targets %s, which the app does not define; its events"
                    " are logged but not delivered",
                    sub.name,
                    sub.function,
                    extra={"subscription": sub.name, "function": sub.function},
                )

    def ingest(
        self,
        events: Sequence[Mapping[str, Any]],
        source: str,
        *,
        blob_mark: BlobMark | None = None,
    ) -> None:
        new = []
        for event in events:
            targets = [
                (sub.name, sub.function)
                for sub in self._subscriptions.route(event, source)
                if sub.function in self._functions
            ]
            event_type = str(event.get("type", event.get("eventType", "")))
            new.append(
                NewEvent(
                    id=str(event.get("id")),
                    type=event_type,
                    source=source,
                    body=json.dumps(event, separators=(",", ":")),
                    targets=targets,
                )
            )
            log.info(
                "event %s %s -> %s",
                event_type,
                event.get("id"),
                ", ".join(t[0] for t in targets) or "no subscription",
                extra={"event_type": event_type, "event_id": event.get("id"), "source": source},
            )
        self._state.append_events(new, blob_mark=blob_mark)
        self._on_queued()


class TopicEndpoint:
    """``POST /devhost/eventgrid/api/events``: the custom topic's publish API."""

    def __init__(self, key: str, router: EventRouter) -> None:
        self._key = key
        self._router = router

    def handle(self, request: Request) -> Response:  # noqa: PLR0911 - one per refusal
        if request.method != "POST":
            return _error(HTTPStatus.METHOD_NOT_ALLOWED, "Only POST is supported.")
        supplied = request.header("aeg-sas-key") or ""
        if not hmac.compare_digest(supplied.encode(), self._key.encode()):
            return _error(HTTPStatus.UNAUTHORIZED, "The request is not authorized (aeg-sas-key).")
        if len(request.body) > MAX_BATCH_BYTES:
            return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The batch exceeds 1 MB.")
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type not in _CLOUDEVENT_TYPES:
            return _error(
                HTTPStatus.BAD_REQUEST,
                "This topic accepts CloudEvents 1.0: Content-Type must be "
                "application/cloudevents-batch+json or application/cloudevents+json.",
            )
        try:
            payload = json.loads(request.body)
        except ValueError:
            return _error(HTTPStatus.BAD_REQUEST, "The body is not valid JSON.")
        events = payload if isinstance(payload, list) else [payload]
        problem = _validate(events)
        if problem is not None:
            return _error(HTTPStatus.BAD_REQUEST, problem)
        for event in events:
            if len(json.dumps(event).encode()) > MAX_EVENT_BYTES:
                return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "An event exceeds 1 MB.")
        self._router.ingest(events, TOPIC)
        return Response(HTTPStatus.OK)


def _validate(events: Sequence[Any]) -> str | None:
    if not events:
        return "The batch is empty."
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            return f"Event {index} is not a JSON object."
        if event.get("specversion") != "1.0":
            return f"Event {index}: specversion must be '1.0'."
        for attribute in ("id", "source", "type"):
            if not isinstance(event.get(attribute), str) or not event[attribute]:
                return f"Event {index}: required attribute '{attribute}' is missing or empty."
    return None


def _error(status: int, message: str) -> Response:
    body = {"error": {"code": HTTPStatus(status).phrase.replace(" ", ""), "message": message}}
    return Response.json(status, json.dumps(body).encode())
