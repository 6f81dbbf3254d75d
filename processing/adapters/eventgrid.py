"""Publishing CloudEvents to an Event Grid custom topic with ``azure-eventgrid``.

Managed identity (``DefaultAzureCredential``) in Azure; a key credential when
``EVENTGRID_TOPIC_KEY`` is set (the local dev host's topic uses one).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from processing.extraction.errors import DependencyError

if TYPE_CHECKING:
    from azure.eventgrid import EventGridPublisherClient

_KNOWN_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"}
)


class EventGridPublisher:
    """The Azure implementation of :class:`processing.ports.EventPublisher`."""

    def __init__(
        self, endpoint: str, *, key: str | None = None, client_id: str | None = None
    ) -> None:
        self._endpoint = endpoint
        self._key = key
        self._client_id = client_id
        self._client: EventGridPublisherClient | None = None
        self._lock = threading.Lock()

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        from azure.core.exceptions import AzureError
        from azure.core.messaging import CloudEvent

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
        except AzureError as exc:
            raise DependencyError("publishing to Event Grid failed") from exc

    def _get_client(self) -> EventGridPublisherClient:
        with self._lock:
            if self._client is None:
                from azure.eventgrid import EventGridPublisherClient

                # The client keeps azure-core's default retries (3); it ignores
                # retry keyword arguments for basic topics.
                self._client = EventGridPublisherClient(self._endpoint, self._credential())
            return self._client

    def _credential(self) -> Any:
        if self._key:
            from azure.core.credentials import AzureKeyCredential

            return AzureKeyCredential(self._key)
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential(managed_identity_client_id=self._client_id)


def _parse_time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
