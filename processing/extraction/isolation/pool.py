"""The host side of isolated parsing: one warm zygote, one forked worker per document.

:class:`IsolatedPipeline` is callable like the in-process pipeline. For each
document it asks the zygote (:mod:`~.zygote`) for a fresh confined worker,
sends the bytes over a socket pair, and waits for a JSON reply within the
document's time limit plus a little slack. A worker that runs out of time is
killed with its whole process group; one that dies is reported by the
zygote's exit status (CPU limit: ``timeout``; anything else:
``limits_exceeded``); a reply that is not a well-formed result is refused
(``corrupt``) and never interpreted as anything but data.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from processing.extraction.errors import (
    DOCUMENT_ERROR_CODES,
    CorruptDocumentError,
    DocumentError,
    LimitsExceededError,
    ProcessingTimeoutError,
    WorkerUnavailableError,
    document_error_from_code,
)
from processing.extraction.isolation import wire
from processing.extraction.limits import IsolationLimits, Limits
from processing.extraction.options import AnalysisOptions
from processing.extraction.result import InvalidResultError, ProcessingResult, result_from_dict

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[3]
# A new zygote's imports may take a while on a cold, busy instance.
_STARTUP_SECONDS = 60.0
# Slack over the document's own timeout for the transfer both ways.
_TRANSFER_SECONDS = 2.0
#: What a reply may hold beyond the text itself (structure, entities, summary).
_RESULT_OVERHEAD_BYTES = 64 * 1024 * 1024


def worker_environment() -> dict[str, str]:
    """The whole environment of the zygote and its workers: an allow-list.

    Nothing of the host's environment passes except where Python finds its
    packages (the Functions worker puts them on ``sys.path`` at run time, so
    they are handed down explicitly): no identity endpoint or header, no
    storage or topic settings, no keys.
    """
    return {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Numeric libraries must not start thread pools in a process that forks.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


class IsolatedPipeline:
    """The pipeline in confined, single-use worker processes.

    Callable like :data:`processing.processor.Extract`; thread-safe (the
    Functions host runs several invocations per process), at most
    ``limits.workers`` documents at once.
    """

    def __init__(
        self, limits: IsolationLimits | None = None, options: AnalysisOptions | None = None
    ) -> None:
        self._limits = limits or IsolationLimits()
        self._options = options or AnalysisOptions()
        self._slots = threading.BoundedSemaphore(self._limits.workers)
        self._lock = threading.Lock()
        self._zygote: _Zygote | None = None
        self._closed = False
        #: What confined the last worker (rlimits, nobody, no_new_privs, landlock, seccomp).
        self.protections: tuple[str, ...] = ()

    def __call__(self, data: bytes, filename: str | None, limits: Limits) -> ProcessingResult:
        with self._slots:
            host, child = socket.socketpair()
            try:
                pid = self._spawn(child)
            finally:
                child.close()
            try:
                return self._exchange(host, pid, data, filename, limits)
            finally:
                host.close()

    def warm(self) -> None:
        """Start the zygote now rather than on the first document."""
        with self._lock:
            self._running_zygote()

    def zygote_pid(self) -> int | None:
        """The zygote's process id (for diagnostics and tests)."""
        with self._lock:
            return self._zygote.pid if self._zygote and self._zygote.alive else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._zygote is not None:
                self._zygote.stop()
                self._zygote = None

    def _spawn(self, child: socket.socket) -> int:
        with self._lock:
            for attempt in (1, 2):
                zygote = self._running_zygote()
                try:
                    return zygote.spawn(child)
                except (OSError, wire.WireError, ValueError):
                    log.warning("sandbox.zygote_lost", extra={"attempt": attempt})
                    zygote.stop()
                    self._zygote = None
            raise WorkerUnavailableError("a document worker process could not be started")

    def _status(self, pid: int) -> dict[str, Any]:
        with self._lock:
            if self._zygote is None:
                return {}
            try:
                return self._zygote.status(pid)
            except (OSError, wire.WireError, ValueError):
                return {}

    def _running_zygote(self) -> _Zygote:
        if self._closed:
            raise WorkerUnavailableError("the isolated pipeline is closed")
        if self._zygote is None or not self._zygote.alive:
            self._zygote = _Zygote.start(self._limits, self._options)
        return self._zygote

    def _exchange(
        self, host: socket.socket, pid: int, data: bytes, filename: str | None, limits: Limits
    ) -> ProcessingResult:
        cpu_seconds = min(self._limits.cpu_seconds, max(1, int(limits.timeout_seconds) + 1))
        deadline = time.monotonic() + limits.timeout_seconds + _TRANSFER_SECONDS
        header = {
            "filename": filename,
            "size": len(data),
            "cpu_seconds": cpu_seconds,
            "limits": dataclasses.asdict(limits),
        }
        try:
            wire.send_json(host, header, deadline)
            wire.send_frame(host, data, deadline)
            reply = wire.recv_json(host, deadline)
            if not isinstance(reply, dict):
                raise CorruptDocumentError("the document's worker sent an invalid reply")
            self._note_protections(reply.get("protections"))
            if reply.get("ok") is not True:
                raise _document_error(reply)
            limit = 4 * limits.max_text_chars + _RESULT_OVERHEAD_BYTES
            return _parse_result(wire.recv_frame(host, limit, deadline))
        except wire.ProtocolError:
            raise CorruptDocumentError("the document's worker sent an invalid reply") from None
        except wire.Timeout:
            raise ProcessingTimeoutError(
                f"processing took longer than the {limits.timeout_seconds:g} s limit"
            ) from None
        except wire.WireError:
            _kill_group(pid)
            raise self._death(pid) from None
        finally:
            # Done, failed or timed out, the worker and anything it started end
            # here, and the zygote reaps it before the next document.
            _kill_group(pid)
            self._status(pid)

    def _note_protections(self, reported: Any) -> None:
        """Log, once, which confinement the platform allowed (from a worker's reply)."""
        if not isinstance(reported, list) or not all(isinstance(p, str) for p in reported):
            return
        applied = tuple(reported)
        if applied == self.protections:
            return
        self.protections = applied
        missing = sorted({"landlock", "seccomp", "no_new_privs"} - set(applied))
        level = logging.WARNING if missing else logging.INFO
        log.log(level, "sandbox.protections", extra={"applied": list(applied), "missing": missing})

    def _death(self, pid: int) -> DocumentError:
        status = self._status(pid)
        signum, code = status.get("signal"), status.get("exit")
        log.warning("sandbox.worker_died", extra={"exit_code": code, "signal": signum})
        if signum in (signal.SIGXCPU, signal.SIGKILL) and code is None:
            return ProcessingTimeoutError("processing used more CPU time than allowed")
        if code == wire.CONFINE_FAILED:
            return LimitsExceededError("the document's worker could not be confined")
        return LimitsExceededError("processing the document exhausted the worker's resources")


