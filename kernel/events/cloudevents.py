"""Typed CloudEvents: what the app publishes, and what its Event Grid triggers receive.

Outbound events are CloudEvents 1.0 (structured mode, JSON). An Event Grid
trigger receives, through the Functions library's converter, a
``func.CloudEvent`` for subscriptions with the CloudEvents delivery schema
(the app's custom topic) and a ``func.EventGridEvent`` for those with the
Event Grid schema (the storage account's system topic);
:meth:`InboundEvent.from_trigger` takes either, and the capabilities' typed
events are built from it with ``from_event`` constructors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kernel.errors import InvalidEventError
from kernel.events.catalog import EVENT_SOURCE

#: Context attributes of CloudEvents 1.0 other than ``specversion`` and ``data``.
_ATTRIBUTES = ("id", "source", "type", "subject", "datacontenttype", "dataschema")


@dataclass(frozen=True, slots=True)
class OutboundEvent:
    """A CloudEvent this app publishes."""

    id: str
    type: str
    subject: str
    time: datetime
    data: Mapping[str, Any]
    traceparent: str | None = None
    source: str = EVENT_SOURCE
    extensions: Mapping[str, str] = field(default_factory=dict)

    def to_cloudevent(self) -> dict[str, Any]:
        """Structured-mode CloudEvents 1.0 JSON object."""
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "data": dict(self.data),
        }
        if self.traceparent:
            event["traceparent"] = self.traceparent
        event.update(self.extensions)
        return event


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """An event as a trigger received it, whatever its delivery schema."""

    id: str
    type: str
    subject: str
    #: The event's data as delivered (a JSON value; see :meth:`data_object`).
    data: Any
    time: datetime | None = None
    traceparent: str | None = None
    source: str = ""
    #: The structured-mode CloudEvent, as forwarded to webhooks.
    cloudevent: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_trigger(cls, event: Any) -> InboundEvent:
        """Build from the ``func.CloudEvent`` or ``func.EventGridEvent`` a trigger got."""
        if hasattr(event, "specversion"):  # CloudEvents delivery schema
            extensions = dict(getattr(event, "extension_attrs", None) or {})
            document: dict[str, Any] = {"specversion": str(event.specversion or "1.0")}
            for name in _ATTRIBUTES:
                value = getattr(event, name, None)
                if value is not None:
                    document[name] = value
            if event.time is not None:
                document["time"] = _time(event.time)
            data = event.get_json()
            document["data"] = data
            for name, value in extensions.items():
                document.setdefault(name, value)
            traceparent = extensions.get("traceparent")
            return cls(
                id=str(event.id),
                type=str(event.type),
                subject=str(event.subject or ""),
                source=str(event.source or ""),
                data=data,
                time=event.time,
                traceparent=traceparent if isinstance(traceparent, str) else None,
                cloudevent=document,
            )
        data = event.get_json()
        event_time = getattr(event, "event_time", None)
        source = str(getattr(event, "topic", None) or EVENT_SOURCE)
        document = {
            "specversion": "1.0",
            "id": str(event.id),
            "source": source,
            "type": str(event.event_type),
            "subject": str(event.subject or ""),
            "datacontenttype": "application/json",
            "data": data,
        }
        if event_time is not None:
            document["time"] = _time(event_time)
        traceparent = data.get("traceparent") if isinstance(data, Mapping) else None
        return cls(
            id=str(event.id),
            type=str(event.event_type),
            subject=str(event.subject or ""),
            source=source,
            data=data,
            time=event_time if isinstance(event_time, datetime) else None,
            traceparent=traceparent if isinstance(traceparent, str) else None,
            cloudevent=document,
        )

    def data_object(self) -> Mapping[str, Any]:
        """The data as a JSON object; InvalidEventError when it is anything else."""
        if isinstance(self.data, Mapping):
            return self.data
        raise InvalidEventError("event data is not a JSON object")


def _time(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
