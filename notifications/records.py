"""Subscriptions, deliveries and attempts, and how they map to table entities.

Layout (two tables, names from settings):

``webhooksubscriptions``
    ``PartitionKey="sub"``, ``RowKey=<subscription id>`` (``sub_`` + 12 hex
    of the creation time in ms + 8 random hex, so RowKey order is creation
    order). Holds the URL, event types, status and the signing secrets.

``webhookdeliveries``, partitioned by target (a subscription id, or
``logicapp-<hash>`` for a ``LOGIC_APP_URL`` entry)
    - ``RowKey="d.<event hash>"``: one delivery (notice) of one event to the
      target. The key is derived from the event id, so inserting it is the
      idempotency check: a duplicate completion event finds it taken. It holds
      the exact body bytes that are signed and sent on every attempt.
    - ``RowKey="a.<inverted ms>.<event hash>.<attempt>"``: one attempt,
      newest first (what ``GET /subscriptions/{id}/deliveries`` lists).

    ``PartitionKey="deadletters"``, ``RowKey=<delivery id>``: notices whose
    attempts ran out, across all targets, until replayed.

A delivery id is ``<target id>.<event hash>``: it names its partition, so
``POST /deliveries/{id}/redeliver`` needs no index. It is also the
``webhook-id`` header, stable across retries and replays of the notice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.clock import iso, optional_iso, optional_time, parse_time
from kernel.egress.redaction import redact_url
from kernel.identity import LOCAL_OWNER, tenant_of
from kernel.storage.ports import Row

SUBSCRIPTION_PARTITION = "sub"
DEADLETTER_PARTITION = "deadletters"
DELIVERY_PREFIX = "d."
ATTEMPT_PREFIX = "a."
#: Sorts after every attempt key ("a." + hex digits and dots).
ATTEMPT_END = "a.~"
LOGIC_APP_PREFIX = "logicapp-"

_SUBSCRIPTION_ID = re.compile(r"^sub_[0-9a-f]{20}$")
_LOGIC_APP_ID = re.compile(r"^logicapp-[0-9a-f]{16}$")
_EVENT_HASH = re.compile(r"^[0-9a-f]{24}$")
_MAX_MS = 16**13 - 1


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryState(StrEnum):
    #: Waiting for its next attempt (queued, possibly hidden until due).
    PENDING = "pending"
    #: An attempt is in flight (``lease_until`` says until when at most).
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"
    #: The target went away (subscription deleted, Logic App URL removed).
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (
            DeliveryState.DELIVERED,
            DeliveryState.DEAD_LETTERED,
            DeliveryState.CANCELLED,
        )


_id_lock = threading.Lock()
_last_id = [0, 0]  # the millisecond and random part of the last id made here


def new_subscription_id(now: datetime) -> str:
    """``sub_``, the creation millisecond, then randomness: ids sort in creation
    order, also for ids made in one millisecond (or under a frozen clock) in one
    process, whose random part counts up from the first's."""
    millisecond = int(now.timestamp() * 1000)
    with _id_lock:
        if millisecond <= _last_id[0]:
            millisecond, suffix = _last_id[0], _last_id[1] + 1
        else:
            suffix = secrets.randbits(31)  # headroom below 2**32 for the counting up
        _last_id[:] = [millisecond, suffix]
    return f"sub_{millisecond:012x}{suffix:08x}"


def is_subscription_id(value: str) -> bool:
    return bool(_SUBSCRIPTION_ID.match(value))


def logic_app_id(url: str) -> str:
    """A stable id for a Logic App URL: the hash of the URL without its query,
    so it survives a regenerated SAS signature."""
    without_query = url.split("?", 1)[0].split("#", 1)[0]
    return LOGIC_APP_PREFIX + hashlib.sha256(without_query.encode()).hexdigest()[:16]


def is_target_id(value: str) -> bool:
    return bool(_SUBSCRIPTION_ID.match(value) or _LOGIC_APP_ID.match(value))


def event_hash(event_id: str) -> str:
    return hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:24]


