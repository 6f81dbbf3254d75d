"""The CloudEvent a notifier invocation received, as the JSON object to forward."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from processing.events import EVENT_SOURCE

_CLOUDEVENT_ATTRIBUTES = ("id", "source", "type", "subject", "datacontenttype", "dataschema")


def cloudevent_from_trigger(event: Any) -> dict[str, Any]:
    """A structured-mode CloudEvents 1.0 object from ``azure.functions.CloudEvent``
    (CloudEvents schema) or ``azure.functions.EventGridEvent`` (Event Grid schema)."""
    if hasattr(event, "specversion"):
        document: dict[str, Any] = {"specversion": str(event.specversion or "1.0")}
        for name in _CLOUDEVENT_ATTRIBUTES:
            value = getattr(event, name, None)
            if value is not None:
                document[name] = value
        if event.time is not None:
            document["time"] = _time(event.time)
        document["data"] = event.get_json()
        for name, value in (getattr(event, "extension_attrs", None) or {}).items():
            document.setdefault(name, value)
        return document
    document = {
        "specversion": "1.0",
        "id": str(event.id),
        "source": str(getattr(event, "topic", None) or EVENT_SOURCE),
        "type": str(event.event_type),
        "subject": str(event.subject or ""),
        "datacontenttype": "application/json",
        "data": event.get_json(),
    }
    event_time = getattr(event, "event_time", None)
    if event_time is not None:
        document["time"] = _time(event_time)
    return document


def _time(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
