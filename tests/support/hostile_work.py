"""Stand-ins for parsers gone wrong, run inside isolation workers by the tests."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from processing.extraction.limits import Limits
from processing.extraction.pipeline import run_pipeline


def misbehave(data: bytes, filename: str | None, *, limits: Limits, options: Any = None) -> Any:
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
