"""Running delivery jobs: sign, send, and retry or dead-letter.

Running a job is idempotent: a job for a delivery already delivered,
dead-lettered, replayed since, or whose attempt was already made does
nothing. An attempt is claimed with a lease (:mod:`kernel.leases`), so two
copies of a job cannot both send; a job whose holder died takes over once
the lease has expired. A failed attempt enqueues the next job hidden until
it is due (the queue's visibility timeout), then records the delivery's new
state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from kernel.clock import Clock
from kernel.egress.addresses import AddressPolicy, UrlRejectedError, VettedTarget
from kernel.egress.client import SendResult
from kernel.egress.redaction import redact_text, redact_url
from kernel.errors import ClaimLostError, LeaseHeldError, NotFoundError
from kernel.leases import Lease, claim
from notifications.errors import TARGET_NOT_ALLOWED, AttemptInProgressError
from notifications.health import SubscriptionHealth
from notifications.jobs import InvalidJobError, Job, JobQueue
from notifications.records import Attempt, Delivery, DeliveryState, Outcome, SubscriptionStatus
from notifications.repository import DeliveryRepository
from notifications.schedule import RetrySchedule, parse_retry_after
from notifications.signing import webhook_headers
from notifications.targets import Target, Targets

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
#: Beyond the send timeout, how long a claimed attempt may run before another
#: copy of its job may assume the holder died.
LEASE_MARGIN = timedelta(seconds=30)
#: A job that arrives this early (visibility timeouts are whole seconds) waits.
MAX_EARLY_SECONDS = 1.0
MAX_ERROR_CHARS = 1000
#: What is kept of a receiver's answer: enough to see an error message.
RESPONSE_EXCERPT_CHARS = 256
#: The delivery queue's maxDequeueCount in host.json: the last try of a job.
MAX_JOB_DEQUEUES = 5


class Sender(Protocol):
    def post(self, target: VettedTarget, headers: Mapping[str, str], body: bytes) -> SendResult: ...


class DeliveryWorker:
    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        targets: Targets,
        health: SubscriptionHealth,
        jobs: JobQueue,
        policy: AddressPolicy,
        sender: Sender,
        schedule: RetrySchedule,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        send_timeout: float = 15.0,
    ) -> None:
        self._deliveries = deliveries
        self._targets = targets
        self._health = health
        self._jobs = jobs
        self._policy = policy
        self._sender = sender
        self._schedule = schedule
        self._clock = clock
        self._sleep = sleep
        self._lease = Lease(timedelta(seconds=send_timeout) + LEASE_MARGIN)

    def handle(self, message: str, *, dequeue_count: int = 1) -> None:
        """Run one delivery job. Raises only what a retry of the message can
        fix (storage trouble, an attempt in progress elsewhere), except on the
        queue's last try (``dequeue_count``): then a job that still fails ends
        its delivery dead-lettered (``job_failed``) instead of leaving it pending
        behind a message gone to the poison queue."""
        try:
            job = Job.from_message(message)
        except InvalidJobError:
            log.error("webhook.job_invalid")
            return
        if dequeue_count < MAX_JOB_DEQUEUES:
            self._run(job)
            return
        try:
            self._run(job)
        except LeaseHeldError:
            raise  # another copy holds the attempt and will settle it
        except Exception:
            log.exception("webhook.job_failed", extra={"delivery_id": job.delivery_id})
            self._give_up(job)

    def _give_up(self, job: Job) -> None:
        try:
            delivery = self._deliveries.get(job.target_id, job.digest)
        except NotFoundError:
            return
        if not delivery.state.final:
            self._dead_letter(delivery, "job_failed", self._clock())

    def _run(self, job: Job) -> None:
        delivery = self._due_delivery(job)
        if delivery is None:
            return
        target = self._targets.get(delivery.target_id)
        now = self._clock()
        if target is None:
            self._deliveries.finish(
                delivery, DeliveryState.CANCELLED, now, error="the target was removed"
            )
            log.info("webhook.cancelled", extra={"delivery_id": job.delivery_id})
            return
        if target.subscription and target.subscription.status is SubscriptionStatus.DISABLED:
            self._dead_letter(delivery, "subscription_disabled", now)
            return
        try:
            claimed = claim(
                self._deliveries.save,
                delivery.replace(
                    state=DeliveryState.DELIVERING,
                    attempts=job.attempt,
                    lease_until=self._lease.until(now),
                    updated_at=now,
                ),
            )
        except ClaimLostError:
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
            self._jobs.enqueue(job, wait)
            return None
        if wait > 0:
            self._sleep(wait)
        return delivery

    def _is_current(self, job: Job, delivery: Delivery) -> bool:
        if delivery.run != job.run or delivery.state.final:
            return False
        if delivery.attempts >= job.attempt:
            if delivery.state is DeliveryState.DELIVERING and delivery.attempts == job.attempt:
                self._lease.ensure_free(
                    delivery.lease_until,
                    self._clock(),
                    held=AttemptInProgressError,
                    message=f"attempt {job.attempt} is in progress",
                )
                return True  # its holder died: take over
            return False
        return delivery.attempts == job.attempt - 1

    def _send(self, target: Target, delivery: Delivery) -> SendResult:
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
        except UrlRejectedError:
            # Alike for every reason, as at registration: a subscriber whose
            # name now resolves somewhere private learns nothing about where.
            return SendResult(
                status=None, duration_ms=0, error=f"target_not_allowed: {TARGET_NOT_ALLOWED}"
            )
        return self._sender.post(vetted, headers, body)

    def _settle(self, target: Target, delivery: Delivery, result: SendResult) -> None:
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
            self._deliveries.finish(delivery, DeliveryState.DELIVERED, now)
            if target.subscription:
                self._health.note_success(target.subscription)
            log.info("webhook.delivered", extra=context)
            return
        log.warning("webhook.attempt_failed", extra={**context, "error": error})
        if status == 410:
            self._record(delivery, result, now, Outcome.DEAD_LETTERED, None)
            if target.subscription:
                self._health.disable(target.subscription, "endpoint_gone", now)
            else:
                log.error("webhook.logic_app_gone", extra=context)
            self._dead_letter(delivery, "endpoint_gone", now)
            return
        if target.subscription and self._health.note_failure(target.subscription, now):
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
        self._jobs.enqueue(job, delay)
        self._deliveries.finish(delivery, DeliveryState.PENDING, now, next_attempt_at=due)

    def _record(
        self,
        delivery: Delivery,
        result: SendResult,
        now: datetime,
        outcome: Outcome,
        next_attempt_at: datetime | None,
    ) -> None:
        shown = response_excerpt(result.body)
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
                response_body=shown,
                response_truncated=result.truncated or len(result.body) > RESPONSE_EXCERPT_CHARS,
                next_attempt_at=next_attempt_at,
            )
        )

    def _dead_letter(self, delivery: Delivery, reason: str, now: datetime) -> None:
        self._deliveries.dead_letter(delivery, reason, now)
        self._deliveries.finish(
            delivery, DeliveryState.DEAD_LETTERED, now, error=delivery.last_error or reason
        )
        log.warning(
            "webhook.dead_lettered",
            extra={"delivery_id": delivery.id, "reason": reason, "attempts": delivery.attempts},
        )


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


def response_excerpt(body: bytes) -> str | None:
    """The start of a receiver's answer, safe to store and show: at most
    :data:`RESPONSE_EXCERPT_CHARS` printable characters, URLs redacted. A
    receiver's body is the receiver's data; the app keeps no more of it than a
    person debugging their endpoint needs."""
    if not body:
        return None
    text = body[: RESPONSE_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return redact_text(printable)[:RESPONSE_EXCERPT_CHARS]
