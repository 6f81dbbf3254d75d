"""Replaying notices, queueing again attempts whose worker died, and the
delivery history callers can list.

A delivered or dead-lettered notice (or one whose job was lost) can be sent
again as a new run of attempts, with the same ``webhook-id`` and body.

A delivery job's attempt is claimed with a short lease (the send timeout and a
margin, :mod:`notifications.delivery`). When the instance running it dies, the
queue shows the job's message again only once the message's own visibility
timeout has passed (the Functions host takes messages for ten minutes), so a
timer calls :meth:`ReplayService.requeue_stalled` every minute: a
``delivering`` delivery whose lease has run out gets a copy of its job at
once, and that copy takes the attempt over. Job copies are harmless (running a
job is idempotent), so this needs no claim of its own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from kernel.clock import Clock
from kernel.errors import AppError, ConflictError, NotFoundError
from kernel.identity import ADMIN, Caller
from notifications.errors import DeliveryInProgressError, SubscriptionDisabledError
from notifications.jobs import Job, JobQueue
from notifications.records import (
    Attempt,
    Delivery,
    DeliveryState,
    SubscriptionStatus,
    split_delivery_id,
)
from notifications.repository import SUBSCRIPTION_TARGET, DeliveryRepository
from notifications.targets import Targets

log = logging.getLogger(__name__)

#: A delivery this far past due (or past its lease) has lost its job; a replay may revive it.
STALLED_AFTER = timedelta(minutes=15)
#: In-flight deliveries looked at per target per pass of :meth:`ReplayService.requeue_stalled`.
REQUEUE_BATCH = 100


class ReplayService:
    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        targets: Targets,
        jobs: JobQueue,
        clock: Clock,
    ) -> None:
        self._deliveries = deliveries
        self._targets = targets
        self._jobs = jobs
        self._clock = clock

    def redeliver(self, delivery_id: str, caller: Caller | None = None) -> Delivery:
        """Send a delivered or dead-lettered notice again, as a new run of
        attempts with the same ``webhook-id`` and body (only a delivery to a
        target the caller may see: NotFoundError otherwise)."""
        parts = split_delivery_id(delivery_id)
        if parts is None:
            raise NotFoundError(f"no delivery {delivery_id!r}")
        try:
            self._targets.check(parts[0], caller)
        except NotFoundError:
            raise NotFoundError(f"no delivery {delivery_id!r}") from None
        delivery = self._deliveries.get(*parts)
        now = self._clock()
        stalled = _stalled(delivery, now)
        if delivery.state not in (DeliveryState.DELIVERED, DeliveryState.DEAD_LETTERED) and not (
            stalled
        ):
            raise DeliveryInProgressError(
                f"the delivery is {delivery.state.value}; only delivered or dead-lettered"
                " notices can be redelivered"
            )
        target = self._targets.get(delivery.target_id)
        if target is None:
            raise NotFoundError("the delivery's subscription or Logic App URL no longer exists")
        if target.subscription and target.subscription.status is SubscriptionStatus.DISABLED:
            raise SubscriptionDisabledError(
                f"the subscription is disabled ({target.subscription.disabled_reason})"
            )
        try:
            restarted = self._deliveries.save(
                delivery.replace(
                    state=DeliveryState.PENDING,
                    run=delivery.run + 1,
                    run_base=delivery.attempts,
                    next_attempt_at=now,
                    lease_until=None,
                    delivered_at=None,
                    updated_at=now,
                )
            )
        except ConflictError:
            raise DeliveryInProgressError("the delivery changed meanwhile; try again") from None
        try:
            self._jobs.enqueue(
                Job(
                    restarted.target_id,
                    restarted.digest,
                    restarted.attempts + 1,
                    restarted.run,
                    now.timestamp(),
                ),
                0.0,
            )
        except AppError:
            # Best effort: put the delivery back, so the replay can be asked again.
            self._deliveries.finish(restarted, delivery.state, now, error=delivery.last_error)
            raise
        if delivery.state is DeliveryState.DEAD_LETTERED:
            self._deliveries.remove_dead_letter(delivery)
        log.info("webhook.redelivery", extra={"delivery_id": delivery.id, "run": restarted.run})
        return restarted

    def requeue_stalled(self) -> int:
        """Queue a copy of the job of every attempt whose lease has run out (its
        worker died); returns how many."""
        now = self._clock()
        requeued = 0
        for target_id in self._targets.ids():
            for delivery in self._deliveries.in_flight(target_id, limit=REQUEUE_BATCH):
                if delivery.lease_until is not None and delivery.lease_until > now:
                    continue  # its worker may still be sending
                job = Job(
                    target_id=delivery.target_id,
                    digest=delivery.digest,
                    attempt=delivery.attempts,
                    run=delivery.run,
                    due=now.timestamp(),
                )
                self._jobs.enqueue(job, 0)
                requeued += 1
        if requeued:
            log.info("webhook.stalled_requeued", extra={"deliveries": requeued})
        return requeued

    def attempts(
        self, target_id: str, *, after: str | None, limit: int
    ) -> list[tuple[str, Attempt]]:
        return self._deliveries.attempts(target_id, after=after, limit=limit)

    def dead_letters(
        self, caller: Caller | None = None, *, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Dead letters the caller may see (every one for None), selected by the
        storage query: the caller's own subscriptions' or, with Admin, also
        the deployment's Logic Apps' notices about documents within its reach."""
        where: dict[str, str] | None = None
        if caller is not None:
            where = dict(caller.reach.where)
            if not caller.has_role(ADMIN):
                where["target_kind"] = SUBSCRIPTION_TARGET
        return self._deliveries.dead_letters(after=after, limit=limit, where=where)

    def check_target(self, target_id: str, caller: Caller | None = None) -> None:
        """NotFoundError unless ``target_id`` is a target the caller may see."""
        self._targets.check(target_id, caller)


def _stalled(delivery: Delivery, now: datetime) -> bool:
    """Whether the delivery lost its job: pending long past due, or claimed by
    a worker that died (its job went to the poison queue)."""
    if delivery.state is DeliveryState.PENDING:
        since = delivery.next_attempt_at
    elif delivery.state is DeliveryState.DELIVERING:
        since = delivery.lease_until
    else:
        return False
    return since is not None and now - since > STALLED_AFTER
