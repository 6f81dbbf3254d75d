"""The dev host's Event Grid: the real EventGridPublisherClient publishes to
its topic; events are logged, routed by infra/event-subscriptions.json and
delivered at-least-once with retries and dead-lettering."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import azure.functions as func
import pytest
import requests
from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.eventgrid import EventGridPublisherClient

from kernel.events.eventgrid import EventGridPublisher
from kernel.settings import StorageSettings
from kernel.storage.factory import create_stores
from tools.devhost.host import DevHost

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@dataclass
class Calls:
    """What the app's Event Grid functions received, and how often to fail first."""

    fail_first: int = 0
    received: list[tuple[str, Any, func.Context]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, function: str, event: Any, context: func.Context) -> None:
        with self.lock:
            self.received.append((function, event, context))
            failing = len(self.received) <= self.fail_first
        if failing:
            raise RuntimeError("simulated failure")


calls = Calls()
app = func.FunctionApp()


@app.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent, context: func.Context) -> None:
    calls.record("process_document", event, context)


@app.event_grid_trigger(arg_name="event")
def notify_completion(event: func.EventGridEvent, context: func.Context) -> None:
    calls.record("notify_completion", event, context)


@pytest.fixture(autouse=True)
def fresh_calls() -> None:
    with calls.lock:
        calls.fail_first = 0
        calls.received.clear()


def cloud_event(event_type: str = "document.uploaded", **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/docflow/documents",
        "type": event_type,
        "subject": "documents/d1",
        "time": "2026-03-14T12:00:00Z",
        "datacontenttype": "application/json",
        "data": {"documentId": "d1"},
        **extra,
    }


def publisher(host: DevHost, key: str | None = None) -> EventGridPublisherClient:
    return EventGridPublisherClient(host.topic_endpoint, AzureKeyCredential(key or host.topic_key))


def deliveries(host: DevHost) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = requests.get(
        host.base_url + "/devhost/deliveries", timeout=10
    ).json()
    return result


def test_real_client_publishes_over_http_and_the_function_gets_a_cloudevent(
    start_devhost: Any, wait_until: Any
) -> None:
    host = start_devhost(app)
    event = cloud_event(traceparent=TRACEPARENT)
    publisher(host).send([event])
    wait_until(lambda: calls.received)
    function, received, context = calls.received[0]
    assert function == "process_document"
    assert isinstance(received, func.CloudEvent)
    assert (received.id, received.type, received.source) == (
        event["id"],
        event["type"],
        "/docflow/documents",
    )
    assert received.subject == "documents/d1"
    assert received.get_json() == {"documentId": "d1"}
    assert received.extension_attrs == {"traceparent": TRACEPARENT}
    assert context.trace_context.trace_parent == TRACEPARENT
    assert context.function_name == "process_document"


def test_the_apps_publisher_adapter_reaches_the_local_topic(
    start_devhost: Any, wait_until: Any
) -> None:
    host = start_devhost(app)
    event = cloud_event("document.processing.completed", traceparent=TRACEPARENT)
    EventGridPublisher(host.topic_endpoint, key=host.topic_key).publish([event])
    wait_until(lambda: calls.received)
    function, received, _ = calls.received[0]
    assert (function, received.id) == ("notify_completion", event["id"])


def test_wrong_key_is_rejected_and_nothing_is_logged(start_devhost: Any) -> None:
    host = start_devhost(app)
    with pytest.raises(ClientAuthenticationError):
        publisher(host, key="not-the-key").send([cloud_event()])
    no_key = requests.post(
        host.topic_endpoint,
        data=json.dumps([cloud_event()]),
        headers={"Content-Type": "application/cloudevents-batch+json"},
        timeout=10,
    )
    assert no_key.status_code == 401
    assert requests.get(host.base_url + "/devhost/events", timeout=10).json() == []


def test_bearer_tokens_over_http_are_refused_by_the_sdk_itself(start_devhost: Any) -> None:
    """Why the app must use a key credential locally: azure-core will not send a
    bearer token to a non-https URL (DefaultAzureCredential cannot be used here)."""

    class FakeTokenCredential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("token", int(time.time()) + 3600)

    host = start_devhost(app)
    client = EventGridPublisherClient(host.topic_endpoint, FakeTokenCredential())  # type: ignore[arg-type]
    with pytest.raises(ServiceRequestError, match="non-TLS"):
        client.send([cloud_event()])


