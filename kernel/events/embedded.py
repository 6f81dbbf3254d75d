"""The embedded twin of the Event Grid publisher: events kept in memory, in order.

It applies the topic's rules (:func:`kernel.events.ports.check_events`) just
as :class:`~kernel.events.eventgrid.EventGridPublisher` does, so code that
publishes correctly here publishes correctly to Azure; subscribers registered
with :meth:`EmbeddedEventPublisher.subscribe` get each accepted batch, which
is how a single process can route events without a topic.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kernel.errors import DependencyError
from kernel.events.ports import check_events

Subscriber = Callable[[list[dict[str, Any]]], None]


class EmbeddedEventPublisher:
    """:class:`kernel.events.ports.EventPublisher` in memory; thread-safe."""

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        #: Set to make every publish fail as if the topic were unreachable.
        self.unavailable = False

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        encoded = check_events(events)
        if self.unavailable:
            raise DependencyError("the embedded topic is unavailable")
        # A JSON round trip, as over the wire: later changes to the caller's
        # dicts do not reach what was published.
        accepted = [json.loads(body) for body in encoded]
        with self._lock:
            self._events.extend(accepted)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber([dict(event) for event in accepted])

    def ping(self, timeout: float) -> None:
        if self.unavailable:
            raise DependencyError("the embedded topic is unavailable")

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event published so far, oldest first."""
        with self._lock:
            return [dict(event) for event in self._events]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == event_type]

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)
