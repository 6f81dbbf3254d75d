"""The dev host as a process: ``python -m tools.devhost`` loads local.settings.json
and points the app at its own topic; a SIGKILLed host's in-flight delivery is
redelivered by the next host (at-least-once); SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests
from azure.core.credentials import AzureKeyCredential
from azure.eventgrid import EventGridPublisherClient

from tools.devhost.host import DevHost
from tools.devhost.lock import DataDirBusyError

ROOT = Path(__file__).resolve().parents[2]
MARKER = "DEVHOST_TEST_IN_FLIGHT_MARKER"

received: list[str] = []
failures = {"left": 0}
lock = threading.Lock()
app = func.FunctionApp()


@app.route(route="settings", methods=["GET"])
def settings(req: func.HttpRequest) -> func.HttpResponse:
    names = ["EVENTGRID_TOPIC_ENDPOINT", "EVENTGRID_TOPIC_KEY", "FROM_FILE", "ENV_WINS"]
    return func.HttpResponse(json.dumps({n: os.environ.get(n) for n in names}))


@app.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent) -> None:
    marker = os.environ.get(MARKER)
    if marker:
        # In the subprocess: signal "in flight", then hang until killed.
        Path(marker).write_text(event.id)
        time.sleep(60)
    with lock:
        received.append(event.id)
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("not yet")


@app.event_grid_trigger(arg_name="event")
def notify_completion(event: func.EventGridEvent) -> None:
    """Present so every subscription in the map has its function."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Any]:
    """Starts ``python -m tools.devhost`` in ``tmp_path/app`` (where local.settings.json is)."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(port: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), **extra_env}
        env.pop("EVENTGRID_TOPIC_KEY", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.devhost", "--port", str(port), "--app",
             "tests.tools.test_devhost_restart:app"],
            cwd=tmp_path / "app",
            env=env,
            stdout=(tmp_path / "stdout.txt").open("wb"),
            stderr=(tmp_path / "stderr.txt").open("wb"),
        )  # fmt: skip
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the dev host exited during start-up"
        try:
            if requests.get(base_url + "/devhost/health", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail("the dev host did not start in time")


def write_local_settings(app_dir: Path, values: dict[str, str]) -> None:
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "local.settings.json").write_text(
        json.dumps({"IsEncrypted": False, "Values": values})
    )


def test_a_killed_host_redelivers_the_event_it_had_in_flight(
    cli: Any, tmp_path: Path, devhost_options: Any, wait_until: Any
) -> None:
    data_dir, marker = tmp_path / "data", tmp_path / "in-flight"
    write_local_settings(
        tmp_path / "app",
        {
            "DATA_DIR": str(data_dir),
            "EVENTGRID_TOPIC_KEY": "key-from-local-settings",
            "FROM_FILE": "file",
            "ENV_WINS": "file",
            "DEVHOST_DISABLE_TIMERS": "1",
        },
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = cli(port, {MARKER: str(marker), "ENV_WINS": "env"})
    wait_healthy(base_url, process)

    seen = requests.get(base_url + "/api/settings", timeout=10).json()
    assert seen == {
        "EVENTGRID_TOPIC_ENDPOINT": f"{base_url}/devhost/eventgrid/api/events",
        "EVENTGRID_TOPIC_KEY": "key-from-local-settings",
        "FROM_FILE": "file",
        "ENV_WINS": "env",
    }
    client = EventGridPublisherClient(
        seen["EVENTGRID_TOPIC_ENDPOINT"], AzureKeyCredential("key-from-local-settings")
    )
    event = {"specversion": "1.0", "id": "evt-1", "source": "/t", "type": "document.uploaded"}
    client.send([event])
    wait_until(marker.exists, timeout=10)
    (delivery,) = requests.get(base_url + "/devhost/deliveries", timeout=10).json()
    assert (delivery["state"], delivery["attempts"]) == ("inflight", 1)

    process.send_signal(signal.SIGKILL)
    process.wait(10)
    banner = (tmp_path / "stdout.txt").read_text()
    assert f"settings: [GET] {base_url}/api/settings" in banner
    assert "process_document: eventGridTrigger" in banner

    host = DevHost(app, data_dir=data_dir, port=0, options=devhost_options, app_root=tmp_path)
    with host:
        wait_until(lambda: received == ["evt-1"], timeout=10)
        (delivery,) = requests.get(host.base_url + "/devhost/deliveries", timeout=10).json()
        assert (delivery["state"], delivery["attempts"]) == ("done", 2)
    received.clear()


def test_sigterm_stops_the_host_cleanly_and_frees_the_data_folder(
    cli: Any, tmp_path: Path, devhost_options: Any
) -> None:
    data_dir = tmp_path / "data"
    write_local_settings(tmp_path / "app", {"DATA_DIR": str(data_dir)})
    port = free_port()
    process = cli(port, {"DEVHOST_DISABLE_TIMERS": "1"})
    wait_healthy(f"http://127.0.0.1:{port}", process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    with DevHost(app, data_dir=data_dir, port=0, options=devhost_options, app_root=tmp_path):
        pass


def test_pending_retries_survive_a_restart(
    tmp_path: Path, devhost_options: Any, wait_until: Any
) -> None:
    options = replace(devhost_options, retry_base_seconds=1.5, retry_max_seconds=1.5)
    failures["left"] = 1
    try:
        with DevHost(
            app, data_dir=tmp_path / "data", port=0, options=options, app_root=tmp_path
        ) as host:
            EventGridPublisherClient(host.topic_endpoint, AzureKeyCredential(host.topic_key)).send(
                [{"specversion": "1.0", "id": "evt-2", "source": "/t", "type": "document.uploaded"}]
            )
            wait_until(lambda: received == ["evt-2"])
        with DevHost(
            app, data_dir=tmp_path / "data", port=0, options=options, app_root=tmp_path
        ) as again:
            wait_until(lambda: received == ["evt-2", "evt-2"], timeout=5)
            (delivery,) = requests.get(again.base_url + "/devhost/deliveries", timeout=10).json()
            assert (delivery["state"], delivery["attempts"]) == ("done", 2)
    finally:
        received.clear()
        failures["left"] = 0


def test_two_hosts_cannot_share_a_data_folder(tmp_path: Path, devhost_options: Any) -> None:
    with DevHost(app, data_dir=tmp_path / "data", port=0, options=devhost_options):
        second = DevHost(app, data_dir=tmp_path / "data", port=0, options=devhost_options)
        with pytest.raises(DataDirBusyError):
            second.start()
