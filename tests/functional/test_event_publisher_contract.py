"""The event publisher contract, run over both implementations: the Event Grid
adapter (the real azure-eventgrid client against the local host's topic on
loopback) and its embedded twin. Code that publishes correctly to one
publishes correctly to the other."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import pytest
import requests

from kernel.errors import DependencyError, InvalidValueError
from kernel.events.embedded import EmbeddedEventPublisher
from kernel.events.eventgrid import EventGridPublisher
from kernel.events.ports import MAX_EVENT_BYTES, EventPublisher, EventTooLargeError

app = func.FunctionApp()


@app.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent) -> None:
    """Present so the topic's subscription map has a function to route to."""


@app.event_grid_trigger(arg_name="event")
def notify_completion(event: func.CloudEvent) -> None:
    """Present so every subscription in the map has its function."""


@dataclass
class Topic:
    publisher: EventPublisher
    #: The events the topic accepted, as it stored them, oldest first.
    published: Callable[[], list[dict[str, Any]]]
    #: A publisher for a topic that cannot be reached.
    unreachable: Callable[[], EventPublisher]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["eventgrid", "embedded"])
def topic(request: pytest.FixtureRequest, start_devhost: Any) -> Iterator[Topic]:
    if request.param == "eventgrid":
        host = start_devhost(app)

        def stored() -> list[dict[str, Any]]:
            events: list[dict[str, Any]] = requests.get(
                host.base_url + "/devhost/events", timeout=10
            ).json()
            return events

        yield Topic(
            EventGridPublisher(host.topic_endpoint, key=host.topic_key),
            stored,
            lambda: EventGridPublisher(f"http://127.0.0.1:{_closed_port()}/api/events", key="k"),
        )
    else:
        embedded = EmbeddedEventPublisher()

        def down() -> EventPublisher:
            twin = EmbeddedEventPublisher()
            twin.unavailable = True
            return twin

        yield Topic(embedded, lambda: embedded.events, down)


def event(**changes: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/docflow/documents",
        "type": "contract.test",
        "subject": "documents/d1",
        "time": "2026-03-14T12:00:00+00:00",
        "datacontenttype": "application/json",
        "data": {"document_id": "d1", "filename": "résumé.pdf"},
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        **changes,
    }


def test_published_events_are_stored_whole_and_in_order(topic: Topic) -> None:
    """Attributes, data and extensions (traceparent) arrive as published, in order."""
    first, second = event(), event(type="contract.second")
    topic.publisher.publish([first, second])
    stored = topic.published()
    assert [e["id"] for e in stored] == [first["id"], second["id"]]
    for sent, got in zip((first, second), stored, strict=True):
        for name in ("id", "source", "type", "subject", "data", "traceparent"):
            assert got[name] == sent[name]


@pytest.mark.parametrize(
    "broken",
    [
        {"specversion": "0.3"},
        {"id": ""},
        {"source": None},
        {"type": 7},
    ],
)
def test_an_event_the_topic_would_refuse_is_a_permanent_error(
    topic: Topic, broken: dict[str, Any]
) -> None:
    """Invalid events fail with InvalidValueError (never retried), and nothing of
    the batch is published."""
    with pytest.raises(InvalidValueError):
        topic.publisher.publish([event(), event(**broken)])
    assert topic.published() == []


def test_an_oversized_event_is_refused_as_too_large(topic: Topic) -> None:
    """An event over the topic's 1 MB fails as EventTooLargeError, not as an outage."""
    padding = "x" * MAX_EVENT_BYTES
    with pytest.raises(EventTooLargeError):
        topic.publisher.publish([event(data={"padding": padding})])
    assert topic.published() == []


def test_an_event_just_under_the_limit_is_accepted(topic: Topic) -> None:
    """The limit is the topic's: a large event that fits is published."""
    big = event(data={"padding": ""})
    room = MAX_EVENT_BYTES - len(json.dumps(big, separators=(",", ":")).encode()) - 1024
    big["data"]["padding"] = "y" * room
    topic.publisher.publish([big])
    assert [e["id"] for e in topic.published()] == [big["id"]]


def test_an_unreachable_topic_is_a_transient_error(topic: Topic) -> None:
    """A topic that cannot be reached fails with DependencyError, which callers retry."""
    with pytest.raises(DependencyError):
        topic.unreachable().publish([event()])


def test_publishing_nothing_is_refused(topic: Topic) -> None:
    with pytest.raises(InvalidValueError):
        topic.publisher.publish([])


def test_a_ping_publishes_nothing_and_answers(topic: Topic) -> None:
    topic.publisher.ping(2.0)
    assert topic.published() == []


def test_an_unreachable_topic_fails_a_ping(topic: Topic) -> None:
    with pytest.raises(DependencyError):
        topic.unreachable().ping(1.0)


def test_a_ping_with_a_wrong_key_fails(start_devhost: Any) -> None:
    """Reachable is not enough: the topic must accept the publisher's credential."""
    host = start_devhost(app)
    with pytest.raises(DependencyError, match="401"):
        EventGridPublisher(host.topic_endpoint, key="not-the-key").ping(2.0)
