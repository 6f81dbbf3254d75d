"""Where a delivery goes: a webhook subscription, or a configured Logic App URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kernel.errors import NotFoundError
from kernel.identity import ADMIN, Caller
from notifications.records import Subscription, is_subscription_id, logic_app_id
from notifications.repository import SubscriptionRepository


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    url: str
    subscription: Subscription | None

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        # Logic App URLs are authenticated by the SAS signature in their query.
        return self.subscription.signing_secrets(now) if self.subscription else ()


class Targets:
    """Resolves target ids: subscriptions from their table, Logic Apps from settings."""

    def __init__(
        self, subscriptions: SubscriptionRepository, logic_app_urls: Sequence[str] = ()
    ) -> None:
        self._subscriptions = subscriptions
        self.logic_apps = {logic_app_id(url): url for url in logic_app_urls}

    def get(self, target_id: str) -> Target | None:
        """The target, or None when it no longer exists."""
        url = self.logic_apps.get(target_id)
        if url is not None:
            return Target(target_id, url, None)
        if is_subscription_id(target_id):
            try:
                subscription = self._subscriptions.get(target_id)
            except NotFoundError:
                return None
            return Target(subscription.id, subscription.url, subscription)
        return None

    def check(self, target_id: str, caller: Caller | None = None) -> None:
        """NotFoundError unless ``target_id`` is a subscription or a configured
        Logic App the caller may see: its own subscriptions; the deployment's
        Logic Apps only with the Admin role (None: no caller, the app itself)."""
        if target_id in self.logic_apps:
            if caller is None or caller.has_role(ADMIN):
                return
            raise NotFoundError(f"no subscription {target_id!r}")
        if not is_subscription_id(target_id):
            raise NotFoundError(f"no subscription {target_id!r}")
        subscription = self._subscriptions.get(target_id)
        if caller is not None and not caller.reach.admits(subscription.owner):
            raise NotFoundError(f"no subscription {target_id!r}")

    def ids(self, *, page_size: int = 100) -> list[str]:
        """Every target's id: the configured Logic Apps and every subscription."""
        ids = list(self.logic_apps)
        after: str | None = None
        while True:
            page = self._subscriptions.page(after=after, limit=page_size)
            ids += [s.id for s in page]
            if len(page) < page_size:
                return ids
            after = page[-1].id
