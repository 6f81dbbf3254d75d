"""Which storage a queue trigger polls in the dev host: the one its
``connection`` names, as in Azure, and the app's own storage when that
connection is not set (where the Functions host would refuse to start it),
so ``make run`` and Azurite setups without ``DATA_STORAGE`` keep working."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from kernel.settings import DATA_STORAGE, StorageSettings
from kernel.storage.factory import create_stores
from tests.azurite import Azurite

DATA_QUEUE = "devhost-data-jobs"
HOST_QUEUE = "devhost-host-jobs"

received: dict[str, list[str]] = {}
lock = threading.Lock()
app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name=DATA_QUEUE, connection="DATA_STORAGE")
def data_jobs(msg: func.QueueMessage) -> None:
    with lock:
        received.setdefault("data", []).append(msg.get_body().decode())


@app.queue_trigger(arg_name="msg", queue_name=HOST_QUEUE, connection="AzureWebJobsStorage")
def host_jobs(msg: func.QueueMessage) -> None:
    with lock:
        received.setdefault("host", []).append(msg.get_body().decode())


@pytest.fixture(autouse=True)
def storage_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., None]:
    """No storage setting from the outer environment leaks in; ``set(**env)``
    sets the ones a test wants."""
    received.clear()
    for name in list(os.environ):
        if name.startswith(("AzureWebJobsStorage", "DATA_STORAGE", "STORAGE_PROVISIONED")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))

    def set_env(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return set_env


def test_every_queue_trigger_binds_to_the_data_connection() -> None:
    """The app's queue triggers (webhook deliveries, reindex steps, the crawl
    frontier) read the data account in Azure, never the host's."""
    import function_app
    from tools.devhost.functions import QUEUE_TRIGGER, index_functions

    queued = {
        f.name: f.trigger["connection"]
        for f in index_functions(function_app.app)
        if f.trigger_type == QUEUE_TRIGGER
    }
    assert queued == {
        "deliver_webhook": DATA_STORAGE,
        "reindex_documents": DATA_STORAGE,
        "fetch_frontier": DATA_STORAGE,
    }


def test_without_any_storage_setting_every_trigger_polls_the_embedded_store(
    start_devhost: Any, wait_until: Any, tmp_path: Path
) -> None:
    start_devhost(app)
    stores = create_stores(StorageSettings(data_dir=tmp_path / "data"))
    stores.queues.send(DATA_QUEUE, "d1")
    stores.queues.send(HOST_QUEUE, "h1")
    wait_until(lambda: received == {"data": ["d1"], "host": ["h1"]})
    stores.close()


@pytest.mark.azurite
def test_data_storage_alone_serves_both_connections(
    azurite: Azurite, storage_env: Callable[..., None], start_devhost: Any, wait_until: Any
) -> None:
    """DATA_STORAGE set, AzureWebJobsStorage not: one account for everything."""
    storage_env(DATA_STORAGE=azurite.connection_string)
    start_devhost(app)
    stores = create_stores(StorageSettings(connection_string=azurite.connection_string))
    suffix = uuid.uuid4().hex[:6]
    stores.queues.send(DATA_QUEUE, f"d-{suffix}")
    stores.queues.send(HOST_QUEUE, f"h-{suffix}")
    wait_until(lambda: received == {"data": [f"d-{suffix}"], "host": [f"h-{suffix}"]}, timeout=10)
    stores.close()


@pytest.mark.azurite
def test_two_accounts_each_trigger_polls_the_one_its_connection_names(
    make_azurite: Callable[..., Azurite],
    storage_env: Callable[..., None],
    start_devhost: Any,
    wait_until: Any,
) -> None:
    """As in Azure: the data connection's queue in the data account, the host
    connection's queue in the host account, and the app's data stays out of
    the host account."""
    data, host = make_azurite(), make_azurite()
    storage_env(DATA_STORAGE=data.connection_string, AzureWebJobsStorage=host.connection_string)
    devhost = start_devhost(app)
    data_stores = create_stores(StorageSettings(connection_string=data.connection_string))
    host_stores = create_stores(StorageSettings(connection_string=host.connection_string))
    # A message for the host connection's trigger put in the data account is not its.
    data_stores.queues.send(HOST_QUEUE, "wrong-account")
    data_stores.queues.send(DATA_QUEUE, "d1")
    host_stores.queues.send(HOST_QUEUE, "h1")
    wait_until(lambda: received == {"data": ["d1"], "host": ["h1"]}, timeout=10)
    devhost.stop()
    assert [m.content for m in data_stores.queues.receive(HOST_QUEUE)] == ["wrong-account"]
    assert devhost.storage_account.blob_endpoint.endswith(f":{data.blob_port}/devstoreaccount1")
    data_stores.close()
    host_stores.close()
