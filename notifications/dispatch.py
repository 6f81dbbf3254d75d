"""Fan-out of completion events to webhooks, and the delivery jobs.

**Fan-out** (``notify_completion``): the CloudEvent is serialised once; for
every active subscription whose event types match, and every Logic App URL,
a delivery entity keyed by (target, event id) is inserted — the insert is
the exactly-once check, a duplicate event finds the key taken — and one job
is put on the delivery queue. Targets never wait for one another: each job
is its own queue message.

**Jobs** (``deliver_webhook``): a job names a delivery, an attempt number
and a run (a replay starts a new run). Running one is idempotent: a job for
a delivery already delivered, dead-lettered, replayed since, or whose attempt
was already made does nothing. An attempt is claimed by an ETag-guarded
update that also sets a lease, so two copies of a job cannot both send; a
job whose holder died takes over once the lease has expired. A failed
attempt enqueues the next job hidden until it is due (the queue's visibility
timeout), then records the delivery's new state.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from notifications.addresses import AddressPolicy, UrlRejectedError, WebhookTarget
from notifications.errors import AttemptInProgressError, DeliveryStateError
from notifications.models import (
    Attempt,
    Delivery,
    DeliveryState,
    Outcome,
    Subscription,
    SubscriptionStatus,
    event_hash,
    is_subscription_id,
    logic_app_id,
    split_delivery_id,
)
from notifications.redaction import redact_text, redact_url
from notifications.repository import DeliveryRepository, SubscriptionRepository
from notifications.schedule import RetrySchedule, parse_retry_after
from notifications.sender import SendResult
from notifications.signing import webhook_headers
from processing.events import COMPLETION_TYPES
from processing.extraction.errors import ProcessingError
from processing.ports import ConflictError, NotFoundError, QueueStore
from processing.uploads import Clock

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
#: A disabled subscription's failures stop here: 5 days without a success.
DISABLE_AFTER = timedelta(days=5)
#: Beyond the send timeout, how long a claimed attempt may run before another
#: copy of its job may assume the holder died.
LEASE_MARGIN = timedelta(seconds=30)
#: A job that arrives this early (visibility timeouts are whole seconds) waits.
MAX_EARLY_SECONDS = 1.0
#: The body is stored in one entity property (64 KiB of UTF-16).
MAX_BODY_CHARS = 30_000
#: A delivery this far past due (or past its lease) has lost its job; a replay may revive it.
STALLED_AFTER = timedelta(minutes=15)
MAX_ERROR_CHARS = 1000


class Sender(Protocol):
    def post(
        self, target: WebhookTarget, headers: Mapping[str, str], body: bytes
    ) -> SendResult: ...


class InvalidJobError(ValueError):
    """A queue message that is not a delivery job."""


@dataclass(frozen=True, slots=True)
class Job:
    target_id: str
    digest: str
    attempt: int
    run: int
    due: float  # epoch seconds

    @property
    def delivery_id(self) -> str:
        return f"{self.target_id}.{self.digest}"

    def to_message(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "target": self.target_id,
                "digest": self.digest,
                "attempt": self.attempt,
                "run": self.run,
                "due": round(self.due, 3),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_message(cls, text: str) -> Job:
        try:
            doc = json.loads(text)
            job = cls(
                target_id=str(doc["target"]),
                digest=str(doc["digest"]),
                attempt=int(doc["attempt"]),
                run=int(doc["run"]),
                due=float(doc["due"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidJobError("not a webhook delivery job") from None
        if split_delivery_id(job.delivery_id) is None or job.attempt < 1:
            raise InvalidJobError("a job for no valid delivery")
        return job


@dataclass(frozen=True, slots=True)
class FanOutResult:
    targets: int
    enqueued: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class _Target:
    id: str
    url: str
    subscription: Subscription | None

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        # Logic App URLs are authenticated by the SAS signature in their query.
        return self.subscription.signing_secrets(now) if self.subscription else ()


class Dispatcher:
    def __init__(
        self,
        *,
        subscriptions: SubscriptionRepository,
        deliveries: DeliveryRepository,
        queues: QueueStore,
        queue: str,
        policy: AddressPolicy,
        sender: Sender,
        schedule: RetrySchedule,
        logic_app_urls: Sequence[str] = (),
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        send_timeout: float = 15.0,
        fanout_workers: int = 8,
    ) -> None:
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._queues = queues
        self._queue = queue
        self._policy = policy
        self._sender = sender
        self._schedule = schedule
        self._logic_apps = {logic_app_id(url): url for url in logic_app_urls}
        self._clock = clock
        self._sleep = sleep
        self._lease = timedelta(seconds=send_timeout) + LEASE_MARGIN
        self._fanout_workers = max(1, fanout_workers)

    # -- fan-out ---------------------------------------------------------------

    def fan_out(self, event: Mapping[str, Any]) -> FanOutResult:
        """One delivery per matching target for the CloudEvent ``event``."""
        event_type = str(event.get("type", ""))
        event_id = str(event.get("id", ""))
        if event_type not in COMPLETION_TYPES or not event_id:
            log.info("webhook.fanout_ignored", extra={"ce_type": event_type})
            return FanOutResult(0, 0, 0)
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        if len(body) > MAX_BODY_CHARS:
            log.error("webhook.event_too_large", extra={"body_chars": len(body)})
            return FanOutResult(0, 0, 0)
        targets = [
            (s.id, s.url) for s in self._subscriptions.active() if event_type in s.event_types
        ]
        targets += list(self._logic_apps.items())
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
            )
            return self._fan_out_one(delivery, now)

        if len(targets) > 1 and self._fanout_workers > 1:
            workers = min(self._fanout_workers, len(targets))
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
                self._enqueue(first, 0.0)
            return False
        self._enqueue(first, 0.0)
        return True

    # -- jobs ------------------------------------------------------------------

    def handle(self, message: str) -> None:
        """Run one delivery job. Raises only what a retry of the message can
        fix (storage trouble, an attempt in progress elsewhere)."""
        try:
            job = Job.from_message(message)
        except InvalidJobError:
            log.error("webhook.job_invalid")
            return
        delivery = self._due_delivery(job)
        if delivery is None:
            return
        target = self._target(delivery)
        now = self._clock()
        if target is None:
            self._finish(delivery, DeliveryState.CANCELLED, now, error="the target was removed")
            log.info("webhook.cancelled", extra={"delivery_id": job.delivery_id})
            return
        if target.subscription and target.subscription.status is SubscriptionStatus.DISABLED:
            self._dead_letter(delivery, "subscription_disabled", now)
            return
        try:
            claimed = self._deliveries.save(
                delivery.replace(
                    state=DeliveryState.DELIVERING,
                    attempts=job.attempt,
                    lease_until=now + self._lease,
                    updated_at=now,
                )
            )
        except ConflictError:
            log.debug("webhook.job_lost_claim", extra={"delivery_id": job.delivery_id})
            return
        self._settle(target, claimed, self._send(target, claimed))

    def _due_delivery(self, job: Job) -> Delivery | None:
        """The job's delivery once the job is due, or None when the job has
        nothing (left) to do or was put back on the queue until it is due."""
        context = {"delivery_id": job.delivery_id, "attempt": job.attempt}
        try:
            delivery = self._deliveries.get(job.target_id, job.digest)
        except NotFoundError:
            log.warning("webhook.job_orphaned", extra=context)
            return None
        if not self._is_current(job, delivery):
            log.debug("webhook.job_skipped", extra=context)
            return None
        wait = job.due - self._clock().timestamp()
        if wait > MAX_EARLY_SECONDS:
            self._enqueue(job, wait)
            return None
        if wait > 0:
            self._sleep(wait)
        return delivery

    def _is_current(self, job: Job, delivery: Delivery) -> bool:
        if delivery.run != job.run or delivery.state.final:
            return False
        if delivery.attempts >= job.attempt:
            if delivery.state is DeliveryState.DELIVERING and delivery.attempts == job.attempt:
                if delivery.lease_until and delivery.lease_until > self._clock():
                    raise AttemptInProgressError(f"attempt {job.attempt} is in progress")
                return True  # its holder died: take over
            return False
        return delivery.attempts == job.attempt - 1

    def _send(self, target: _Target, delivery: Delivery) -> SendResult:
        now = self._clock()
        body = delivery.body.encode("utf-8")
        headers = {
            "Content-Type": CONTENT_TYPE,
            **webhook_headers(delivery.id, int(now.timestamp()), body, target.signing_secrets(now)),
        }
        try:
            # Resolved and checked again for every attempt: the answer may have
            # changed since registration (DNS rebinding).
            vetted = self._policy.vet(target.url)
        except UrlRejectedError as exc:
            return SendResult(status=None, duration_ms=0, error=f"{exc.code}: {exc.message}")
        return self._sender.post(vetted, headers, body)

    def _settle(self, target: _Target, delivery: Delivery, result: SendResult) -> None:
        now = self._clock()
        status = result.status
        context = {
            "delivery_id": delivery.id,
            "attempt": delivery.attempts,
            "status_code": status,
            "url": delivery.url,
            "duration_ms": result.duration_ms,
        }
        error = _error_text(result)
        delivery = delivery.replace(last_status_code=status, last_error=error, updated_at=now)
        if status is not None and 200 <= status < 300:
            self._record(delivery, result, now, Outcome.DELIVERED, None)
            self._finish(delivery, DeliveryState.DELIVERED, now)
            if target.subscription:
                self._note_success(target.subscription)
            log.info("webhook.delivered", extra=context)
            return
        log.warning("webhook.attempt_failed", extra={**context, "error": error})
        if status == 410:
            self._record(delivery, result, now, Outcome.DEAD_LETTERED, None)
            if target.subscription:
                self._disable(target.subscription, "endpoint_gone", now)
            else:
                log.error("webhook.logic_app_gone", extra=context)
            self._dead_letter(delivery, "endpoint_gone", now)
            return
        if target.subscription and self._note_failure(target.subscription, now):
            self._record(delivery, result, now, Outcome.DEAD_LETTERED, None)
            self._dead_letter(delivery, "subscription_disabled", now)
            return
        retry_after = parse_retry_after(result.header("retry-after"), now)
        delay = self._schedule.delay_after(
            delivery.run_attempts, status=status, retry_after=retry_after
        )
        if delay is None:
            self._record(delivery, result, now, Outcome.DEAD_LETTERED, None)
            self._dead_letter(delivery, "attempts_exhausted", now)
            return
        due = now + timedelta(seconds=delay)
        self._record(delivery, result, now, Outcome.RETRY_SCHEDULED, due)
        # Enqueue before recording the state: should the write fail, the job
        # still comes, finds attempt n done and makes attempt n + 1.
        job = Job(
            delivery.target_id,
            delivery.digest,
            delivery.attempts + 1,
            delivery.run,
            due.timestamp(),
        )
        self._enqueue(job, delay)
        self._finish(delivery, DeliveryState.PENDING, now, next_attempt_at=due)

    def _record(
        self,
        delivery: Delivery,
        result: SendResult,
        now: datetime,
        outcome: Outcome,
        next_attempt_at: datetime | None,
    ) -> None:
        text = result.body.decode("utf-8", errors="replace") if result.body else None
        self._deliveries.record_attempt(
            Attempt(
                target_id=delivery.target_id,
                digest=delivery.digest,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                attempt=delivery.attempts,
                attempted_at=now,
                duration_ms=result.duration_ms,
                url=delivery.url,
                outcome=outcome,
                status_code=result.status,
                error=delivery.last_error,
                response_body=redact_text(text) if text else None,
                response_truncated=result.truncated,
                next_attempt_at=next_attempt_at,
            )
        )

    def _finish(
        self,
        delivery: Delivery,
        state: DeliveryState,
        now: datetime,
        *,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
    ) -> Delivery | None:
        try:
            return self._deliveries.save(
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
            # A later copy of the job took the delivery over; its record wins.
            log.warning("webhook.state_superseded", extra={"delivery_id": delivery.id})
            return None

    def _dead_letter(self, delivery: Delivery, reason: str, now: datetime) -> None:
        self._deliveries.dead_letter(delivery, reason, now)
        self._finish(
            delivery, DeliveryState.DEAD_LETTERED, now, error=delivery.last_error or reason
        )
        log.warning(
            "webhook.dead_lettered",
            extra={"delivery_id": delivery.id, "reason": reason, "attempts": delivery.attempts},
        )

    # -- subscription health ---------------------------------------------------

    def _note_success(self, subscription: Subscription) -> None:
        if subscription.failing_since is None:
            return
        self._update_subscription(subscription.id, lambda s: s.replace(failing_since=None))

    def _note_failure(self, subscription: Subscription, now: datetime) -> bool:
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
        updated = self._update_subscription(subscription.id, change)
        disabled = updated is not None and updated.status is SubscriptionStatus.DISABLED
        if disabled:
            log.warning(
                "webhook.subscription_disabled",
                extra={"subscription_id": subscription.id, "reason": "failing_for_5_days"},
            )
        return disabled

    def _disable(self, subscription: Subscription, reason: str, now: datetime) -> None:
        def change(current: Subscription) -> Subscription | None:
            if current.status is SubscriptionStatus.DISABLED:
                return None
            return current.replace(
                status=SubscriptionStatus.DISABLED, disabled_reason=reason, updated_at=now
            )

        if self._update_subscription(subscription.id, change) is not None:
            log.warning(
                "webhook.subscription_disabled",
                extra={"subscription_id": subscription.id, "reason": reason},
            )

    def _update_subscription(
        self, subscription_id: str, change: Callable[[Subscription], Subscription | None]
    ) -> Subscription | None:
        for _ in range(5):
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

    # -- replay and listing ----------------------------------------------------

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a delivered or dead-lettered notice again, as a new run of
        attempts with the same ``webhook-id`` and body."""
        parts = split_delivery_id(delivery_id)
        if parts is None:
            raise NotFoundError(f"no delivery {delivery_id!r}")
        delivery = self._deliveries.get(*parts)
        now = self._clock()
        stalled = _stalled(delivery, now)
        if delivery.state not in (DeliveryState.DELIVERED, DeliveryState.DEAD_LETTERED) and not (
            stalled
        ):
            raise DeliveryStateError(
                "delivery_in_progress",
                f"the delivery is {delivery.state.value}; only delivered or dead-lettered"
                " notices can be redelivered",
            )
        target = self._target(delivery)
        if target is None:
            raise NotFoundError("the delivery's subscription or Logic App URL no longer exists")
        if target.subscription and target.subscription.status is SubscriptionStatus.DISABLED:
            raise DeliveryStateError(
                "subscription_disabled",
                f"the subscription is disabled ({target.subscription.disabled_reason})",
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
            raise DeliveryStateError(
                "delivery_in_progress", "the delivery changed meanwhile; try again"
            ) from None
        try:
            self._enqueue(
                Job(
                    restarted.target_id,
                    restarted.digest,
                    restarted.attempts + 1,
                    restarted.run,
                    now.timestamp(),
                ),
                0.0,
            )
        except ProcessingError:
            # Best effort: put the delivery back, so the replay can be asked again.
            self._finish(restarted, delivery.state, now, error=delivery.last_error)
            raise
        if delivery.state is DeliveryState.DEAD_LETTERED:
            self._deliveries.remove_dead_letter(delivery)
        log.info("webhook.redelivery", extra={"delivery_id": delivery.id, "run": restarted.run})
        return restarted

    def attempts(
        self, target_id: str, *, after: str | None, limit: int
    ) -> list[tuple[str, Attempt]]:
        return self._deliveries.attempts(target_id, after=after, limit=limit)

    def dead_letters(self, *, after: str | None, limit: int) -> list[dict[str, Any]]:
        return self._deliveries.dead_letters(after=after, limit=limit)

    def check_target(self, target_id: str) -> None:
        """NotFoundError unless ``target_id`` is a subscription or a configured Logic App."""
        if target_id in self._logic_apps:
            return
        if not is_subscription_id(target_id):
            raise NotFoundError(f"no subscription {target_id!r}")
        self._subscriptions.get(target_id)

    # -- helpers ---------------------------------------------------------------

    def _target(self, delivery: Delivery) -> _Target | None:
        url = self._logic_apps.get(delivery.target_id)
        if url is not None:
            return _Target(delivery.target_id, url, None)
        if delivery.target_id.startswith("sub_"):
            try:
                subscription = self._subscriptions.get(delivery.target_id)
            except NotFoundError:
                return None
            return _Target(subscription.id, subscription.url, subscription)
        return None

    def _enqueue(self, job: Job, delay: float) -> None:
        # Visibility is in whole seconds: round down, and the job waits out the rest.
        self._queues.send(self._queue, job.to_message(), visibility_timeout=max(0, int(delay)))


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


def _error_text(result: SendResult) -> str | None:
    status = result.status
    if result.error:
        text = result.error
    elif status is None or 200 <= status < 300:
        return None
    elif 300 <= status < 400:
        location = result.header("location")
        shown = f" to {redact_url(location)}" if location else ""
        text = f"HTTP {status}: redirect{shown} not followed"
    else:
        text = f"HTTP {status}"
    return redact_text(text)[:MAX_ERROR_CHARS]
