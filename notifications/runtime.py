"""The notifications' composition root: built from settings once, on first use.

Separate from :mod:`processing.runtime` so that notifying needs neither the
Event Grid publisher nor the document pipeline.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from notifications import settings_warning
from notifications.addresses import (
    AddressPolicy,
    Resolver,
    UrlRejectedError,
    split_url,
    system_resolver,
)
from notifications.dispatch import Dispatcher, Sender
from notifications.redaction import redact_url
from notifications.repository import DeliveryRepository, SubscriptionRepository
from notifications.schedule import RetrySchedule
from notifications.sender import DEFAULT_TIMEOUT_SECONDS, PinnedSender
from notifications.subscriptions import SubscriptionService
from processing.adapters.factory import Stores, create_stores
from processing.settings import LOGIC_APP_URL, Settings, SettingsError, get_settings
from processing.uploads import Clock, utcnow

log = logging.getLogger(__name__)

#: Parallel claim+enqueue calls per fan-out against Azure Storage (network-bound).
FANOUT_WORKERS = 8


@dataclass(frozen=True, slots=True)
class Notifications:
    settings: Settings
    stores: Stores
    policy: AddressPolicy
    subscriptions: SubscriptionService
    dispatcher: Dispatcher


def build_notifications(
    settings: Settings,
    *,
    stores: Stores | None = None,
    resolver: Resolver = system_resolver,
    sender: Sender | None = None,
    clock: Clock = utcnow,
    random_fraction: Callable[[], float] = random.random,
    sleep: Callable[[float], None] = time.sleep,
    fanout_workers: int | None = None,
) -> Notifications:
    for url in settings.logic_app_urls:
        try:
            split_url(url)
        except UrlRejectedError as exc:
            raise SettingsError(f"{LOGIC_APP_URL}: {redact_url(url)}: {exc.message}") from None
    if fanout_workers is None:
        # SQLite takes one writer at a time: threads would only queue for its lock.
        fanout_workers = 1 if settings.storage.embedded else FANOUT_WORKERS
    stores = stores or create_stores(settings.storage)
    policy = AddressPolicy(settings.webhook_allowed_cidrs, resolver)
    subscriptions = SubscriptionRepository(stores.tables, settings.webhook_subscriptions_table)
    sender = sender or PinnedSender()
    return Notifications(
        settings=settings,
        stores=stores,
        policy=policy,
        subscriptions=SubscriptionService(repository=subscriptions, policy=policy, clock=clock),
        dispatcher=Dispatcher(
            subscriptions=subscriptions,
            deliveries=DeliveryRepository(stores.tables, settings.webhook_deliveries_table),
            queues=stores.queues,
            queue=settings.webhook_queue,
            policy=policy,
            sender=sender,
            schedule=RetrySchedule(settings.webhook_retry_schedule, random_fraction),
            logic_app_urls=settings.logic_app_urls,
            clock=clock,
            sleep=sleep,
            send_timeout=getattr(sender, "timeout", DEFAULT_TIMEOUT_SECONDS),
            fanout_workers=fanout_workers,
        ),
    )


@cache
def notifications() -> Notifications:
    """The process-wide notification services, built from the environment on first use."""
    warning = settings_warning()
    if warning:
        log.warning("webhook.allow_list_active", extra={"detail": warning})
    return build_notifications(get_settings())
