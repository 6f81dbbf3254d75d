"""The fork server: a clean, warm process that forks one confined worker per document.

Started by the pool (``python -m processing.extraction.isolation.zygote``)
with a minimal environment and only its control socket open. It imports the
parsers once and never touches a document itself; for each document the pool
hands it one end of a fresh socket pair, and it forks a child that confines
itself (:mod:`~processing.extraction.isolation.confine`), reads the request,
runs the pipeline, writes the reply as JSON and exits. So every document
gets a process no other document ran in, at the cost of a fork.

Control protocol (one JSON object per message on a SOCK_SEQPACKET socket):
``{"op": "spawn"}`` with the child's socket attached (SCM_RIGHTS) →
``{"pid": N}``; ``{"op": "status", "pid": N}`` → ``{"pid": N, "exit": c,
"signal": s}`` once that child has ended (waiting a few seconds at most).
The zygote reaps every child and removes its temporary folder; when the
pool's end of the control socket closes, it kills what is left and exits.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processing.extraction.errors import DocumentError
from processing.extraction.isolation import wire
from processing.extraction.isolation.confine import NOBODY, confine, readable_roots
from processing.extraction.limits import Limits
from processing.extraction.options import AnalysisOptions

# Imported before any document, so a fork starts warm.
_PRELOAD = (
    "processing.extraction.pipeline",
    "pypdfium2",
    "pypdf",
    "lxml.etree",
    "phonenumbers",
    "charset_normalizer",
    "lxml.html",
    "trafilatura",
)
#: Above any descriptor the zygote holds: children close everything but their socket.
MAX_FD = 65536


class Zygote:
    def __init__(
        self,
        control: socket.socket,
        target: str,
        memory_bytes: int,
        options: AnalysisOptions,
    ) -> None:
        self._control = control
        self._memory_bytes = memory_bytes
        self._options = options
        self._children: dict[int, Path] = {}
        self._ended: dict[int, tuple[int | None, int | None]] = {}
        self._base = Path(tempfile.mkdtemp(prefix="docflow-sandbox-"))
        self._readable = readable_roots()
        for module in _PRELOAD:
            importlib.import_module(module)
        _preload_models(options)
        module_name, _, function_name = target.partition(":")
        self._run: Callable[..., Any] = getattr(importlib.import_module(module_name), function_name)

    def serve(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool decides when this ends
        try:
            while True:
                try:
                    message, fds, _, _ = socket.recv_fds(self._control, wire.MAX_HEADER_BYTES, 1)
                except OSError:
                    return
                if not message:
                    return
                request = json.loads(message)
                self._reap()
                if request.get("op") == "spawn" and len(fds) == 1:
                    reply: dict[str, Any] = {"pid": self._spawn(fds[0])}
                else:
                    for fd in fds:
                        os.close(fd)
                    reply = self._status(int(request.get("pid", 0)))
                self._control.sendall(json.dumps(reply).encode())
        finally:
            for pid in list(self._children):
                _kill_group(pid)
            self._reap(wait=True)
            shutil.rmtree(self._base, ignore_errors=True)

    def _spawn(self, fd: int) -> int:
        workdir = Path(tempfile.mkdtemp(dir=self._base))
        if os.geteuid() == 0:
            os.chown(workdir, NOBODY, NOBODY)
        if threading.active_count() != 1:  # forking a threaded process is unsafe
            raise RuntimeError("the zygote must stay single-threaded")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            _child(
                fd,
                _Confinement(workdir, self._memory_bytes, self._readable, self._options),
                self._run,
            )
        # Set it here too: whichever of parent and child runs first, the group
        # exists before the pool can try to kill it (the child may have set it,
        # or exited, already).
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        os.close(fd)
        self._children[pid] = workdir
        return pid

    def _status(self, pid: int) -> dict[str, Any]:
        """How ``pid`` ended. The pool asks only after it killed the worker (or
        saw it go), so waiting for that one child is short; a few seconds at most."""
        deadline = time.monotonic() + wire.STATUS_WAIT_SECONDS
        while pid in self._children:
            try:
                ended, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if ended:
                self._ended[pid] = _exit_status(status)
                shutil.rmtree(self._children.pop(pid), ignore_errors=True)
            elif time.monotonic() > deadline:
                break
            else:
                time.sleep(0.001)
        code, signum = self._ended.pop(pid, (None, None))
        return {"pid": pid, "exit": code, "signal": signum}

    def _reap(self, *, wait: bool = False) -> None:
        while self._children:
            try:
                pid, status = os.waitpid(-1, 0 if wait else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            workdir = self._children.pop(pid, None)
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
            self._ended[pid] = _exit_status(status)
            while len(self._ended) > 1024:  # statuses nobody asked for
                self._ended.pop(next(iter(self._ended)))


@dataclass(frozen=True, slots=True)
class _Confinement:
    """What a child needs from the zygote to confine itself."""

    workdir: Path
    memory_bytes: int
    readable: list[Path]
    options: AnalysisOptions


def _child(fd: int, confinement: _Confinement, run: Callable[..., Any]) -> None:
    """One document, then exit: nothing here returns to the zygote's loop."""
    code = 0
    try:
        os.setpgid(0, 0)
        os.closerange(3, fd)  # the control socket and anything else inherited
        os.closerange(fd + 1, MAX_FD)
        workdir = confinement.workdir
        os.chdir(workdir)
        tempfile.tempdir = str(workdir)
        os.environ["TMPDIR"] = os.environ["HOME"] = str(workdir)
        sock = socket.socket(fileno=fd)
        header = wire.recv_json(sock, time.monotonic() + 30.0)
        try:
            protections = confine(
                memory_bytes=confinement.memory_bytes,
                cpu_seconds=int(header["cpu_seconds"]),
                workdir=workdir,
                readable=confinement.readable,
            )
        except Exception:
            os._exit(wire.CONFINE_FAILED)
        data = wire.recv_frame(sock, int(header["size"]), time.monotonic() + 30.0)
        limits = Limits(**header["limits"])
        try:
            result = run(data, header.get("filename"), limits=limits, options=confinement.options)
            body = json.dumps(result.to_dict(), ensure_ascii=False).encode()
            reply: dict[str, Any] = {"ok": True, "size": len(body)}
        except DocumentError as exc:
            body = b""
            reply = {"ok": False, "code": exc.code, "message": exc.message}
        reply["protections"] = protections
        deadline = time.monotonic() + 30.0
        wire.send_json(sock, reply, deadline)
        if body:
            wire.send_frame(sock, body, deadline)
        sock.close()
    except BaseException:
        # Nothing is printed: a worker's failure is its document's, reported by
        # the pool from the exit status; stderr belongs to the host.
        code = 1
    finally:
        os._exit(code)


def _exit_status(status: int) -> tuple[int | None, int | None]:
    """``(exit code, signal)`` of a wait status; one of them is None."""
    signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    return code, signum


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _preload_models(options: AnalysisOptions) -> None:
    """Load the models the pipeline will use before any fork, so each child starts
    with them in memory and never needs to read them (which its confinement may
    forbid, for a spaCy pipeline outside the Python tree). A spaCy pipeline that
    cannot load is left for the pipeline to report as a warning on each result."""
    if options.detect_language:
        from processing.extraction.analysis.language import load_model

        load_model()
    if options.spacy_model:
        from processing.extraction.analysis.spacy_ner import SpacyUnavailableError, load_pipeline

        with contextlib.suppress(SpacyUnavailableError):
            load_pipeline(options.spacy_model)


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[1]))
    options = AnalysisOptions(**json.loads(argv[4]))
    zygote = Zygote(control, target=argv[2], memory_bytes=int(argv[3]), options=options)
    control.sendall(b'{"ready": true}')
    zygote.serve()


if __name__ == "__main__":
    main(sys.argv)
