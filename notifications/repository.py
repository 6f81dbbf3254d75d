"""Subscriptions and deliveries on a :class:`~kernel.storage.ports.TableStore`
(the layout is in :mod:`notifications.records`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kernel.clock import iso
from kernel.errors import ConflictError, UnsealError
from kernel.identity import Reach, tenant_of
from kernel.sealing import Keyring, Sealed
from kernel.storage.ports import Row, TableStore
from notifications.records import (
    ATTEMPT_END,
    ATTEMPT_PREFIX,
    DEADLETTER_PARTITION,
    DELIVERY_PREFIX,
    SUBSCRIPTION_PARTITION,
    Attempt,
    Delivery,
    DeliveryState,
    Subscription,
    SubscriptionStatus,
    is_subscription_id,
)

#: ``target_kind`` of a dead letter whose target is a webhook subscription.
SUBSCRIPTION_TARGET = "subscription"

log = logging.getLogger(__name__)

_KEYS = frozenset({"PartitionKey", "RowKey", "etag"})
#: The signing secrets, which the table holds only sealed (kernel.sealing).
_SECRET_FIELDS = ("secret", "previous_secret")
_SEALED_SUFFIX = "_sealed"
_KEY_ID_FIELD = "secrets_key_id"


class SubscriptionRepository:
    """Subscriptions, their signing secrets sealed under ``keyring``: a row
    holds the key id and ``secret_sealed`` / ``previous_secret_sealed``, never
    the plaintext (rows written before sealing are read, and sealed on their
    next write or by :meth:`reseal_all`)."""

    def __init__(self, tables: TableStore, table: str, keyring: Keyring) -> None:
        self._tables = tables
        self._table = table
        self._keyring = keyring

    def create(self, subscription: Subscription) -> Subscription:
        """Insert; ConflictError if the id is taken."""
        etag = self._tables.insert(self._table, self._sealed_row(subscription))
        return subscription.replace(etag=etag)

    def get(self, subscription_id: str) -> Subscription:
        """NotFoundError when there is no such subscription."""
        entity = self._tables.get(self._table, SUBSCRIPTION_PARTITION, subscription_id)
        return self._opened(entity)

    def save(self, subscription: Subscription) -> Subscription:
        """Replace if unchanged since read (ConflictError otherwise)."""
        if subscription.etag is None:
            raise ValueError("save() needs a subscription that was read")
        etag = self._tables.update(
            self._table, self._sealed_row(subscription), etag=subscription.etag
        )
        return subscription.replace(etag=etag)

    def reseal_all(self) -> int:
        """Seal every subscription's secrets under the current key (after a key
        rotation, or for rows from before sealing); how many rows changed."""
        changed = 0
        for entity in self._tables.query(self._table, SUBSCRIPTION_PARTITION):
            if entity.get(_KEY_ID_FIELD) == self._keyring.current and "secret" not in entity:
                continue
            try:
                self.save(self._opened(entity))
            except ConflictError:
                continue  # written meanwhile, so sealed under the current key
            changed += 1
        return changed

    def _sealed_row(self, subscription: Subscription) -> Row:
        row = subscription.to_row()
        for name in _SECRET_FIELDS:
            plaintext = row.pop(name)
            row[name + _SEALED_SUFFIX] = (
                self._keyring.seal(plaintext, context=_context(subscription.id, name)).token
                if plaintext
                else None
            )
        row[_KEY_ID_FIELD] = self._keyring.current
        return row

    def _opened(self, entity: Row) -> Subscription:
        row = dict(entity)
        key_id = row.pop(_KEY_ID_FIELD, None)
        for name in _SECRET_FIELDS:
            token = row.pop(name + _SEALED_SUFFIX, None)
            if key_id is not None and token:
                sealed = Sealed(str(key_id), str(token))
                row[name] = self._keyring.open(sealed, context=_context(row["RowKey"], name))
        return Subscription.from_row(row)

    def delete(self, subscription_id: str) -> None:
        self._tables.delete(self._table, SUBSCRIPTION_PARTITION, subscription_id)

    def page(
        self, *, after: str | None, limit: int, reach: Reach | None = None
    ) -> list[Subscription]:
        """Subscriptions in creation order (only those within ``reach`` when given)."""
        entities = self._tables.query(
            self._table,
            SUBSCRIPTION_PARTITION,
            equals=reach.where if reach is not None else None,
            row_key_after=after,
            limit=limit,
        )
        return [self._opened(e) for e in entities]

    def active(self, owner: str | None = None) -> list[Subscription]:
        """Active subscriptions (only ``owner``'s when given, filtered in storage)."""
        equals = {"status": SubscriptionStatus.ACTIVE.value}
        if owner is not None:
            equals["owner"] = owner
        entities = self._tables.query(self._table, SUBSCRIPTION_PARTITION, equals=equals)
        opened = []
        for entity in entities:
            try:
                opened.append(self._opened(entity))
            except UnsealError:
                # One unreadable row must not stop every other subscriber's notice.
                log.error("webhook.secret_unreadable", extra={"subscription_id": entity["RowKey"]})
        return opened


def _context(subscription_id: str, name: str) -> str:
    return f"webhook-subscription/{subscription_id}/{name}"


class DeliveryRepository:
    def __init__(self, tables: TableStore, table: str) -> None:
        self._tables = tables
        self._table = table

    def claim(self, delivery: Delivery) -> Delivery:
        """Insert a new delivery; ConflictError if this event already has one
        for this target (the exactly-once check of the fan-out)."""
        etag = self._tables.insert(self._table, delivery.to_row())
        return delivery.replace(etag=etag)

    def get(self, target_id: str, digest: str) -> Delivery:
        entity = self._tables.get(self._table, target_id, DELIVERY_PREFIX + digest)
        return Delivery.from_row(entity)

    def save(self, delivery: Delivery) -> Delivery:
        """Replace if unchanged since read (ConflictError otherwise)."""
        if delivery.etag is None:
            raise ValueError("save() needs a delivery that was read")
        etag = self._tables.update(self._table, delivery.to_row(), etag=delivery.etag)
        return delivery.replace(etag=etag)

    def finish(
        self,
        delivery: Delivery,
        state: DeliveryState,
        now: datetime,
        *,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
    ) -> Delivery | None:
        """Record the end of an attempt (or of the delivery) in ``state``;
        None when a later copy of the job took the delivery over meanwhile
        (its record wins)."""
        try:
            return self.save(
                delivery.replace(
                    state=state,
                    lease_until=None,
                    next_attempt_at=next_attempt_at,
                    delivered_at=now if state is DeliveryState.DELIVERED else None,
                    last_error=error or delivery.last_error,
                    updated_at=now,
                )
            )
        except ConflictError:
            log.warning("webhook.state_superseded", extra={"delivery_id": delivery.id})
            return None

    def record_attempt(self, attempt: Attempt) -> None:
        self._tables.upsert(self._table, attempt.to_row())

    def attempts(
        self, target_id: str, *, after: str | None, limit: int
    ) -> list[tuple[str, Attempt]]:
        """``(cursor, attempt)`` pairs for ``target_id``, newest first."""
        entities = self._tables.query(
            self._table,
            target_id,
            row_key_after=after if after and after.startswith(ATTEMPT_PREFIX) else ATTEMPT_PREFIX,
            row_key_before=ATTEMPT_END,
            limit=limit,
        )
        return [(e["RowKey"], Attempt.from_row(e)) for e in entities]

    def dead_letter(self, delivery: Delivery, reason: str, at: datetime) -> None:
        self._tables.upsert(
            self._table,
            {
                "PartitionKey": DEADLETTER_PARTITION,
                "RowKey": delivery.id,
                "target_id": delivery.target_id,
                "event_id": delivery.event_id,
                "event_type": delivery.event_type,
                "reason": reason,
                "attempts": delivery.attempts,
                "last_status_code": delivery.last_status_code,
                "last_error": delivery.last_error,
                "dead_lettered_at": iso(at),
                "owner": delivery.owner,
                "tenant": tenant_of(delivery.owner),
                "target_kind": (
                    SUBSCRIPTION_TARGET if is_subscription_id(delivery.target_id) else "logic_app"
                ),
            },
        )

    def dead_letters(
        self, *, after: str | None, limit: int, where: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Dead-lettered notices by delivery id: of every target, or those
        whose row matches ``where`` (``owner``, ``tenant``, ``target_kind``)."""
        entities = self._tables.query(
            self._table, DEADLETTER_PARTITION, equals=where, row_key_after=after, limit=limit
        )
        return [
            {"delivery_id": e["RowKey"], **{k: v for k, v in e.items() if k not in _KEYS}}
            for e in entities
        ]

    def remove_dead_letter(self, delivery: Delivery) -> None:
        self._tables.delete(self._table, DEADLETTER_PARTITION, delivery.id)

    def in_flight(self, target_id: str, *, limit: int) -> list[Delivery]:
        """The target's deliveries with an attempt claimed (``delivering``)."""
        entities = self._tables.query(
            self._table,
            target_id,
            equals={"state": DeliveryState.DELIVERING.value},
            limit=limit,
        )
        return [Delivery.from_row(e) for e in entities if e["RowKey"].startswith(DELIVERY_PREFIX)]
