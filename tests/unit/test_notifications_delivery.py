"""Fan-out and delivery jobs end to end on the embedded store, against real HTTP
receivers on loopback, verified with the independent standardwebhooks package."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from kernel.egress.addresses import VettedTarget
from kernel.egress.client import PinnedSender, SendResult
from kernel.errors import NotFoundError
from notifications.delivery import MAX_JOB_DEQUEUES, RESPONSE_EXCERPT_CHARS
from notifications.errors import AttemptInProgressError, DeliveryStateError
from notifications.fanout import MAX_BODY_CHARS
from notifications.records import (
    DEADLETTER_PARTITION,
    Attempt,
    DeliveryState,
    Outcome,
    SubscriptionStatus,
    delivery_id,
    event_hash,
    logic_app_id,
)
from tests.support.clock import FakeClock
from tests.support.webhooks import (
    FixedResolver,
    Harness,
    Receiver,
    Reply,
    completion_event,
    make_harness,
    receiving,
)

PUBLIC = "93.184.215.14"


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return make_harness(tmp_path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(Reply(200)) as started:
        yield started


def attempts(harness: Harness, target_id: str) -> list[Attempt]:
    """Attempts, oldest first."""
    found = harness.notifications.replay.attempts(target_id, after=None, limit=100)
    return [a for _, a in reversed(found)]


def state(harness: Harness, target_id: str, event_id: str) -> DeliveryState:
    deliveries = harness.notifications.deliveries
    return deliveries.get(target_id, event_hash(event_id)).state


def test_a_delivery_carries_the_cloudevent_signed_per_standard_webhooks(
    harness: Harness, receiver: Receiver
) -> None:
    subscription = harness.notifications.subscriptions.register(receiver.url())
    event = completion_event("evt-1")
    result = harness.notifications.fanout.fan_out(event)
    assert (result.targets, result.enqueued, result.duplicates) == (1, 1, 0)
    harness.drain()

    (request,) = receiver.requests
    assert Webhook(subscription.secret).verify(request.body, request.headers) == event
    assert request.headers["webhook-id"] == delivery_id(subscription.id, "evt-1")
    assert request.headers["content-type"] == "application/json"
    assert "résumé" in request.body.decode("utf-8")
    (attempt,) = attempts(harness, subscription.id)
    assert attempt.outcome is Outcome.DELIVERED and attempt.status_code == 200
    assert state(harness, subscription.id, "evt-1") is DeliveryState.DELIVERED


def test_a_flaky_endpoint_is_retried_on_schedule_with_the_same_notice(harness: Harness) -> None:
    with receiving(Reply(500), Reply(503), Reply(200)) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        harness.notifications.fanout.fan_out(completion_event("evt-1"))
        harness.drain()

    first, second, third = receiver.requests
    # Schedule (0.05, 0.1) without jitter.
    assert second.at - first.at >= 0.05
    assert third.at - second.at >= 0.1
    assert first.body == second.body == third.body
    assert {r.headers["webhook-id"] for r in receiver.requests} == {
        delivery_id(subscription.id, "evt-1")
    }
    for request in receiver.requests:
        Webhook(subscription.secret).verify(request.body, request.headers)
    log = attempts(harness, subscription.id)
    assert [(a.attempt, a.status_code, a.outcome) for a in log] == [
        (1, 500, Outcome.RETRY_SCHEDULED),
        (2, 503, Outcome.RETRY_SCHEDULED),
        (3, 200, Outcome.DELIVERED),
    ]
    first_log = log[0]
    assert first_log.next_attempt_at is not None
    assert first_log.next_attempt_at - first_log.attempted_at == timedelta(milliseconds=50)
    assert first_log.error == "HTTP 500"


def test_after_the_last_attempt_the_notice_is_dead_lettered_and_can_be_replayed(
    harness: Harness,
) -> None:
    with receiving(Reply(500), Reply(500), Reply(500), Reply(200)) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        services = harness.notifications
        services.fanout.fan_out(completion_event("evt-1"))
        harness.drain()
        assert len(receiver.requests) == 3  # 1 + two retries
        assert state(harness, subscription.id, "evt-1") is DeliveryState.DEAD_LETTERED
        (dead,) = services.replay.dead_letters(after=None, limit=10)
        assert dead["delivery_id"] == delivery_id(subscription.id, "evt-1")
        assert dead["reason"] == "attempts_exhausted"
        assert dead["last_status_code"] == 500

        replayed = services.replay.redeliver(delivery_id(subscription.id, "evt-1"))
        assert replayed.state is DeliveryState.PENDING and replayed.run == 2
        harness.drain()

    assert len(receiver.requests) == 4
    assert receiver.requests[3].body == receiver.requests[0].body
    assert receiver.requests[3].headers["webhook-id"] == receiver.requests[0].headers["webhook-id"]
    Webhook(subscription.secret).verify(receiver.requests[3].body, receiver.requests[3].headers)
    assert state(harness, subscription.id, "evt-1") is DeliveryState.DELIVERED
    assert services.replay.dead_letters(after=None, limit=10) == []
    assert [a.attempt for a in attempts(harness, subscription.id)] == [1, 2, 3, 4]


def test_a_delivered_notice_can_be_replayed_but_not_one_in_flight(
    harness: Harness, receiver: Receiver
) -> None:
    subscription = harness.notifications.subscriptions.register(receiver.url())
    services = harness.notifications
    services.fanout.fan_out(completion_event("evt-1"))
    notice = delivery_id(subscription.id, "evt-1")
    with pytest.raises(DeliveryStateError) as busy:
        services.replay.redeliver(notice)  # still pending
    assert busy.value.code == "delivery_in_progress"
    harness.drain()
    services.replay.redeliver(notice)
    harness.drain()
    assert len(receiver.requests) == 2
    with pytest.raises(NotFoundError):
        services.replay.redeliver(f"{subscription.id}.{'0' * 24}")
    with pytest.raises(NotFoundError):
        services.replay.redeliver("not-a-delivery")


def test_a_job_from_before_a_replay_does_nothing(harness: Harness, receiver: Receiver) -> None:
    subscription = harness.notifications.subscriptions.register(receiver.url())
    services = harness.notifications
    services.fanout.fan_out(completion_event("evt-1"))
    old_job = harness.take_job()
    services.worker.handle(old_job)
    services.replay.redeliver(delivery_id(subscription.id, "evt-1"))
    harness.drain()
    services.worker.handle(old_job)
    assert len(receiver.requests) == 2


def test_410_disables_the_subscription(harness: Harness) -> None:
    with receiving(Reply(410)) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        services = harness.notifications
        services.fanout.fan_out(completion_event("evt-1"))
        harness.drain()
        assert len(receiver.requests) == 1  # no retries
        disabled = harness.notifications.subscriptions.get(subscription.id)
        assert disabled.status is SubscriptionStatus.DISABLED
        assert disabled.disabled_reason == "endpoint_gone"
        assert state(harness, subscription.id, "evt-1") is DeliveryState.DEAD_LETTERED
        (dead,) = services.replay.dead_letters(after=None, limit=10)
        assert dead["reason"] == "endpoint_gone"

        assert services.fanout.fan_out(completion_event("evt-2")).targets == 0
        with pytest.raises(DeliveryStateError) as refused:
            services.replay.redeliver(delivery_id(subscription.id, "evt-1"))
        assert refused.value.code == "subscription_disabled"
        harness.drain()
    assert len(receiver.requests) == 1


def test_a_logic_app_gets_every_completion_unsigned_and_202_is_success(tmp_path: Path) -> None:
    with receiving(Reply(202)) as receiver:
        url = receiver.url(
            "/workflows/abc/triggers/manual/paths/invoke",
            "api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TOPSECRETSIG",
        )
        harness = make_harness(tmp_path, logic_app_urls=[url])
        services = harness.notifications
        assert services.fanout.fan_out(completion_event("evt-1")).enqueued == 1
        assert services.fanout.fan_out(completion_event("evt-2", type="document.processing.failed"))
        harness.drain()

    first, second = receiver.requests
    assert first.query.endswith("sig=TOPSECRETSIG")  # the real URL is called
    assert "webhook-signature" not in first.headers
    assert first.headers["webhook-id"] == delivery_id(logic_app_id(url), "evt-1")
    assert first.headers["webhook-timestamp"].isdigit()
    assert json.loads(first.body)["id"] == "evt-1"
    assert json.loads(second.body)["type"] == "document.processing.failed"
    target = logic_app_id(url)
    assert target == logic_app_id(url.replace("TOPSECRETSIG", "ROTATEDSIG"))
    log = attempts(harness, target)
    assert [a.outcome for a in log] == [Outcome.DELIVERED, Outcome.DELIVERED]
    assert all("TOPSECRETSIG" not in a.url and a.url.endswith("?redacted") for a in log)


def test_duplicate_completion_events_give_one_delivery(
    harness: Harness, receiver: Receiver
) -> None:
    harness.notifications.subscriptions.register(receiver.url())
    services = harness.notifications
    event = completion_event("evt-1")
    threads = [threading.Thread(target=services.fanout.fan_out, args=(event,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    harness.drain()
    assert services.fanout.fan_out(event).duplicates == 1  # and again after delivery
    harness.drain()
    assert len(receiver.requests) == 1


def test_a_job_whose_delivery_succeeded_does_nothing(harness: Harness, receiver: Receiver) -> None:
    harness.notifications.subscriptions.register(receiver.url())
    harness.notifications.fanout.fan_out(completion_event("evt-1"))
    job = harness.take_job()
    harness.notifications.worker.handle(job)
    harness.notifications.worker.handle(job)  # the queue delivered it twice
    assert len(receiver.requests) == 1


def test_one_slow_endpoint_does_not_hold_up_another(harness: Harness) -> None:
    """Each target is its own job: while one endpoint takes its time, another is served."""
    with receiving(Reply(200, delay=1.0)) as slow, receiving(Reply(200)) as fast:
        slow_id = harness.notifications.subscriptions.register(slow.url()).id
        harness.notifications.subscriptions.register(fast.url())
        harness.notifications.fanout.fan_out(completion_event("evt-1"))
        jobs = sorted([harness.take_job(), harness.take_job()], key=lambda j: slow_id not in j)
        handle = harness.notifications.worker.handle
        slow_worker = threading.Thread(target=handle, args=(jobs[0],))
        slow_worker.start()
        while not slow.requests:
            time.sleep(0.01)
        handle(jobs[1])  # returns while the slow endpoint is still answering
        assert len(fast.requests) == 1
        assert slow_worker.is_alive()
        slow_worker.join()
    assert state(harness, slow_id, "evt-1") is DeliveryState.DELIVERED


def test_redirects_are_failures_and_never_followed(harness: Harness) -> None:
    with receiving(Reply(200)) as elsewhere:
        moved = Reply(307, headers=[("Location", elsewhere.url("/x", "token=LOCSECRET"))])
        with receiving(moved) as receiver:
            subscription = harness.notifications.subscriptions.register(receiver.url())
            harness.notifications.fanout.fan_out(completion_event("evt-1"))
            harness.drain()
        assert elsewhere.requests == []
    assert len(receiver.requests) == 3
    log = attempts(harness, subscription.id)
    assert log[0].error == f"HTTP 307: redirect to {elsewhere.url('/x')}?redacted not followed"
    assert log[-1].outcome is Outcome.DEAD_LETTERED


def test_retry_after_on_429_sets_the_next_attempt(harness: Harness) -> None:
    with receiving(Reply(429, headers=[("Retry-After", "7")])) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        harness.notifications.fanout.fan_out(completion_event("evt-1"))
        harness.drain()  # runs attempt 1; attempt 2 stays hidden in the queue
    (attempt,) = attempts(harness, subscription.id)
    assert attempt.next_attempt_at is not None
    assert attempt.next_attempt_at - attempt.attempted_at == timedelta(seconds=7)
    queues = harness.notifications.platform.stores.queues
    assert queues.receive(harness.settings.webhook_queue) == []  # hidden until due


def test_a_job_that_arrives_early_is_put_back_until_due(harness: Harness) -> None:
    with receiving(Reply(429, headers=[("Retry-After", "7")])) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        services = harness.notifications
        services.fanout.fan_out(completion_event("evt-1"))
        harness.drain()
        deliveries = services.deliveries
        pending = deliveries.get(subscription.id, event_hash("evt-1"))
        due = pending.next_attempt_at or pending.created_at
        early = json.dumps(
            {"v": 1, "target": subscription.id, "digest": pending.digest, "attempt": 2}
            | {"run": 1, "due": due.timestamp()}
        )
        services.worker.handle(early)  # e.g. a copy delivered before its visibility ended
    assert len(receiver.requests) == 1
    assert state(harness, subscription.id, "evt-1") is DeliveryState.PENDING


def test_only_a_short_printable_excerpt_of_the_answer_is_stored(harness: Harness) -> None:
    """A receiver's body is its data: the app keeps what a person debugging
    their endpoint needs, printable, and says it cut the rest."""
    with receiving(Reply(500, b"\x00\x1b[31mbad" + b"e" * 100_000)) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        harness.notifications.fanout.fan_out(completion_event("evt-1"))
        harness.drain()
    first = attempts(harness, subscription.id)[0]
    assert (
        first.response_body == ("  [31mbad" + "e" * RESPONSE_EXCERPT_CHARS)[:RESPONSE_EXCERPT_CHARS]
    )
    assert first.response_truncated


def test_query_strings_never_reach_records_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = ["LOGICSIG", "SUBTOKEN", "LOCSECRET", "ECHOSECRET"]
    with receiving(
        Reply(
            302,
            body=b"see https://x.example/y?code=ECHOSECRET",
            headers=[("Location", "https://x.example/y?c=LOCSECRET")],
        ),
        Reply(200),
    ) as receiver:
        logic_app = receiver.url("/workflows/a/triggers/manual/paths/invoke", "sig=LOGICSIG")
        harness = make_harness(tmp_path, logic_app_urls=[logic_app])
        with caplog.at_level(logging.DEBUG):
            subscription = harness.notifications.subscriptions.register(
                receiver.url("/hook", "token=SUBTOKEN")
            )
            harness.notifications.fanout.fan_out(completion_event("evt-1"))
            harness.drain()
        assert len(receiver.requests) >= 2

    logged = [
        json.dumps({k: str(v) for k, v in vars(record).items()}) + record.getMessage()
        for record in caplog.records
    ]
    assert any("webhook." in line for line in logged)
    tables = harness.notifications.platform.stores.tables
    table = harness.settings.webhook_deliveries_table
    stored = [
        json.dumps(entity)
        for partition in (subscription.id, logic_app_id(logic_app), DEADLETTER_PARTITION)
        for entity in tables.query(table, partition)
    ]
    assert len(stored) >= 4
    for secret in secrets:
        assert not [line for line in logged if secret in line], secret
        assert not [entity for entity in stored if secret in entity], secret


def test_rotation_signs_with_both_secrets_for_24_hours(tmp_path: Path) -> None:
    real_now = datetime.now(UTC)
    clock = FakeClock(real_now - timedelta(hours=23))
    harness = make_harness(tmp_path, clock=clock)
    subscriptions = harness.notifications.subscriptions
    with receiving(Reply(200)) as receiver:
        original = subscriptions.register(receiver.url())
        rotated = subscriptions.rotate_secret(original.id)
        assert rotated.secret != original.secret
        assert rotated.previous_secret_expires_at == clock.now + timedelta(hours=24)
        clock.now = real_now  # 23 h after the rotation: both still sign
        harness.notifications.fanout.fan_out(completion_event("evt-1"))
        harness.drain()
        clock.now = real_now + timedelta(hours=1, seconds=1)  # past the overlap
        harness.notifications.fanout.fan_out(completion_event("evt-2"))
        harness.drain()

    during, after = receiver.requests
    assert during.headers["webhook-signature"].count("v1,") == 2
    Webhook(original.secret).verify(during.body, during.headers)
    Webhook(rotated.secret).verify(during.body, during.headers)
    assert after.headers["webhook-signature"].count("v1,") == 1
    with pytest.raises(WebhookVerificationError):
        # The timestamp is an hour ahead of the real clock; only the secret is at issue.
        Webhook(original.secret).verify(
            after.body, {**after.headers, "webhook-timestamp": during.headers["webhook-timestamp"]}
        )
    assert subscriptions.get(original.id).to_api()["previous_secret_expires_at"] is not None
    assert "secret" not in subscriptions.get(original.id).to_api()


class RecordingSender:
    """Wraps the real sender, counting the targets it was asked to connect to."""

    def __init__(self) -> None:
        self.targets: list[VettedTarget] = []
        self._real = PinnedSender(timeout=2.0)

    def post(self, target: VettedTarget, headers: Mapping[str, str], body: bytes) -> SendResult:
        self.targets.append(target)
        return self._real.post(target, headers, body)


def test_dns_rebinding_to_a_private_address_is_caught_at_delivery(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Registration saw a public address; by delivery the name points at loopback,
    where a receiver listens. Without an allow-list nothing may reach it."""
    resolver = FixedResolver({"hooks.example.test": [PUBLIC]})
    sender = RecordingSender()
    harness = make_harness(
        tmp_path, allowed="", resolver=resolver, sender=sender, ports=(receiver.port,)
    )
    subscription = harness.notifications.subscriptions.register(
        f"https://hooks.example.test:{receiver.port}/hook"
    )
    resolver.answers["hooks.example.test"] = [PUBLIC, "127.0.0.1"]
    harness.notifications.fanout.fan_out(completion_event("evt-1"))
    harness.drain()

    assert receiver.requests == []
    assert sender.targets == []
    log = attempts(harness, subscription.id)
    assert len(log) == 3
    assert all(a.error and a.error.startswith("target_not_allowed:") for a in log)
    assert resolver.lookups.count("hooks.example.test") == 1 + 3  # once per attempt
    assert state(harness, subscription.id, "evt-1") is DeliveryState.DEAD_LETTERED


