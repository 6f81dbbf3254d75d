"""The dev host's blob watcher plays Blob Storage's Event Grid integration for
the inbox: one Microsoft.Storage.BlobCreated per blob version, in Azure's
Event Grid schema, routed by the "storage" subscriptions."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests

from kernel.settings import StorageSettings
from kernel.storage.factory import Stores, create_stores
from tools.devhost.blobwatch import BlobWatcher
from tools.devhost.state import BlobMark, StateStore

received: list[func.EventGridEvent] = []
lock = threading.Lock()
app = func.FunctionApp()


@app.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent) -> None:
    with lock:
        received.append(event)


@pytest.fixture(autouse=True)
def clear_received() -> None:
    received.clear()


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    return create_stores(StorageSettings(data_dir=tmp_path / "data"))


def blob_events(host: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = requests.get(
        host.base_url + "/devhost/events?type=Microsoft.Storage.BlobCreated", timeout=10
    ).json()
    return events


def settle(host: Any) -> None:
    """Let the watcher list the inbox several more times: an extra event would
    have been announced by then."""
    host.wait_for_blob_polls(3)


def test_each_new_blob_gets_exactly_one_blob_created_in_azures_schema(
    start_devhost: Any, stores: Stores, wait_until: Any
) -> None:
    host = start_devhost(app)
    info = stores.blobs.put(
        "inbox", "scans/report 1.pdf", b"%PDF-1.7", content_type="application/pdf"
    )
    wait_until(lambda: received)
    settle(host)
    (event,) = blob_events(host)
    assert set(event) == {
        "topic",
        "subject",
        "eventType",
        "eventTime",
        "id",
        "data",
        "dataVersion",
        "metadataVersion",
    }
    assert set(event["data"]) == {
        "api",
        "clientRequestId",
        "requestId",
        "eTag",
        "contentType",
        "contentLength",
        "blobType",
        "url",
        "sequencer",
        "storageDiagnostics",
    }
    assert re.fullmatch(
        r"/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/]+/providers/Microsoft\.Storage"
        r"/storageAccounts/devstoreaccount1",
        event["topic"],
    )
    assert event["subject"] == "/blobServices/default/containers/inbox/blobs/scans/report 1.pdf"
    assert event["eventType"] == "Microsoft.Storage.BlobCreated"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", event["eventTime"])
    assert (event["dataVersion"], event["metadataVersion"]) == ("", "1")
    data = event["data"]
    assert data["api"] == "PutBlob"
    assert data["eTag"] == info.etag
    assert (data["contentType"], data["contentLength"]) == ("application/pdf", 8)
    assert data["blobType"] == "BlockBlob"
    assert data["url"] == "http://127.0.0.1:10000/devstoreaccount1/inbox/scans/report%201.pdf"
    assert re.fullmatch(r"[0-9A-F]{32}", data["sequencer"])
    assert set(data["storageDiagnostics"]) == {"batchId"}
    (delivered,) = received
    assert isinstance(delivered, func.EventGridEvent)
    assert (delivered.id, delivered.event_type) == (event["id"], "Microsoft.Storage.BlobCreated")
    assert delivered.get_json()["eTag"] == info.etag


def test_a_rewritten_blob_is_announced_again_an_unchanged_one_never(
    start_devhost: Any, stores: Stores, wait_until: Any
) -> None:
    host = start_devhost(app)
    first = stores.blobs.put("inbox", "a.txt", b"one")
    wait_until(lambda: len(blob_events(host)) == 1)
    second = stores.blobs.put("inbox", "a.txt", b"two!")
    wait_until(lambda: len(blob_events(host)) == 2)
    settle(host)
    events = blob_events(host)
    assert [e["data"]["eTag"] for e in events] == [first.etag, second.etag]
    assert events[0]["data"]["sequencer"] < events[1]["data"]["sequencer"]


def test_blobs_outside_the_inbox_are_not_announced(start_devhost: Any, stores: Stores) -> None:
    host = start_devhost(app)
    stores.blobs.put("uploads", "a.txt", b"one")
    settle(host)
    assert blob_events(host) == []


def test_a_restarted_host_does_not_announce_known_blobs_again(
    start_devhost: Any, stores: Stores, wait_until: Any
) -> None:
    host = start_devhost(app)
    stores.blobs.put("inbox", "a.txt", b"one")
    wait_until(lambda: len(blob_events(host)) == 1)
    host.stop()
    again = start_devhost(app)
    settle(again)
    assert len(blob_events(again)) == 1
    stores.blobs.put("inbox", "b.txt", b"two")
    wait_until(lambda: len(blob_events(again)) == 2)


def test_inbox_container_setting_moves_the_watch_and_the_subscription_subject(
    start_devhost: Any, devhost_options: Any, stores: Stores, wait_until: Any
) -> None:
    host = start_devhost(app, options=replace(devhost_options, inbox_container="dropbox"))
    stores.blobs.put("inbox", "ignored.txt", b"x")
    stores.blobs.put("dropbox", "seen.txt", b"y")
    wait_until(lambda: received)
    settle(host)
    (event,) = blob_events(host)
    assert event["subject"] == "/blobServices/default/containers/dropbox/blobs/seen.txt"
    assert [e.subject for e in received] == [event["subject"]]


def test_a_file_dropped_by_hand_waits_until_it_stops_growing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    blobs = create_stores(StorageSettings(data_dir=data_dir)).blobs
    state = StateStore(tmp_path / "state.sqlite3")
    announced: list[tuple[dict[str, Any], BlobMark]] = []

    def announce(event: Any, mark: BlobMark) -> None:
        state.append_events([], blob_mark=mark)
        announced.append((event, mark))

    watcher = BlobWatcher(
        blobs=blobs,
        state=state,
        container="inbox",
        poll_seconds=1.0,
        account="devstoreaccount1",
        blob_endpoint="http://127.0.0.1:10000/devstoreaccount1",
        announce=announce,
    )
    dropped = data_dir / "blobs" / "inbox" / "big.bin"
    dropped.parent.mkdir(parents=True)
    with dropped.open("wb") as file:
        file.write(b"a" * 1000)
        file.flush()
        assert watcher.poll_once() == 0  # first sight
        file.write(b"b" * 1000)
        file.flush()
        assert watcher.poll_once() == 0  # grew since the last poll
    assert watcher.poll_once() == 1  # unchanged across two polls
    assert watcher.poll_once() == 0
    (event, mark) = announced[0]
    assert event["data"]["contentLength"] == 2000
    assert event["data"]["contentType"] == "application/octet-stream"
    assert mark == BlobMark("inbox", "big.bin", blobs.info("inbox", "big.bin").etag)
    state.close()
