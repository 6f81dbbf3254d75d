"""Run the Azurite storage emulator for tests.

Azurite comes from ``npm install`` in the project root (``make test`` runs
it); it listens on free loopback ports. A server can be stopped and started
again on the same ports, to test what the app does while storage is down.
With ``persistent=False`` (the default) Azurite keeps everything in memory
and a restart empties it; ``persistent=True`` keeps data on disk under
``location`` across restarts.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[1]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite"
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
HOST = "127.0.0.1"


class AzuriteMissingError(RuntimeError):
    """node_modules/.bin/azurite is not installed."""


class Azurite:
    """One Azurite process: blob, queue and table services on free loopback ports."""

    def __init__(self, location: Path, *, persistent: bool = False) -> None:
        self.location = location
        self.persistent = persistent
        self.blob_port, self.queue_port, self.table_port = free_ports(3)
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = location / "azurite.log"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://{HOST}:{self.blob_port}/{ACCOUNT};"
            f"QueueEndpoint=http://{HOST}:{self.queue_port}/{ACCOUNT};"
            f"TableEndpoint=http://{HOST}:{self.table_port}/{ACCOUNT}"
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Start Azurite and wait until all three services accept connections."""
        if self.running:
            return
        if not AZURITE.exists():
            raise AzuriteMissingError(
                f"{AZURITE} is missing: run `npm install` in {ROOT} (make test does)"
            )
        self.location.mkdir(parents=True, exist_ok=True)
        command = [
            str(AZURITE),
            "--blobHost", HOST, "--blobPort", str(self.blob_port),
            "--queueHost", HOST, "--queuePort", str(self.queue_port),
            "--tableHost", HOST, "--tablePort", str(self.table_port),
            "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent",
        ]  # fmt: skip
        # Azurite refuses --location together with --inMemoryPersistence.
        if self.persistent:
            command += ["--location", str(self.location / "data")]
        else:
            command.append("--inMemoryPersistence")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.location,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        for port in (self.blob_port, self.queue_port, self.table_port):
            while not _accepts(port):
                if self._process.poll() is not None:
                    raise RuntimeError(f"Azurite exited at start: {self._log_tail()}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"Azurite did not listen within {timeout}s")
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Azurite (gracefully, so disk persistence is flushed) and wait
        until its ports are free again."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        deadline = time.monotonic() + timeout
        while any(_accepts(port) for port in (self.blob_port, self.queue_port, self.table_port)):
            if time.monotonic() > deadline:
                raise RuntimeError("Azurite's ports are still taken after it stopped")
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback interface right now (held open together, so distinct)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0