def delivery_id(target_id: str, event_id: str) -> str:
    return f"{target_id}.{event_hash(event_id)}"


def split_delivery_id(value: str) -> tuple[str, str] | None:
    """``(target id, event hash)`` of a well-formed delivery id, else None."""
    target, dot, digest = value.rpartition(".")
    if not dot or not is_target_id(target) or not _EVENT_HASH.match(digest):
        return None
    return target, digest


def attempt_row_key(at: datetime, digest: str, attempt: int) -> str:
    inverted = _MAX_MS - int(at.timestamp() * 1000)
    return f"{ATTEMPT_PREFIX}{inverted:013x}.{digest}.{attempt:03d}"


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    event_types: tuple[str, ...]
    description: str | None
    status: SubscriptionStatus
    created_at: datetime
    updated_at: datetime
    secret: str
    #: The secret before the last rotation, still signing until it expires.
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    disabled_reason: str | None = None
    #: When the current run of failed attempts began (None after a success).
    failing_since: datetime | None = None
    #: Whose subscription this is (kernel.identity): it sees only its owner's notices.
    owner: str = LOCAL_OWNER
    etag: str | None = None

    def replace(self, **changes: Any) -> Subscription:
        return dataclasses.replace(self, **changes)

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign a request at ``now``: the current one, and the
        previous one during its overlap."""
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and now < self.previous_secret_expires_at
        ):
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def to_api(self, *, with_secret: bool = False) -> dict[str, Any]:
        """The public representation; the secret and the whole URL only when
        ``with_secret`` (in the answers to registration and rotation, never
        later): listings show the URL redacted of its query and path tokens."""
        document = {
            "id": self.id,
            "url": self.url if with_secret else redact_url(self.url),
            "event_types": list(self.event_types),
            "description": self.description,
            "status": self.status.value,
            "disabled_reason": self.disabled_reason,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "previous_secret_expires_at": (
                iso(self.previous_secret_expires_at)
                if self.previous_secret and self.previous_secret_expires_at
                else None
            ),
        }
        if with_secret:
            document["secret"] = self.secret
        return document

    def to_row(self) -> Row:
        return {
            "PartitionKey": SUBSCRIPTION_PARTITION,
            "RowKey": self.id,
            "url": self.url,
            "event_types": json.dumps(list(self.event_types)),
            "description": self.description,
            "status": self.status.value,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "secret": self.secret,
            "previous_secret": self.previous_secret,
            "previous_secret_expires_at": optional_iso(self.previous_secret_expires_at),
            "disabled_reason": self.disabled_reason,
            "failing_since": optional_iso(self.failing_since),
            "owner": self.owner,
            "tenant": tenant_of(self.owner),
        }

    @classmethod
    def from_row(cls, row: Row) -> Subscription:
        return cls(
            id=row["RowKey"],
            url=row["url"],
            event_types=tuple(json.loads(row["event_types"])),
            description=row.get("description"),
            status=SubscriptionStatus(row["status"]),
            created_at=parse_time(row["created_at"]),
            updated_at=parse_time(row["updated_at"]),
            secret=row["secret"],
            previous_secret=row.get("previous_secret"),
            previous_secret_expires_at=optional_time(row.get("previous_secret_expires_at")),
            disabled_reason=row.get("disabled_reason"),
            failing_since=optional_time(row.get("failing_since")),
            owner=str(row.get("owner") or LOCAL_OWNER),
            etag=row.get("etag"),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notice of one event to one target, across all its attempts."""

    target_id: str
    digest: str
    event_id: str
    event_type: str
    body: str  # the CloudEvent JSON, exactly as signed and sent
    url: str  # redacted
    state: DeliveryState
    created_at: datetime
    updated_at: datetime
    #: Attempts made so far, over all runs (a replay starts a new run).
    attempts: int = 0
    run: int = 1
    #: ``attempts`` when the current run began.
    run_base: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    delivered_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    #: The owner of the document the notice is about (a subscription target's
    #: owner too: notices fan out to the document owner's subscriptions only).
    owner: str = LOCAL_OWNER
    etag: str | None = None

    @property
    def id(self) -> str:
        return f"{self.target_id}.{self.digest}"

    @property
    def run_attempts(self) -> int:
        return self.attempts - self.run_base

    def replace(self, **changes: Any) -> Delivery:
        return dataclasses.replace(self, **changes)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target_id": self.target_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "status": self.state.value,
            "attempts": self.attempts,
            "next_attempt_at": optional_iso(self.next_attempt_at),
            "delivered_at": optional_iso(self.delivered_at),
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def to_row(self) -> Row:
        return {
            "PartitionKey": self.target_id,
            "RowKey": DELIVERY_PREFIX + self.digest,
            "kind": "delivery",
            "event_id": self.event_id,
            "event_type": self.event_type,
            "body": self.body,
            "url": self.url,
            "state": self.state.value,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "attempts": self.attempts,
            "run": self.run,
            "run_base": self.run_base,
            "next_attempt_at": optional_iso(self.next_attempt_at),
            "lease_until": optional_iso(self.lease_until),
            "delivered_at": optional_iso(self.delivered_at),
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "owner": self.owner,
        }

    @classmethod
    def from_row(cls, row: Row) -> Delivery:
        return cls(
            target_id=row["PartitionKey"],
            digest=row["RowKey"].removeprefix(DELIVERY_PREFIX),
            event_id=row["event_id"],
            event_type=row["event_type"],
            body=row["body"],
            url=row["url"],
            state=DeliveryState(row["state"]),
            created_at=parse_time(row["created_at"]),
            updated_at=parse_time(row["updated_at"]),
            attempts=int(row.get("attempts", 0)),
            run=int(row.get("run", 1)),
            run_base=int(row.get("run_base", 0)),
            next_attempt_at=optional_time(row.get("next_attempt_at")),
            lease_until=optional_time(row.get("lease_until")),
            delivered_at=optional_time(row.get("delivered_at")),
            last_status_code=_optional_int(row.get("last_status_code")),
            last_error=row.get("last_error"),
            owner=str(row.get("owner") or LOCAL_OWNER),
            etag=row.get("etag"),
        )


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt of a delivery, as stored and listed."""

    target_id: str
    digest: str
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    duration_ms: int
    url: str  # redacted
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    response_body: str | None = None
    response_truncated: bool = False
    next_attempt_at: datetime | None = None

    @property
    def delivery_id(self) -> str:
        return f"{self.target_id}.{self.digest}"

    def to_api(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "attempt": self.attempt,
            "attempted_at": iso(self.attempted_at),
            "duration_ms": self.duration_ms,
            "url": self.url,
            "status_code": self.status_code,
            "error": self.error,
            "outcome": self.outcome.value,
            "next_attempt_at": optional_iso(self.next_attempt_at),
            "response_body": self.response_body,
            "response_truncated": self.response_truncated,
        }

    def to_row(self) -> Row:
        return {
            "PartitionKey": self.target_id,
            "RowKey": attempt_row_key(self.attempted_at, self.digest, self.attempt),
            "kind": "attempt",
            "digest": self.digest,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "attempt": self.attempt,
            "attempted_at": iso(self.attempted_at),
            "duration_ms": self.duration_ms,
            "url": self.url,
            "outcome": self.outcome.value,
            "status_code": self.status_code,
            "error": self.error,
            "response_body": self.response_body,
            "response_truncated": self.response_truncated,
            "next_attempt_at": optional_iso(self.next_attempt_at),
        }

    @classmethod
    def from_row(cls, row: Row) -> Attempt:
        return cls(
            target_id=row["PartitionKey"],
            digest=row["digest"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            attempt=int(row["attempt"]),
            attempted_at=parse_time(row["attempted_at"]),
            duration_ms=int(row["duration_ms"]),
            url=row["url"],
            outcome=Outcome(row["outcome"]),
            status_code=_optional_int(row.get("status_code")),
            error=row.get("error"),
            response_body=row.get("response_body"),
            response_truncated=bool(row.get("response_truncated", False)),
            next_attempt_at=optional_time(row.get("next_attempt_at")),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
