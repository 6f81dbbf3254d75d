"""The notifications' composition: their services on the shared platform,
built once, on first use.

Notifying needs neither the Event Grid publisher nor the document pipeline:
nothing here touches them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from kernel.egress.addresses import (
    AddressPolicy,
    Resolver,
    UrlRejectedError,
    split_url,
    system_resolver,
    timed_resolver,
)
from kernel.egress.client import DEFAULT_TIMEOUT_SECONDS, PinnedSender
from kernel.egress.redaction import redact_url
from kernel.errors import SettingsError
from kernel.platform import Platform, platform
from notifications.delivery import DeliveryWorker, Sender
from notifications.fanout import FanOut
from notifications.health import SubscriptionHealth
from notifications.jobs import JobQueue
from notifications.replay import ReplayService
from notifications.repository import DeliveryRepository, SubscriptionRepository
from notifications.schedule import RetrySchedule
from notifications.settings import (
    LOGIC_APP_URL,
    WEBHOOK_ALLOWED_CIDRS,
    NotificationSettings,
    notification_settings,
)
from notifications.subscriptions import SubscriptionService
from notifications.targets import Targets

log = logging.getLogger(__name__)

#: Parallel claim+enqueue calls per fan-out against Azure Storage (network-bound).
FANOUT_WORKERS = 8


@dataclass(frozen=True, slots=True)
class Notifications:
    settings: NotificationSettings
    platform: Platform
    policy: AddressPolicy
    deliveries: DeliveryRepository
    subscriptions: SubscriptionService
    fanout: FanOut
    worker: DeliveryWorker
    replay: ReplayService


def build_notifications(
    settings: NotificationSettings,
    shared: Platform,
    *,
    resolver: Resolver = system_resolver,
    sender: Sender | None = None,
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
        fanout_workers = 1 if shared.settings.storage.embedded else FANOUT_WORKERS
    stores, clock = shared.stores, shared.clock
    policy = AddressPolicy(
        settings.webhook_allowed_cidrs,
        timed_resolver(resolver, settings.webhook_dns_timeout_seconds),
        purpose="webhooks",
        allow_list_setting=WEBHOOK_ALLOWED_CIDRS,
        ports=settings.webhook_allowed_ports,
        own_endpoints=shared.settings.own_endpoints,
    )
    subscriptions = SubscriptionRepository(
        stores.tables, settings.webhook_subscriptions_table, settings.keyring
    )
    deliveries = DeliveryRepository(stores.tables, settings.webhook_deliveries_table)
    targets = Targets(subscriptions, settings.logic_app_urls)
    jobs = JobQueue(stores.queues, settings.webhook_queue)
    sender = sender or PinnedSender()
    return Notifications(
        settings=settings,
        platform=shared,
        policy=policy,
        deliveries=deliveries,
        subscriptions=SubscriptionService(
            repository=subscriptions,
            policy=policy,
            clock=clock,
            max_subscriptions=settings.webhook_max_subscriptions,
        ),
        fanout=FanOut(
            subscriptions=subscriptions,
            deliveries=deliveries,
            targets=targets,
            jobs=jobs,
            clock=clock,
            workers=fanout_workers,
        ),
        worker=DeliveryWorker(
            deliveries=deliveries,
            targets=targets,
            health=SubscriptionHealth(subscriptions),
            jobs=jobs,
            policy=policy,
            sender=sender,
            schedule=RetrySchedule(settings.webhook_retry_schedule, random_fraction),
            clock=clock,
            sleep=sleep,
            send_timeout=getattr(sender, "timeout", DEFAULT_TIMEOUT_SECONDS),
        ),
        replay=ReplayService(deliveries=deliveries, targets=targets, jobs=jobs, clock=clock),
    )


@cache
def notifications() -> Notifications:
    """The process-wide notification services, built from the environment on first use."""
    settings = notification_settings()
    warning = settings.allow_list_warning()
    if warning:
        log.warning("webhook.allow_list_active", extra={"detail": warning})
    return build_notifications(settings, platform())