def test_events_are_dispatched_by_type_per_the_subscription_map(
    start_devhost: Any, wait_until: Any
) -> None:
    host = start_devhost(app)
    uploaded, completed, failed, other = (
        cloud_event("document.uploaded"),
        cloud_event("document.processing.completed"),
        cloud_event("document.processing.failed"),
        cloud_event("something.else"),
    )
    publisher(host).send([uploaded, completed, failed, other])
    wait_until(lambda: len(calls.received) == 3)
    # The topic queues every delivery before it answers the publish: a wrongly
    # routed fourth one would be listed already.
    assert len(deliveries(host)) == 3
    routed = sorted((function, event.id) for function, event, _ in calls.received)
    assert routed == sorted(
        [
            ("process_document", uploaded["id"]),
            ("notify_completion", completed["id"]),
            ("notify_completion", failed["id"]),
        ]
    )
    subscriptions = {(d["eventId"], d["subscription"]) for d in deliveries(host)}
    assert subscriptions == {
        (uploaded["id"], "uploads-to-processor"),
        (completed["id"], "completions-to-notifier"),
        (failed["id"], "completions-to-notifier"),
    }


def test_failed_deliveries_are_retried_until_they_succeed(
    start_devhost: Any, wait_until: Any
) -> None:
    host = start_devhost(app)
    calls.fail_first = 2
    event = cloud_event()
    publisher(host).send([event])
    wait_until(lambda: [d for d in deliveries(host) if d["state"] == "done"])
    assert [e.id for _, e, _ in calls.received] == [event["id"]] * 3
    (delivery,) = deliveries(host)
    assert (delivery["state"], delivery["attempts"]) == ("done", 3)
    assert delivery["lastError"] == "RuntimeError: simulated failure"


def test_exhausted_retries_dead_letter_the_event_to_blob_storage(
    start_devhost: Any, devhost_options: Any, wait_until: Any, tmp_path: Any
) -> None:
    host = start_devhost(app, options=replace(devhost_options, max_delivery_attempts=3))
    calls.fail_first = 100
    event = cloud_event()
    publisher(host).send([event])
    wait_until(lambda: [d for d in deliveries(host) if d["state"] == "deadlettered"])
    (delivery,) = deliveries(host)
    assert delivery["attempts"] == 3
    assert len(calls.received) == 3
    blobs = create_stores(StorageSettings(data_dir=tmp_path / "data")).blobs
    record = json.loads(blobs.get("deadletters", f"uploads-to-processor/{event['id']}.json"))
    assert record["deadLetterReason"] == "MaxDeliveryAttemptsExceeded"
    assert record["deliveryAttempts"] == 3
    assert record["lastError"] == "RuntimeError: simulated failure"
    assert record["event"]["id"] == event["id"]
    assert record["event"]["data"] == event["data"]


def test_event_log_lists_events_in_publish_order_with_a_type_filter(
    start_devhost: Any,
) -> None:
    host = start_devhost(app)
    first, second, third = (cloud_event(t) for t in ("a.one", "b.two", "a.one"))
    publisher(host).send([first, second])
    publisher(host).send(third)
    log = requests.get(host.base_url + "/devhost/events", timeout=10).json()
    assert [e["id"] for e in log] == [first["id"], second["id"], third["id"]]
    assert log[0]["data"] == first["data"]
    only = requests.get(host.base_url + "/devhost/events?type=a.one", timeout=10).json()
    assert [e["id"] for e in only] == [first["id"], third["id"]]


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", [{"id": "1", "subject": "s", "eventType": "t"}], 400),
        ("application/cloudevents-batch+json", [{"specversion": "1.0", "id": "1"}], 400),
        ("application/cloudevents-batch+json", [{"id": "1", "source": "s", "type": "t"}], 400),
        ("application/cloudevents-batch+json", [], 400),
        ("application/cloudevents-batch+json", "not json", 400),
    ],
)
def test_malformed_publishes_are_rejected(
    start_devhost: Any, content_type: str, body: Any, status: int
) -> None:
    host = start_devhost(app)
    response = requests.post(
        host.topic_endpoint + "?api-version=2018-01-01",
        data=body if isinstance(body, str) else json.dumps(body),
        headers={"Content-Type": content_type, "aeg-sas-key": host.topic_key},
        timeout=10,
    )
    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert requests.get(host.base_url + "/devhost/events", timeout=10).json() == []


def test_batches_over_one_megabyte_get_413(start_devhost: Any) -> None:
    host = start_devhost(app)
    big = cloud_event(data={"blob": "x" * (1024 * 1024)})
    response = requests.post(
        host.topic_endpoint,
        data=json.dumps([big]),
        headers={
            "Content-Type": "application/cloudevents-batch+json",
            "aeg-sas-key": host.topic_key,
        },
        timeout=10,
    )
    assert response.status_code == 413
