"""The dev host over Azurite (storage by connection string, as with
``AzureWebJobsStorage``): the blob watcher, dead-lettering and queue triggers
go through the app's Azure adapters."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests

from kernel.settings import StorageSettings
from kernel.storage.factory import create_stores
from tests.azurite import Azurite

INBOX = "devhost-azurite-inbox"
QUEUE = "devhost-azurite-jobs"

events: list[func.EventGridEvent] = []
messages: list[str] = []
lock = threading.Lock()
app = func.FunctionApp()


@app.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent) -> None:
    with lock:
        events.append(event)
    if event.get_json()["contentLength"] == 0:
        raise ValueError("empty documents fail, to exercise dead-lettering")


@app.queue_trigger(arg_name="msg", queue_name=QUEUE, connection="AzureWebJobsStorage")
def deliver_webhook(msg: func.QueueMessage) -> None:
    with lock:
        messages.append(msg.get_body().decode())


@pytest.mark.azurite
def test_blob_events_dead_letters_and_queue_triggers_work_over_azurite(
    azurite: Azurite, start_devhost: Any, devhost_options: Any, wait_until: Any, tmp_path: Path
) -> None:
    storage = StorageSettings(connection_string=azurite.connection_string, data_dir=tmp_path)
    stores = create_stores(storage)
    options = replace(devhost_options, inbox_container=INBOX, max_delivery_attempts=2)
    host = start_devhost(app, storage=storage, options=options)
    name = f"{uuid.uuid4()}.txt"

    info = stores.blobs.put(INBOX, name, b"hello", content_type="text/plain")
    empty = stores.blobs.put(INBOX, f"empty-{name}", b"")
    stores.queues.send(QUEUE, "job-1")

    wait_until(lambda: messages == ["job-1"], timeout=10)
    deliveries_url = host.base_url + "/devhost/deliveries"
    wait_until(
        lambda: (
            {d["state"] for d in requests.get(deliveries_url, timeout=10).json()}
            == {"done", "deadlettered"}
        ),
        timeout=10,
    )
    host.wait_for_blob_polls(3)  # several more listings: no blob may be announced twice
    logged = requests.get(host.base_url + "/devhost/events", timeout=10).json()
    by_name = {e["subject"].rsplit("/", 1)[1]: e for e in logged}
    assert sorted(by_name) == sorted([name, f"empty-{name}"])
    event = by_name[name]
    assert event["subject"] == f"/blobServices/default/containers/{INBOX}/blobs/{name}"
    assert event["topic"].endswith("/providers/Microsoft.Storage/storageAccounts/devstoreaccount1")
    assert event["data"]["eTag"] == info.etag
    assert event["data"]["url"] == (
        f"http://127.0.0.1:{azurite.blob_port}/devstoreaccount1/{INBOX}/{name}"
    )
    assert (event["data"]["contentType"], event["data"]["contentLength"]) == ("text/plain", 5)

    dead_id = by_name[f"empty-{name}"]["id"]
    record = json.loads(stores.blobs.get("deadletters", f"inbox-to-processor/{dead_id}.json"))
    assert record["deliveryAttempts"] == 2
    assert record["event"]["data"]["eTag"] == empty.etag
    assert stores.queues.receive(QUEUE, visibility_timeout=1) == []
