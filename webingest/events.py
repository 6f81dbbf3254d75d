"""Web ingestion's events: one ``crawl.completed`` per crawl, one
``batch.completed`` per batch, with deterministic ids (a republish is the
same event)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from kernel.events.catalog import BATCH_COMPLETED, CRAWL_COMPLETED
from kernel.events.cloudevents import OutboundEvent

_NAMESPACE = uuid.UUID("0b7f3f5e-2a41-4f0e-9c55-6d1f4b8a2e91")


def crawl_completed(
    crawl_id: str, owner: str, now: datetime, data: dict[str, Any]
) -> OutboundEvent:
    return _event(CRAWL_COMPLETED, "crawl", crawl_id, owner=owner, now=now, data=data)


def batch_completed(
    batch_id: str, owner: str, now: datetime, data: dict[str, Any]
) -> OutboundEvent:
    return _event(BATCH_COMPLETED, "batch", batch_id, owner=owner, now=now, data=data)


def _event(
    event_type: str, kind: str, item_id: str, *, owner: str, now: datetime, data: dict[str, Any]
) -> OutboundEvent:
    return OutboundEvent(
        id=str(uuid.uuid5(_NAMESPACE, f"{kind}:{item_id}")),
        type=event_type,
        subject=f"{kind}es/{item_id}" if kind == "batch" else f"{kind}s/{item_id}",
        time=now,
        data={f"{kind}_id": item_id, "owner": owner, **data},
    )
