"""The real app under ``python -m tools.devhost`` in a subprocess, as ``make run`` starts it.

A subprocess (not an in-process host) so each test gets fresh settings, and so
a test can kill it with SIGKILL and start it again on the same data.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOPIC_KEY = "e2e-topic-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sample_settings() -> dict[str, str]:
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    return {k: str(v) for k, v in values.items()}


class AppHost:
    def __init__(
        self,
        data_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        app: str = "function_app:app",
    ) -> None:
        self.data_dir = data_dir
        self.app = app
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **sample_settings(),
            "DATA_DIR": str(data_dir),
            "EVENTGRID_TOPIC_KEY": TOPIC_KEY,
            "DEVHOST_DISABLE_TIMERS": "1",
            "DEVHOST_RETRY_BASE_SECONDS": "0.2",
            "DEVHOST_RETRY_MAX_SECONDS": "1",
            "DEVHOST_BLOB_POLL_SECONDS": "0.2",
            "DEVHOST_QUEUE_POLL_SECONDS": "0.2",
            **(env or {}),
        }
        self.log_path = data_dir.parent / f"apphost-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> AppHost:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tools.devhost", "--port", str(self.port), "--app", self.app],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self._alive() and self.try_get("/api/health") is not None, timeout)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, like a crashed worker."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _alive(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise RuntimeError(f"the host exited early:\n{self.log()[-4000:]}")
        return True

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers with lower-case names, body)``."""
        req = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read()

    def get_json(self, path: str) -> Any:
        status, _, body = self.request("GET", path)
        assert status == 200, (status, body[:500])
        return json.loads(body)

    def try_get(self, path: str) -> Any | None:
        try:
            return self.get_json(path)
        except (OSError, AssertionError):
            return None

    def upload(self, data: bytes, filename: str) -> dict[str, Any]:
        status, headers, body = self.request(
            "POST",
            f"/api/documents?filename={filename}",
            body=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert status == 202, (status, body[:500])
        record: dict[str, Any] = json.loads(body)
        assert headers["location"] == f"/api/documents/{record['id']}"
        return record

    def wait_for_status(
        self, document_id: str, statuses: set[str], timeout: float = 60.0
    ) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            record = self.try_get(f"/api/documents/{document_id}")
            return record if record and record["status"] in statuses else None

        record: dict[str, Any] = wait_for(
            reached, timeout, what=f"document {document_id} in {statuses}", host=self
        )
        return record

    def wait_for_blob_polls(self, count: int = 3, timeout: float = 20.0) -> None:
        """Until the inbox watcher has listed the container ``count`` more times."""
        start = self.get_json("/devhost/health")["blob_polls"]
        wait_for(
            lambda: self.get_json("/devhost/health")["blob_polls"] >= start + count,
            timeout,
            what=f"{count} more inbox polls",
            host=self,
        )

    def wait_for_quiet_deliveries(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Until every event delivery the host queued is done or dead-lettered:
        nothing still in flight can add an outcome after this returns."""

        def settled() -> list[dict[str, Any]] | None:
            deliveries: list[dict[str, Any]] = self.get_json("/devhost/deliveries")
            finished = all(d["state"] in {"done", "deadlettered"} for d in deliveries)
            return deliveries if finished else None

        found: list[dict[str, Any]] = wait_for(settled, timeout, what="quiet deliveries", host=self)
        return found

    def wait_for_index(self, document_id: str, timeout: float = 30.0) -> None:
        """Until search reports the document ``indexed``."""
        path = f"/api/search/documents/{document_id}"
        wait_for(
            lambda: (self.try_get(path) or {}).get("index_status") == "indexed",
            timeout,
            what=f"document {document_id} indexed",
            host=self,
        )

    def events(self, event_type: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.get_json(f"/devhost/events?type={event_type}")
        return events


def _lower(headers: Any) -> dict[str, str]:
    """Header names lower-cased: HTTP names are case-insensitive."""
    return {name.lower(): value for name, value in headers.items()}


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    *,
    what: str = "condition",
    host: AppHost | None = None,
    interval: float = 0.1,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            tail = host.log()[-4000:] if host else ""
            raise AssertionError(f"{what} not reached within {timeout} s\n{tail}")
        time.sleep(interval)