def test_the_vetted_address_is_the_one_connected_to(tmp_path: Path, receiver: Receiver) -> None:
    resolver = FixedResolver({"hooks.example.test": ["127.0.0.1"]})
    sender = RecordingSender()
    harness = make_harness(tmp_path, resolver=resolver, sender=sender)
    harness.notifications.subscriptions.register(f"http://hooks.example.test:{receiver.port}/")
    harness.notifications.fanout.fan_out(completion_event("evt-1"))
    harness.drain()
    (target,) = sender.targets
    assert [str(a) for a in target.addresses] == ["127.0.0.1"]
    assert receiver.requests[0].headers["host"] == f"hooks.example.test:{receiver.port}"


def test_deleting_a_subscription_cancels_its_pending_deliveries(
    harness: Harness, receiver: Receiver
) -> None:
    subscription = harness.notifications.subscriptions.register(receiver.url())
    harness.notifications.fanout.fan_out(completion_event("evt-1"))
    harness.notifications.subscriptions.delete(subscription.id)
    harness.drain()
    assert receiver.requests == []
    assert state(harness, subscription.id, "evt-1") is DeliveryState.CANCELLED


def test_fan_out_follows_each_subscriptions_event_types(harness: Harness) -> None:
    with receiving() as completed, receiving() as failed:
        subscriptions = harness.notifications.subscriptions
        subscriptions.register(completed.url(), ["document.processing.completed"])
        subscriptions.register(failed.url(), ["document.processing.failed"])
        services = harness.notifications
        assert services.fanout.fan_out(completion_event("evt-1")).targets == 1
        assert (
            services.fanout.fan_out(completion_event("evt-2", type="document.uploaded")).targets
            == 0
        )
        harness.drain()
    assert [json.loads(r.body)["id"] for r in completed.requests] == ["evt-1"]
    assert failed.requests == []


