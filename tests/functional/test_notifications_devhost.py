"""End to end on the local host: a subscription registered over HTTP, a completion
event published to the host's Event Grid topic, the notifier fanning out onto the
delivery queue, and the queue-triggered worker retrying until the receiver
(verifying with standardwebhooks) accepts."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from notifications.runtime import notifications
from tests.support.app import reset_runtime
from tests.support.webhooks import (
    Reply,
    completion_event,
    fresh_app,
    receiving,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv("WEBHOOK_QUEUE", "webhook-deliveries")
    monkeypatch.setenv("WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8")
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "0.05,0.1")
    monkeypatch.setenv("LOGIC_APP_URL", "")
    reset_runtime()
    yield data_dir
    if notifications.cache_info().currsize:
        notifications().platform.stores.close()
    reset_runtime()


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return response.status, json.loads(text) if text else None


def test_a_completion_event_is_delivered_through_the_local_host(
    app_env: Path, start_devhost: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    host = start_devhost(fresh_app(), data_dir=app_env)
    with receiving(Reply(500), Reply(200)) as receiver:
        status, created = http(
            "POST", f"{host.base_url}/api/subscriptions", {"url": receiver.url()}
        )
        assert status == 201

        event = completion_event("evt-e2e")
        for _ in range(2):  # a duplicate publish must not give a second notice
            publish = urllib.request.Request(
                host.topic_endpoint + "?api-version=2018-01-01",
                data=json.dumps([event]).encode(),
                method="POST",
                headers={
                    "aeg-sas-key": host.topic_key,
                    "Content-Type": "application/cloudevents-batch+json; charset=utf-8",
                },
            )
            with urllib.request.urlopen(publish, timeout=10) as response:
                assert response.status == 200

        wait_until(lambda: len(receiver.requests) >= 2, timeout=15)
        deliveries = f"{host.base_url}/api/subscriptions/{created['id']}/deliveries"

        def delivered() -> Any:
            _, page = http("GET", deliveries)
            items = page["items"]
            return page if items and items[0]["outcome"] == "delivered" else None

        page = wait_until(delivered, timeout=5)

    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert Webhook(created["secret"]).verify(request.body, request.headers)["id"] == "evt-e2e"
    assert [(a["attempt"], a["status_code"]) for a in page["items"]] == [(2, 200), (1, 500)]
