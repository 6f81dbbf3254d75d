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
    from azure.core import PipelineClient
    from azure.eventgrid import EventGridPublisherClient

#: The publish API's version and batch media type, as the SDK sends them.
API_VERSION = "2018-01-01"
CLOUDEVENTS_BATCH = "application/cloudevents-batch+json; charset=utf-8"
#: Answers to an empty batch that prove the topic is there and took the credential:
#: accepted (nothing to do), or refused as empty only after authentication passed.
_PING_ANSWERS = frozenset({200, 400})
#: The token audience of Event Grid's data plane.
EVENTGRID_SCOPE = "https://eventgrid.azure.net/.default"

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
        self._probe: PipelineClient[Any, Any] | None = None
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

    def ping(self, timeout: float) -> None:
        """POST an empty batch (it publishes nothing) with the publisher's
        credential, once, with ``timeout`` for connecting and reading."""
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        request = HttpRequest(
            "POST",
            self._endpoint,
            params={"api-version": API_VERSION},
            headers={"Content-Type": CLOUDEVENTS_BATCH},
            content=b"[]",
        )
        try:
            response = self._probe_client().send_request(
                request, connection_timeout=timeout, read_timeout=timeout
            )
        except AzureError as exc:
            raise DependencyError("the event topic did not answer") from exc
        if response.status_code not in _PING_ANSWERS:
            raise DependencyError(f"the event topic answered {response.status_code}")

    def _probe_client(self) -> PipelineClient[Any, Any]:
        with self._lock:
            if self._probe is None:
                from azure.core import PipelineClient
                from azure.core.credentials import AzureKeyCredential
                from azure.core.pipeline.policies import (
                    AzureKeyCredentialPolicy,
                    BearerTokenCredentialPolicy,
                )

                auth = (
                    AzureKeyCredentialPolicy(AzureKeyCredential(self._key), "aeg-sas-key")
                    if self._key
                    else BearerTokenCredentialPolicy(self._signer(), EVENTGRID_SCOPE)
                )
                # No retry policy: one try, so readiness answers within its timeout.
                self._probe = PipelineClient(base_url=self._endpoint, policies=[auth])
            return self._probe

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