def test_an_oversized_event_is_delivered_trimmed_never_dropped(
    harness: Harness, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """The reviewed finding: events over the size limit were dropped silently.
    Now the notice carries the outcome and the result link, marked truncated."""
    subscription = harness.notifications.subscriptions.register(receiver.url())
    event = completion_event("evt-1")
    big = {**event, "data": {**event["data"], "blob": "x" * MAX_BODY_CHARS}}
    with caplog.at_level(logging.WARNING):
        assert harness.notifications.fanout.fan_out(big).enqueued == 1
    harness.drain()
    (request,) = receiver.requests
    notice = Webhook(subscription.secret).verify(request.body, request.headers)
    assert notice["id"] == "evt-1" and notice["type"] == event["type"]
    assert notice["data"]["truncated"] is True
    assert notice["data"]["result_url"] == event["data"]["result_url"]
    assert "blob" not in notice["data"]
    assert "webhook.event_trimmed" in caplog.text


def test_a_subscription_failing_for_5_days_is_disabled(tmp_path: Path) -> None:
    clock = FakeClock()
    harness = make_harness(tmp_path, clock=clock, schedule=(0.01,))
    with receiving(Reply(500)) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        services = harness.notifications
        services.fanout.fan_out(completion_event("evt-1"))
        harness.drain()
        failing = harness.notifications.subscriptions.get(subscription.id)
        assert failing.failing_since == clock.now
        assert failing.status is SubscriptionStatus.ACTIVE

        clock.advance(days=5)
        services.fanout.fan_out(completion_event("evt-2"))
        harness.drain()
    disabled = harness.notifications.subscriptions.get(subscription.id)
    assert disabled.status is SubscriptionStatus.DISABLED
    assert disabled.disabled_reason == "failing_for_5_days"
    assert len(receiver.requests) == 3  # two for evt-1, one for evt-2
    assert state(harness, subscription.id, "evt-2") is DeliveryState.DEAD_LETTERED


def test_a_success_ends_a_run_of_failures(harness: Harness) -> None:
    with receiving(Reply(500), Reply(200)) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
        harness.notifications.fanout.fan_out(completion_event("evt-1"))
        harness.drain()
        assert len(receiver.requests) == 2
    assert harness.notifications.subscriptions.get(subscription.id).failing_since is None


class CrashOnce:
    """A sender whose first call dies as a killed worker would."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = PinnedSender(timeout=2.0)

    def post(self, target: VettedTarget, headers: Mapping[str, str], body: bytes) -> SendResult:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("worker died")
        return self._real.post(target, headers, body)


def test_an_attempt_whose_worker_died_is_taken_over_after_its_lease(
    tmp_path: Path, receiver: Receiver
) -> None:
    clock = FakeClock()
    harness = make_harness(tmp_path, clock=clock, sender=CrashOnce())
    subscription = harness.notifications.subscriptions.register(receiver.url())
    services = harness.notifications
    services.fanout.fan_out(completion_event("evt-1"))
    job = harness.take_job()
    with pytest.raises(RuntimeError):
        services.worker.handle(job)
    assert state(harness, subscription.id, "evt-1") is DeliveryState.DELIVERING
    with pytest.raises(AttemptInProgressError):
        services.worker.handle(job)  # the queue redelivers while the lease holds
    clock.advance(seconds=46)
    services.worker.handle(job)
    assert len(receiver.requests) == 1
    assert state(harness, subscription.id, "evt-1") is DeliveryState.DELIVERED


def test_malformed_jobs_are_dropped(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        harness.notifications.worker.handle("not json")
        harness.notifications.worker.handle('{"v":1}')
        harness.notifications.worker.handle(
            '{"v":1,"target":"../x","digest":"a/b","attempt":1,"run":1,"due":0}'
        )
    assert [r.getMessage() for r in caplog.records] == ["webhook.job_invalid"] * 3


def test_a_notice_whose_worker_died_for_good_can_be_replayed(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Its job went to the poison queue; once its lease is long past, a replay revives it."""
    clock = FakeClock()
    harness = make_harness(tmp_path, clock=clock, sender=CrashOnce())
    subscription = harness.notifications.subscriptions.register(receiver.url())
    services = harness.notifications
    services.fanout.fan_out(completion_event("evt-1"))
    with pytest.raises(RuntimeError):
        services.worker.handle(harness.take_job())
    notice = delivery_id(subscription.id, "evt-1")
    with pytest.raises(DeliveryStateError):
        services.replay.redeliver(notice)
    clock.advance(minutes=20)
    services.replay.redeliver(notice)
    harness.drain()
    assert len(receiver.requests) == 1
    assert state(harness, subscription.id, "evt-1") is DeliveryState.DELIVERED


class ExplodingSender:
    """A sender that fails in a way no retry can fix (a bug, say)."""

    timeout = 1.0

    def post(self, target: VettedTarget, headers: Mapping[str, str], body: bytes) -> SendResult:
        raise RuntimeError("boom")


def test_a_job_that_fails_on_every_try_ends_dead_lettered_on_the_last(tmp_path: Path) -> None:
    """The queue moves a message that keeps failing to its poison queue; on that
    last try the worker ends the delivery instead of leaving it pending for ever."""
    harness = make_harness(tmp_path, sender=ExplodingSender())
    with receiving(Reply(200)) as receiver:
        subscription = harness.notifications.subscriptions.register(receiver.url())
    harness.notifications.fanout.fan_out(completion_event("evt-1"))
    job = harness.take_job()
    for dequeue in range(1, MAX_JOB_DEQUEUES):
        with pytest.raises(RuntimeError):
            harness.notifications.worker.handle(job, dequeue_count=dequeue)
        # The attempt's lease lets the queue's next copy take over.
        harness.notifications.deliveries.save(
            harness.notifications.deliveries.get(subscription.id, event_hash("evt-1")).replace(
                lease_until=None
            )
        )
    harness.notifications.worker.handle(job, dequeue_count=MAX_JOB_DEQUEUES)
    assert state(harness, subscription.id, "evt-1") is DeliveryState.DEAD_LETTERED
    (dead,) = harness.notifications.replay.dead_letters(after=None, limit=10)
    assert dead["reason"] == "job_failed"


def test_the_last_try_matches_the_hosts_max_dequeue_count() -> None:
    host = json.loads((Path(__file__).resolve().parents[2] / "host.json").read_text())
    assert host["extensions"]["queues"]["maxDequeueCount"] == MAX_JOB_DEQUEUES


def test_a_dead_workers_attempt_is_queued_again_once_its_lease_ran_out(
    tmp_path: Path, receiver: Receiver
) -> None:
    clock = FakeClock()
    harness = make_harness(tmp_path, clock=clock, sender=CrashOnce())
    services = harness.notifications
    subscription = services.subscriptions.register(receiver.url())
    services.fanout.fan_out(completion_event("evt-1"))
    with pytest.raises(RuntimeError):
        services.worker.handle(harness.take_job())  # its message is gone with the worker
    delivery = services.deliveries.get(subscription.id, event_hash("evt-1"))
    assert delivery.state is DeliveryState.DELIVERING

    assert (
        services.replay.requeue_stalled() == 0
    )  # the lease holds: the worker may still be sending
    assert delivery.lease_until is not None
    clock.now = delivery.lease_until
    assert services.replay.requeue_stalled() == 1
    assert harness.drain() == 1

    assert len(receiver.requests) == 1
    done = services.deliveries.get(subscription.id, event_hash("evt-1"))
    assert (done.state, done.attempts) == (DeliveryState.DELIVERED, 1)
    assert services.replay.requeue_stalled() == 0  # finished: nothing more to queue
