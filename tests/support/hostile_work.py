"""Stand-ins for parsers gone wrong, run inside isolation workers by the tests."""

from __future__ import annotations

import os
import pickle
import signal
import stat
import struct
import time
from pathlib import Path
from typing import Any

from processing.extraction.limits import Limits
from processing.extraction.options import AnalysisOptions
from processing.extraction.pipeline import run_pipeline


def misbehave(
    data: bytes, filename: str | None, *, limits: Limits, options: AnalysisOptions | None = None
) -> Any:
    """Behave like a parser bug chosen by the document's first line, else process it."""
    command = data.split(b"\n", 1)[0]
    if command == b"HANG":  # an infinite loop that never checks the deadline
        while True:
            time.sleep(0.01)
    if command == b"SPIN":  # burns CPU without end
        while True:
            pass
    if command == b"BALLOON":  # allocates without bound
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
    if command == b"CRASH":  # a segfault in a C extension
        os.kill(os.getpid(), signal.SIGSEGV)
    return run_pipeline(data, filename, limits=limits, options=options)


def compromised(
    data: bytes, filename: str | None, *, limits: Limits, options: AnalysisOptions | None = None
) -> Any:
    """A parser taken over by its document, doing what an attacker would.

    ``SNOOP``: look for secrets (its environment, every readable
    ``/proc/*/environ``, the host's by the pid in the file name) and try to
    fork, then report what it found as the document's text. ``PICKLE``: answer
    the host with a pickle whose loading would create the file named by the
    file name. Anything else: behave like :func:`misbehave`.
    """
    command = data.split(b"\n", 1)[0]
    if command == b"SNOOP":
        return run_pipeline(_snoop(filename).encode(), "report.txt", limits=limits, options=options)
    if command == b"PICKLE":
        _answer_with_pickle(str(filename))
    return misbehave(data, filename, limits=limits, options=options)


def _snoop(host_pid: str | None) -> str:
    lines = [
        f"pid {os.getpid()}",
        "environment " + " ".join(f"{k}={v}" for k, v in os.environ.items()),
    ]
    candidates = [Path(f"/proc/{host_pid}/environ"), *Path("/proc").glob("[0-9]*/environ")]
    for path in candidates:
        try:
            lines.append(f"read {path} {path.read_bytes().decode('latin-1')}")
        except OSError as exc:
            lines.append(f"refused {path} {exc.errno}")
    try:
        child = os.fork()
    except OSError:
        lines.append("fork blocked")
    else:
        if child == 0:
            time.sleep(30)
            os._exit(0)
        lines.append(f"fork allowed {child}")
    return "\n".join(lines) + "\n"


class _Exploit:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def _answer_with_pickle(marker: str) -> None:
    payload = pickle.dumps(_Exploit(marker))
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, struct.pack(">Q", len(payload)) + payload)
        except OSError:
            continue
    os._exit(0)
