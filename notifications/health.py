"""Subscription health: endpoints that keep failing are disabled.

A subscription is disabled when its endpoint answers 410 Gone, or when it
has failed without a single success for :data:`DISABLE_AFTER`; a success
ends the run of failures. Updates are ETag-guarded and retried, since many
delivery jobs for one subscription may report at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from kernel.errors import ConflictError, NotFoundError
from notifications.records import Subscription, SubscriptionStatus
from notifications.repository import SubscriptionRepository

log = logging.getLogger(__name__)

#: A disabled subscription's failures stop here: 5 days without a success.
DISABLE_AFTER = timedelta(days=5)
_SAVE_ATTEMPTS = 5


class SubscriptionHealth:
    def __init__(self, subscriptions: SubscriptionRepository) -> None:
        self._subscriptions = subscriptions

    def note_success(self, subscription: Subscription) -> None:
        if subscription.failing_since is None:
            return
        self._update(subscription.id, lambda s: s.replace(failing_since=None))

    def note_failure(self, subscription: Subscription, now: datetime) -> bool:
        """Track the run of failures; True if it disabled the subscription."""

        def change(current: Subscription) -> Subscription | None:
            if current.status is SubscriptionStatus.DISABLED:
                return None
            if current.failing_since is None:
                return current.replace(failing_since=now, updated_at=now)
            if now - current.failing_since >= DISABLE_AFTER:
                return current.replace(
                    status=SubscriptionStatus.DISABLED,
                    disabled_reason="failing_for_5_days",
                    updated_at=now,
                )
            return None

        if subscription.failing_since is not None and now - subscription.failing_since < (
            DISABLE_AFTER
        ):
            return False
        updated = self._update(subscription.id, change)
        disabled = updated is not None and updated.status is SubscriptionStatus.DISABLED
        if disabled:
            log.warning(
                "webhook.subscription_disabled",
                extra={"subscription_id": subscription.id, "reason": "failing_for_5_days"},
            )
        return disabled

    def disable(self, subscription: Subscription, reason: str, now: datetime) -> None:
        def change(current: Subscription) -> Subscription | None:
            if current.status is SubscriptionStatus.DISABLED:
                return None
            return current.replace(
                status=SubscriptionStatus.DISABLED, disabled_reason=reason, updated_at=now
            )

        if self._update(subscription.id, change) is not None:
            log.warning(
                "webhook.subscription_disabled",
                extra={"subscription_id": subscription.id, "reason": reason},
            )

    def _update(
        self, subscription_id: str, change: Callable[[Subscription], Subscription | None]
    ) -> Subscription | None:
        for _ in range(_SAVE_ATTEMPTS):
            try:
                current = self._subscriptions.get(subscription_id)
            except NotFoundError:
                return None
            updated = change(current)
            if updated is None:
                return None
            try:
                return self._subscriptions.save(updated)
            except ConflictError:
                continue
        return None
