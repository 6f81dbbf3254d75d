"""What the notifier forwards: the event a trigger received, as a CloudEvents 1.0 object."""

from __future__ import annotations

import json

from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.meta import Datum

from kernel.events.cloudevents import InboundEvent
from tests.support.webhooks import completion_event


def decode(body: dict[str, object]) -> object:
    return EventGridEventInConverter.decode(
        Datum(type="json", value=json.dumps(body)), trigger_metadata={}
    )


def test_a_cloudevent_keeps_its_attributes_data_and_extensions() -> None:
    event = completion_event("evt-1")
    forwarded = InboundEvent.from_trigger(decode(event)).cloudevent
    assert {k: v for k, v in forwarded.items() if k != "time"} == {
        k: v for k, v in event.items() if k != "time"
    }
    assert forwarded["time"] == "2026-03-14T12:00:00+00:00"


def test_an_event_grid_schema_event_becomes_a_cloudevent() -> None:
    forwarded = InboundEvent.from_trigger(
        decode(
            {
                "id": "eg-1",
                "topic": "/subscriptions/s/resourceGroups/r/providers/Microsoft.EventGrid/topics/t",
                "subject": "documents/d1",
                "eventType": "document.processing.failed",
                "eventTime": "2026-03-14T12:00:00Z",
                "data": {"document_id": "d1", "status": "failed"},
                "dataVersion": "1",
            }
        )
    ).cloudevent
    assert forwarded["specversion"] == "1.0"
    assert forwarded["id"] == "eg-1"
    assert forwarded["type"] == "document.processing.failed"
    assert forwarded["source"].endswith("/topics/t")
    assert forwarded["data"] == {"document_id": "d1", "status": "failed"}
    assert forwarded["time"].startswith("2026-03-14T12:00:00")
