"""Parsing untrusted bytes in warm, resource-limited worker processes.

PDF and ZIP/XML parsers have a long record of hangs and memory blow-ups on
crafted input that no size cap prevents. Each document therefore runs in a
worker process with an address-space limit (``RLIMIT_AS``), a CPU-time limit
(``RLIMIT_CPU``, re-armed per document) and a wall-clock timeout. A worker
that hangs, dies or exceeds a limit is killed and replaced; that document
fails with ``timeout`` or ``limits_exceeded``, and the host process and the
other workers carry on.

Workers are fresh interpreters (``python -m processing.extraction.isolation``) that
import the parsers once and are reused across documents, so isolation costs a
pipe round trip per document rather than a process start. They are plain
subprocesses, not ``multiprocessing`` children, so they never re-import the
host's main module and work the same under the Functions worker, the local
host and pytest.
"""

from __future__ import annotations

import logging
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from processing.extraction.errors import (
    DocumentError,
    LimitsExceededError,
    ProcessingTimeoutError,
    WorkerUnavailableError,
    document_error_from_code,
)
from processing.extraction.limits import IsolationLimits, Limits
from processing.extraction.options import AnalysisOptions
from processing.extraction.result import ProcessingResult

log = logging.getLogger(__name__)

# Imported by each worker before it takes work, so the first document is fast.
_PRELOAD = (
    "processing.extraction.pipeline",
    "pypdfium2",
    "pypdf",
    "lxml.etree",
    "phonenumbers",
)
_ROOT = Path(__file__).resolve().parents[2]
READY = ("ready", None, None)
# A new worker's imports may take a while on a cold, busy instance.
_STARTUP_SECONDS = 60.0
# Slack over the document's own timeout for pickling and the pipe.
_TRANSFER_SECONDS = 2.0


class IsolatedPipeline:
    """``run_pipeline`` in a pool of limited worker processes.

    Callable like :data:`processing.processor.Extract`; thread-safe (the Functions
    host runs several invocations per process).
    """

    def __init__(
        self, limits: IsolationLimits | None = None, options: AnalysisOptions | None = None
    ) -> None:
        self._limits = limits or IsolationLimits()
        self._options = options or AnalysisOptions()
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self._limits.workers)
        self._closed = False

    def __call__(self, data: bytes, filename: str | None, limits: Limits) -> ProcessingResult:
        with self._slots:
            worker = self._checkout()
            healthy = False
            try:
                result = worker.run(data, filename, limits, self._limits, self._options)
                healthy = worker.documents < self._limits.max_documents_per_worker
                return result
            except DocumentError:
                healthy = worker.alive
                raise
            finally:
                if healthy and not self._closed:
                    self._idle.put(worker)
                else:
                    worker.stop()

    def worker_ids(self) -> set[int]:
        """Process ids of the idle workers (for diagnostics and tests)."""
        with self._idle.mutex:
            return {worker.pid for worker in self._idle.queue}

    def warm(self) -> None:
        """Start every worker now rather than on first use (e.g. at host start-up)."""
        started = [
            _Worker.start(self._limits) for _ in range(self._limits.workers - self._idle.qsize())
        ]
        for worker in started:
            self._idle.put(worker)

    def close(self) -> None:
        """Stop every idle worker (busy ones stop when their document ends)."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return

    def _checkout(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return _Worker.start(self._limits)


class _Worker:
    def __init__(self, process: subprocess.Popen[bytes], requests: Connection, replies: Connection):
        self._process = process
        self._requests = requests
        self._replies = replies
        self.documents = 0

    @classmethod
    def start(cls, limits: IsolationLimits) -> _Worker:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "processing.extraction.isolation",
                str(request_read),
                str(reply_write),
                str(limits.memory_bytes),
                limits.target,
            ],
            pass_fds=(request_read, reply_write),
            cwd=_ROOT,
            # The Functions worker puts the app's packages (.python_packages) on
            # sys.path at run time, not in the environment: hand them down.
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        os.close(request_read)
        os.close(reply_write)
        worker = cls(
            process,
            Connection(request_write, readable=False),
            Connection(reply_read, writable=False),
        )
        worker.wait_ready()
        return worker

    def wait_ready(self) -> None:
        """Wait for the worker's imports; a worker that cannot start is a dependency failure."""
        try:
            if self._replies.poll(_STARTUP_SECONDS) and self._replies.recv() == READY:
                return
        except (EOFError, OSError):
            pass
        self.stop()
        raise WorkerUnavailableError("a document worker process could not be started")

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def run(
        self,
        data: bytes,
        filename: str | None,
        limits: Limits,
        isolation: IsolationLimits,
        options: AnalysisOptions,
    ) -> ProcessingResult:
        self.documents += 1
        cpu_seconds = min(isolation.cpu_seconds, max(1, int(limits.timeout_seconds) + 1))
        try:
            self._requests.send((data, filename, limits, options, cpu_seconds))
            if not self._replies.poll(limits.timeout_seconds + _TRANSFER_SECONDS):
                self.stop()
                raise ProcessingTimeoutError(
                    f"processing took longer than the {limits.timeout_seconds:g} s limit"
                )
            reply: tuple[str, Any, Any] = self._replies.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise self._death() from None
        kind, first, second = reply
        if kind == "ok":
            result: ProcessingResult = first
            return result
        raise document_error_from_code(first, second)

    def _death(self) -> DocumentError:
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.stop()
            code = self._process.returncode
        log.warning("worker.died", extra={"exit_code": code})
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            return ProcessingTimeoutError("processing used more CPU time than allowed")
        return LimitsExceededError("processing the document exhausted the worker's resources")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=5)
        self._requests.close()
        self._replies.close()


def _serve(requests: Connection, replies: Connection, memory_bytes: int, target: str) -> None:
    """The worker loop: imports and limits once, then one document per message."""
    import importlib

    for module in _PRELOAD:
        importlib.import_module(module)
    # The language model is decompressed once here, not on the first document.
    importlib.import_module("processing.extraction.analysis.language").load_model()
    module_name, _, function_name = target.partition(":")
    run = getattr(importlib.import_module(module_name), function_name)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    replies.send(READY)
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            data, filename, limits, options, cpu_seconds = requests.recv()
        except EOFError:
            return
        # RLIMIT_CPU counts the process's whole life: re-arm it for this document.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime) + 1 + cpu_seconds
        if cpu_hard != resource.RLIM_INFINITY:
            soft = min(soft, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
        try:
            reply: tuple[str, Any, Any] = (
                "ok",
                run(data, filename, limits=limits, options=options),
                None,
            )
        except DocumentError as exc:
            reply = ("error", exc.code, exc.message)
        replies.send(reply)


if __name__ == "__main__":
    _serve(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        int(sys.argv[3]),
        sys.argv[4],
    )
