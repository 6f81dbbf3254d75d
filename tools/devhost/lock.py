"""One host per data folder: its delivery queue assumes no other consumer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


class DataDirBusyError(RuntimeError):
    """Another dev host holds the data folder."""


class DataDirLock:
    """An exclusive advisory lock (``flock``) on a file; the OS drops it when
    the process dies, so a killed host never leaves a stale lock."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self._file = self._path.open("a+", encoding="utf-8")
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; trust the user
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            self._file = None
            raise DataDirBusyError(
                f"another dev host is using {self._path.parent} (lock {self._path.name})"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None
