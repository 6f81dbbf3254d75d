"""The event publisher port.

Implemented by :class:`~kernel.events.eventgrid.EventGridPublisher` (Azure
Event Grid, or the local host's topic) and its embedded twin
:class:`~kernel.events.embedded.EmbeddedEventPublisher`; both pass the same
contract tests (``tests/functional/test_event_publisher_contract.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from kernel.errors import InvalidValueError

#: Event Grid's limit for one event, and for one publish request (both 1 MB).
MAX_EVENT_BYTES = 1024 * 1024
MAX_BATCH_BYTES = 1024 * 1024
#: The CloudEvents attributes every event must carry.
REQUIRED_ATTRIBUTES = ("id", "source", "type")


class EventTooLargeError(InvalidValueError):
    """An event is over the topic's size limit: permanent, the same event never fits."""

    code: ClassVar[str] = "event_too_large"


class EventPublisher(Protocol):
    """Publishes CloudEvents 1.0 to the app's topic.

    Raises :class:`~kernel.errors.InvalidValueError` for an event the topic
    would refuse (``EventTooLargeError`` when it is too large) and
    :class:`~kernel.errors.DependencyError` when the topic cannot be reached.
    """

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Publish structured-mode CloudEvents (dicts with ``specversion``,
        ``id``, ``source``, ``type``, ``subject``, ``time``, ``data`` and
        extension attributes such as ``traceparent``), all or none."""
        ...

    def ping(self, timeout: float) -> None:
        """Return once the topic answers this publisher (reachable, and its
        credential accepted) within about ``timeout`` seconds, publishing
        nothing; DependencyError when it does not (readiness)."""
        ...


def check_events(events: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Each event's JSON encoding, once every event is one the topic accepts."""
    if not events:
        raise InvalidValueError("publish needs at least one event")
    encoded = []
    for index, event in enumerate(events):
        if event.get("specversion") != "1.0":
            raise InvalidValueError(f"event {index}: specversion must be '1.0'")
        for attribute in REQUIRED_ATTRIBUTES:
            value = event.get(attribute)
            if not isinstance(value, str) or not value:
                raise InvalidValueError(f"event {index}: {attribute!r} must be a non-empty string")
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        if len(body) > MAX_EVENT_BYTES:
            raise EventTooLargeError(
                f"event {index} is {len(body)} bytes; the topic accepts at most {MAX_EVENT_BYTES}"
            )
        encoded.append(body)
    if sum(len(body) for body in encoded) > MAX_BATCH_BYTES:
        raise EventTooLargeError(f"the batch is over the topic's {MAX_BATCH_BYTES}-byte limit")
    return encoded