def _parse_result(body: bytes) -> ProcessingResult:
    try:
        return result_from_dict(json.loads(body))
    except (ValueError, InvalidResultError):
        raise CorruptDocumentError("the document's worker sent an invalid result") from None


def _document_error(reply: dict[str, Any]) -> DocumentError:
    code, message = reply.get("code"), reply.get("message")
    if code not in DOCUMENT_ERROR_CODES or not isinstance(message, str):
        return CorruptDocumentError("the document's worker sent an invalid reply")
    return document_error_from_code(str(code), message[:1000])


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except OSError:
            continue


class _Zygote:
    def __init__(self, process: subprocess.Popen[bytes], control: socket.socket) -> None:
        self._process = process
        self._control = control

    @classmethod
    def start(cls, limits: IsolationLimits, options: AnalysisOptions) -> _Zygote:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "processing.extraction.isolation.zygote",
                    str(theirs.fileno()),
                    limits.target,
                    str(limits.memory_bytes),
                    json.dumps(dataclasses.asdict(options)),
                ],
                pass_fds=(theirs.fileno(),),
                cwd=_ROOT,
                env=worker_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            theirs.close()
        zygote = cls(process, ours)
        ours.settimeout(_STARTUP_SECONDS)
        try:
            ready = json.loads(ours.recv(wire.MAX_HEADER_BYTES) or b"null")
        except (OSError, ValueError):
            ready = None
        if ready != {"ready": True}:
            zygote.stop()
            raise WorkerUnavailableError("the document worker server could not be started")
        ours.settimeout(wire.STATUS_WAIT_SECONDS + 5.0)
        return zygote

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def spawn(self, child: socket.socket) -> int:
        socket.send_fds(self._control, [json.dumps({"op": "spawn"}).encode()], [child.fileno()])
        reply = json.loads(self._control.recv(wire.MAX_HEADER_BYTES) or b"null")
        if not isinstance(reply, dict) or not isinstance(reply.get("pid"), int):
            # EOF (null): the zygote died after alive last said otherwise.
            raise ValueError("the document worker server did not start a worker")
        return int(reply["pid"])

    def status(self, pid: int) -> dict[str, Any]:
        self._control.sendall(json.dumps({"op": "status", "pid": pid}).encode())
        reply: dict[str, Any] = json.loads(self._control.recv(wire.MAX_HEADER_BYTES) or b"{}")
        return reply

    def stop(self) -> None:
        self._control.close()  # the zygote kills its workers and exits on EOF
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=5)
