"""Fan-out of completion events to webhooks and Logic Apps.

The CloudEvent is serialised once; for every active subscription whose event
types match, and every Logic App URL, a delivery row keyed by (target, event
id) is inserted — the insert is the exactly-once check: a duplicate event
finds the key taken — and one job is put on the delivery queue. Targets never
wait for one another: each job is its own queue message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kernel.clock import Clock
from kernel.egress.redaction import redact_url
from kernel.errors import ConflictError
from kernel.events.catalog import NOTICE_TYPES
from kernel.identity import LOCAL_OWNER
from notifications.jobs import Job, JobQueue
from notifications.records import Delivery, DeliveryState, event_hash
from notifications.repository import DeliveryRepository, SubscriptionRepository
from notifications.targets import Targets

log = logging.getLogger(__name__)

#: The body is stored in one row property (64 KiB of UTF-16).
MAX_BODY_CHARS = 30_000


@dataclass(frozen=True, slots=True)
class FanOutResult:
    targets: int
    enqueued: int
    duplicates: int


#: What a trimmed notice keeps of the event's data.
_KEPT_DATA = ("document_id", "status", "result_url", "filename", "content_type", "source")
_KEPT_ATTRIBUTES = (
    "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "traceparent"
)  # fmt: skip


def trimmed(event: Mapping[str, Any]) -> dict[str, Any]:
    """``event`` cut to what fits a notice: its context attributes and the
    document's outcome and links, marked ``"truncated": true``."""
    data = event.get("data")
    kept = {key: data[key] for key in _KEPT_DATA if isinstance(data, Mapping) and key in data}
    notice = {key: event[key] for key in _KEPT_ATTRIBUTES if key in event}
    notice["data"] = {
        key: value[:500] if isinstance(value, str) else value for key, value in kept.items()
    }
    notice["data"]["truncated"] = True
    return notice


class FanOut:
    def __init__(
        self,
        *,
        subscriptions: SubscriptionRepository,
        deliveries: DeliveryRepository,
        targets: Targets,
        jobs: JobQueue,
        clock: Clock,
        workers: int = 8,
    ) -> None:
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._targets = targets
        self._jobs = jobs
        self._clock = clock
        self._workers = max(1, workers)

    def fan_out(self, event: Mapping[str, Any]) -> FanOutResult:
        """One delivery per matching target for the CloudEvent ``event``."""
        event_type = str(event.get("type", ""))
        event_id = str(event.get("id", ""))
        if event_type not in NOTICE_TYPES or not event_id:
            log.info("webhook.fanout_ignored", extra={"ce_type": event_type})
            return FanOutResult(0, 0, 0)
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        if len(body) > MAX_BODY_CHARS:
            # Never dropped: receivers get the outcome and the link to the result.
            log.warning("webhook.event_trimmed", extra={"body_chars": len(body)})
            body = json.dumps(trimmed(event), separators=(",", ":"), ensure_ascii=False)
        # A document's notices reach its owner's subscriptions only; the Logic
        # Apps of LOGIC_APP_URL are the deployment's own and receive every one.
        data = event.get("data")
        owner = str(data.get("owner") or LOCAL_OWNER) if isinstance(data, Mapping) else LOCAL_OWNER
        targets = [
            (s.id, s.url) for s in self._subscriptions.active(owner) if event_type in s.event_types
        ]
        targets += list(self._targets.logic_apps.items())
        now = self._clock()
        digest = event_hash(event_id)

        def one(target: tuple[str, str]) -> bool:
            delivery = Delivery(
                target_id=target[0],
                digest=digest,
                event_id=event_id,
                event_type=event_type,
                body=body,
                url=redact_url(target[1]),
                state=DeliveryState.PENDING,
                created_at=now,
                updated_at=now,
                next_attempt_at=now,
                owner=owner,
            )
            return self._fan_out_one(delivery, now)

        if len(targets) > 1 and self._workers > 1:
            workers = min(self._workers, len(targets))
            with ThreadPoolExecutor(workers, thread_name_prefix="webhook-fanout") as pool:
                fresh = list(pool.map(one, targets))
        else:
            fresh = [one(t) for t in targets]
        result = FanOutResult(len(targets), sum(fresh), len(fresh) - sum(fresh))
        log.info(
            "webhook.fanout",
            extra={
                "ce_type": event_type,
                "targets": result.targets,
                "enqueued": result.enqueued,
                "duplicates": result.duplicates,
            },
        )
        return result

    def _fan_out_one(self, delivery: Delivery, now: datetime) -> bool:
        """Claim and enqueue one delivery; False when the event already had one."""
        first = Job(delivery.target_id, delivery.digest, 1, 1, now.timestamp())
        try:
            self._deliveries.claim(delivery)
        except ConflictError:
            existing = self._deliveries.get(delivery.target_id, delivery.digest)
            if existing.state is DeliveryState.PENDING and existing.attempts == 0:
                # An earlier fan-out may have stopped between the insert and
                # the enqueue; a second job for attempt 1 is harmless (the
                # attempt claim lets only one send).
                self._jobs.enqueue(first, 0.0)
            return False
        self._jobs.enqueue(first, 0.0)
        return True
