"""Publishing CloudEvents to an Event Grid custom topic with ``azure-eventgrid``.

The app's shared credential (managed identity) in Azure; a key credential
when ``EVENTGRID_TOPIC_KEY`` is set (the local host's topic uses one).
Events are checked against the topic's rules before they are sent, so an
event the topic would refuse (too large, say) fails at once as a permanent
error instead of being retried as if the topic were down.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kernel.credentials import CredentialFactory
from kernel.errors import DependencyError, InvalidValueError
from kernel.events.ports import check_events

if TYPE_CHECKING:
    from azure.eventgrid import EventGridPublisherClient

_KNOWN_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"}
)


class EventGridPublisher:
    """The Azure implementation of :class:`kernel.events.ports.EventPublisher`."""

    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None = None,
        credential: CredentialFactory | None = None,
    ) -> None:
        if key is None and credential is None:
            raise ValueError("an Event Grid publisher needs a key or a credential")
        self._endpoint = endpoint
        self._key = key
        self._credential = credential
        self._client: EventGridPublisherClient | None = None
        self._lock = threading.Lock()

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        from azure.core.exceptions import AzureError, HttpResponseError
        from azure.core.messaging import CloudEvent

        check_events(events)
        cloud_events = [
            CloudEvent(
                source=event["source"],
                type=event["type"],
                data=event.get("data"),
                subject=event.get("subject"),
                id=event["id"],
                time=_parse_time(event.get("time")),
                datacontenttype=event.get("datacontenttype"),
                extensions={k: v for k, v in event.items() if k not in _KNOWN_ATTRIBUTES} or None,
            )
            for event in events
        ]
        try:
            self._get_client().send(cloud_events)
        except HttpResponseError as exc:
            if exc.status_code in (400, 413):
                raise InvalidValueError(
                    f"the topic refused the events ({exc.status_code})"
                ) from exc
            raise DependencyError("publishing to Event Grid failed") from exc
        except AzureError as exc:
            raise DependencyError("publishing to Event Grid failed") from exc

    def _get_client(self) -> EventGridPublisherClient:
        with self._lock:
            if self._client is None:
                from azure.eventgrid import EventGridPublisherClient

                # The client keeps azure-core's default retries (3); it ignores
                # retry keyword arguments for basic topics.
                self._client = EventGridPublisherClient(self._endpoint, self._signer())
            return self._client

    def _signer(self) -> Any:
        if self._key:
            from azure.core.credentials import AzureKeyCredential

            return AzureKeyCredential(self._key)
        assert self._credential is not None
        return self._credential()


def _parse_time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
