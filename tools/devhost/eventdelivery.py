"""Event Grid delivery: at-least-once, retried with exponential backoff, then
dead-lettered to blob storage, from the durable queue in :mod:`devhost.state`.

Each event reaches the function decoded by the real
``azure.functions.eventgrid.EventGridEventInConverter`` from a ``json`` Datum,
as the Python worker does: topic events arrive as ``func.CloudEvent``,
storage events (Event Grid schema) as ``func.EventGridEvent``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.meta import Datum

from kernel.storage.ports import BlobStore
from tools.devhost.context import InvocationContext, valid_trace_parent
from tools.devhost.functions import HostedFunction, call_function
from tools.devhost.state import DEAD_LETTERED, DONE, PENDING, Claim, StateStore

log = logging.getLogger(__name__)

DEADLETTER_CONTAINER = "deadletters"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float
    ttl_seconds: float

    def delay(self, attempts: int) -> float:
        """Wait before the next try after ``attempts`` failed ones."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))


class DeliveryWorkers:
    """N threads that claim due deliveries and invoke the subscribed function."""

    def __init__(
        self,
        *,
        state: StateStore,
        functions: Mapping[str, HostedFunction],
        blobs: BlobStore,
        policy: RetryPolicy,
        workers: int,
    ) -> None:
        self._state = state
        self._functions = functions
        self._blobs = blobs
        self._policy = policy
        self._stopping = threading.Event()
        self._wake = threading.Condition()
        self._threads = [
            threading.Thread(target=self._run, name=f"devhost-delivery-{n}", daemon=True)
            for n in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float) -> None:
        """Stop claiming; wait up to ``timeout`` for invocations in flight (ones
        still running stay 'inflight' and are redelivered by the next host)."""
        self._stopping.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                claim = self._state.claim_delivery(time.time())
            except Exception:
                log.exception("claiming a delivery failed")
                self._stopping.wait(1.0)
                continue
            if claim is None:
                self._idle()
                continue
            try:
                self._deliver(claim)
            except Exception:
                if not self._stopping.is_set():
                    log.exception("recording the outcome of %s failed", claim.event_id)
                # Stopping: the state is closed; the delivery stays in flight and the
                # next host redelivers it (at-least-once).

    def _idle(self) -> None:
        due = self._state.next_due_at()
        wait = 1.0 if due is None else min(1.0, max(0.0, due - time.time()))
        with self._wake:
            if not self._stopping.is_set():
                self._wake.wait(wait)

    def _deliver(self, claim: Claim) -> None:
        if time.time() - claim.published_at > self._policy.ttl_seconds:
            self._dead_letter(claim, "TimeToLiveExceeded", None)
            return
        function = self._functions.get(claim.function)
        try:
            if function is None:
                raise LookupError(f"function {claim.function} is not defined by the app")
            event = EventGridEventInConverter.decode(
                Datum(type="json", value=claim.body), trigger_metadata={}
            )
            body = json.loads(claim.body)
            context = InvocationContext(
                function_name=function.name,
                function_directory=function.directory,
                trace_parent=valid_trace_parent(body.get("traceparent")),
                trace_state=str(body.get("tracestate") or ""),
            )
            started = time.perf_counter()
            call_function(function, event, context)
        except Exception as exc:
            self._failed(claim, exc)
            return
        self._state.finish_delivery(claim, DONE)
        log.info(
            "delivered %s to %s (attempt %d, %.0f ms)",
            claim.event_id,
            claim.function,
            claim.attempts,
            (time.perf_counter() - started) * 1000,
            extra={"subscription": claim.subscription, "event_id": claim.event_id},
        )

    def _failed(self, claim: Claim, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        log.error(
            "delivery of %s to %s failed (attempt %d of %d)",
            claim.event_id,
            claim.function,
            claim.attempts,
            self._policy.max_attempts,
            exc_info=exc,
            extra={"subscription": claim.subscription, "event_id": claim.event_id},
        )
        if claim.attempts >= self._policy.max_attempts:
            self._dead_letter(claim, "MaxDeliveryAttemptsExceeded", error)
            return
        due = time.time() + self._policy.delay(claim.attempts)
        self._state.finish_delivery(claim, PENDING, error=error, due_at=due)

    def _dead_letter(self, claim: Claim, reason: str, error: str | None) -> None:
        record: dict[str, Any] = {
            "subscription": claim.subscription,
            "function": claim.function,
            "deadLetterReason": reason,
            "deliveryAttempts": claim.attempts,
            "lastDeliveryOutcome": "Failed" if error else reason,
            "lastError": error,
            "publishTime": _iso(claim.published_at),
            "lastDeliveryAttemptTime": _iso(time.time()),
            "event": json.loads(claim.body),
        }
        name = f"{claim.subscription}/{claim.event_id}.json"
        try:
            self._blobs.put(
                DEADLETTER_CONTAINER,
                name,
                json.dumps(record, indent=2).encode(),
                content_type="application/json",
            )
        except Exception as exc:
            # Keep the delivery; a later attempt dead-letters it once storage answers.
            log.exception("writing dead-letter blob %s failed", name)
            due = time.time() + self._policy.delay(claim.attempts)
            self._state.finish_delivery(
                claim, PENDING, error=f"dead-letter write failed: {exc}", due_at=due
            )
            return
        self._state.finish_delivery(claim, DEAD_LETTERED, error=error or reason)
        log.warning(
            "dead-lettered %s for %s: %s",
            claim.event_id,
            claim.subscription,
            reason,
            extra={"subscription": claim.subscription, "event_id": claim.event_id, "blob": name},
        )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
