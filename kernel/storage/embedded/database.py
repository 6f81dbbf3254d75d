"""The embedded store's SQLite file: one connection per process, write
transactions that hold the write lock from their start, WAL mode.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kernel.errors import DependencyError

DATABASE_NAME = "store.sqlite3"
# Long enough to ride out another process's write burst, short enough that a
# wedged process shows up as an error rather than a hang.
BUSY_TIMEOUT_SECONDS = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS blob_index (
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    etag TEXT NOT NULL,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_type TEXT,
    metadata TEXT NOT NULL,
    PRIMARY KEY (container, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entities (
    tbl TEXT NOT NULL,
    pk TEXT NOT NULL,
    rk TEXT NOT NULL,
    etag TEXT NOT NULL,
    props TEXT NOT NULL,
    PRIMARY KEY (tbl, pk, rk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,
    visible_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    pop_receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue, visible_at);
"""


def new_etag() -> str:
    """A fresh opaque ETag, quoted like Azure's."""
    return f'"{uuid.uuid4().hex}"'


class Database:
    """One SQLite connection per store and process, shared by its threads under a lock.

    A lock rather than a connection per thread: the store is for development,
    where simplicity beats concurrent reads, and one connection can be closed.
    """

    def __init__(self, path: Path, *, schema: str = SCHEMA) -> None:
        self._path = path
        #: Run (idempotently) on every new connection: the store's tables by
        #: default; another database file (the search index) brings its own.
        self._schema = schema
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def _connect(self) -> sqlite3.Connection:
        # A connection must not cross a fork; a child opens its own.
        if self._connection is None or self._pid != os.getpid():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self._path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                _use_wal(connection)
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.executescript(self._schema)
            except BaseException:
                connection.close()
                raise
            self._connection = connection
            self._pid = os.getpid()
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, holding the database's write lock from the start."""
        with self._lock, sqlite_errors():
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.commit()
            except BaseException:
                # Also after a failed COMMIT, which leaves the transaction open.
                if connection.in_transaction:
                    connection.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads; each statement sees a consistent snapshot."""
        with self._lock, sqlite_errors():
            yield self._connect()

    def ping(self) -> None:
        """Answer a trivial query: the file opens and reads (readiness)."""
        with self.reading() as connection:
            connection.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch a new database to WAL; the mode persists in the file.

    Switching needs an exclusive lock and SQLite does not wait on its busy
    timeout for it, so two processes opening a fresh store at once (the local
    host and a test, say) would see "database is locked": retry until the
    busy timeout, and skip the switch once the file is already in WAL mode.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def sqlite_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        # Locked or busy beyond the timeout, disk full, I/O error: all
        # conditions another attempt may not meet.
        raise DependencyError(f"embedded store: {exc}") from exc
