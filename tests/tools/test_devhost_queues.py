"""Queue and timer triggers in the dev host: messages decoded by the real
converter, delete on success, redelivery after the visibility timeout,
poison queue after maxDequeueCount; timers on their NCRONTAB schedule."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from kernel.settings import StorageSettings
from kernel.storage.factory import Stores, create_stores
from tools.devhost.ncrontab import ScheduleError, parse_schedule

QUEUE = "webhook-jobs"
state: dict[str, Any] = {}
lock = threading.Lock()
app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name=QUEUE, connection="AzureWebJobsStorage")
def deliver_webhook(msg: func.QueueMessage, context: func.Context) -> None:
    with lock:
        state["messages"].append(
            {
                "id": msg.id,
                "body": msg.get_body().decode(),
                "dequeue_count": msg.dequeue_count,
                "pop_receipt": msg.pop_receipt,
                "insertion_time": msg.insertion_time,
                "expiration_time": msg.expiration_time,
                "time_next_visible": msg.time_next_visible,
                "function_name": context.function_name,
            }
        )
        failing = len(state["messages"]) <= state["fail_first"]
    if failing:
        raise RuntimeError("webhook endpoint down")


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer", run_on_startup=True)
def reconcile(timer: func.TimerRequest) -> None:
    with lock:
        state["ticks"].append(timer)


@pytest.fixture(autouse=True)
def reset_state() -> None:
    state.update(messages=[], fail_first=0, ticks=[])


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    return create_stores(StorageSettings(data_dir=tmp_path / "data"))


def host_json(root: Path, max_dequeue_count: int) -> Path:
    path = root / "host.json"
    path.write_text(
        json.dumps(
            {"version": "2.0", "extensions": {"queues": {"maxDequeueCount": max_dequeue_count}}}
        )
    )
    return path


def test_a_message_reaches_the_function_decoded_and_is_deleted_on_success(
    start_devhost: Any, stores: Stores, wait_until: Any
) -> None:
    host = start_devhost(app)
    stores.queues.send(QUEUE, '{"url": "https://example.test/hook"}')
    wait_until(lambda: state["messages"])
    time.sleep(host.options.queue_visibility_seconds + 0.3)  # a redelivery would be due now
    (message,) = state["messages"]
    assert message["body"] == '{"url": "https://example.test/hook"}'
    assert message["dequeue_count"] == 1
    assert message["id"] and message["pop_receipt"]
    assert message["function_name"] == "deliver_webhook"
    assert message["insertion_time"].tzinfo is not None
    assert message["expiration_time"] > message["insertion_time"]
    assert message["time_next_visible"] > message["insertion_time"]
    assert stores.queues.receive(QUEUE, visibility_timeout=1) == []


def test_a_failed_message_is_redelivered_after_its_visibility_timeout(
    start_devhost: Any, stores: Stores, wait_until: Any
) -> None:
    start_devhost(app)
    state["fail_first"] = 1
    stores.queues.send(QUEUE, "retry me")
    wait_until(lambda: len(state["messages"]) == 2, timeout=5)
    first, second = state["messages"]
    assert first["id"] == second["id"]
    assert (first["dequeue_count"], second["dequeue_count"]) == (1, 2)
    assert stores.queues.receive(QUEUE, visibility_timeout=1) == []


def test_after_max_dequeue_count_failures_the_message_moves_to_the_poison_queue(
    start_devhost: Any, stores: Stores, wait_until: Any, tmp_path: Path
) -> None:
    host_json(tmp_path, max_dequeue_count=2)
    start_devhost(app)
    state["fail_first"] = 100
    stores.queues.send(QUEUE, "poisonous")
    poisoned = wait_until(
        lambda: stores.queues.receive(f"{QUEUE}-poison", visibility_timeout=1), timeout=6
    )
    assert [m.content for m in poisoned] == ["poisonous"]
    assert [m["dequeue_count"] for m in state["messages"]] == [1, 2]
    time.sleep(1.2)
    assert stores.queues.receive(QUEUE, visibility_timeout=1) == []


def test_timer_runs_on_startup_and_on_its_schedule(
    start_devhost: Any, devhost_options: Any, wait_until: Any
) -> None:
    host = start_devhost(app, options=replace(devhost_options, timers_enabled=True))
    assert host.timer_functions != []
    wait_until(lambda: len(state["ticks"]) >= 2, timeout=4)
    first = state["ticks"][0]
    assert isinstance(first, func.TimerRequest)
    assert first.past_due is False
    assert set(first.schedule_status) == {"Last", "Next", "LastUpdated"}


def test_timers_stay_off_when_disabled(start_devhost: Any) -> None:
    host = start_devhost(app)  # the test options disable timers, like DEVHOST_DISABLE_TIMERS=1
    assert host.timer_functions == []
    assert state["ticks"] == []


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/5 * * * * *", "2026-03-14T12:00:01", "2026-03-14T12:00:05"),
        ("0 */5 * * * *", "2026-03-14T12:03:00", "2026-03-14T12:05:00"),
        ("0 30 9 * * *", "2026-03-14T10:00:00", "2026-03-15T09:30:00"),
        ("0 0 9,17 * * *", "2026-03-14T09:00:00", "2026-03-14T17:00:00"),
        ("0 0 0 * * 1", "2026-03-14T12:00:00", "2026-03-16T00:00:00"),  # next Monday
        ("0 0 0 * * SUN", "2026-03-14T12:00:00", "2026-03-15T00:00:00"),
        ("0 0 0 1 * *", "2026-12-05T00:00:00", "2027-01-01T00:00:00"),
        ("0 0 12 * JAN-MAR 1-5", "2026-03-31T12:00:00", "2027-01-01T12:00:00"),
        ("00:10:00", "2026-03-14T12:00:00", "2026-03-14T12:10:00"),
    ],
)
def test_ncrontab_next_occurrence(expression: str, after: str, expected: str) -> None:
    moment = datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert parse_schedule(expression).next_after(moment) == datetime.fromisoformat(
        expected
    ).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "expression", ["* * * * *", "61 * * * * *", "*/0 * * * * *", "x * * * * *"]
)
def test_ncrontab_rejects_malformed_schedules(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(expression)
