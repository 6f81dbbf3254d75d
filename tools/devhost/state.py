"""The host's durable state in one SQLite file (WAL): the event log, the
delivery queue (one row per subscription and event) and the blob watcher's
record of which blob versions it already announced."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PENDING = "pending"
INFLIGHT = "inflight"
DONE = "done"
DEAD_LETTERED = "deadlettered"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    source TEXT NOT NULL,          -- 'topic' or 'storage'
    body TEXT NOT NULL,            -- the event's JSON, as delivered
    published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    subscription TEXT NOT NULL,
    event_seq INTEGER NOT NULL REFERENCES events(seq),
    function TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    last_error TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (subscription, event_seq)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, due_at);
CREATE TABLE IF NOT EXISTS blobs_seen (
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (container, name)
);
"""


@dataclass(frozen=True, slots=True)
class NewEvent:
    id: str
    type: str
    source: str
    body: str
    targets: Sequence[tuple[str, str]]  # (subscription, function)


@dataclass(frozen=True, slots=True)
class Claim:
    subscription: str
    event_seq: int
    function: str
    attempts: int  # including this one
    body: str
    event_id: str
    published_at: float


@dataclass(frozen=True, slots=True)
class BlobMark:
    container: str
    name: str
    etag: str


class StateStore:
    """Thread-safe: one connection, one lock (the host's write rate is tiny)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across a killed process (only power loss can lose the tail).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def append_events(
        self, events: Sequence[NewEvent], *, blob_mark: BlobMark | None = None
    ) -> list[int]:
        """Log ``events`` and queue their deliveries in one transaction."""
        now = time.time()
        sequence: list[int] = []
        with self._transaction() as db:
            for event in events:
                cursor = db.execute(
                    "INSERT INTO events (id, type, source, body, published_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (event.id, event.type, event.source, event.body, now),
                )
                seq = int(cursor.lastrowid or 0)
                sequence.append(seq)
                db.executemany(
                    "INSERT INTO deliveries (subscription, event_seq, function, state,"
                    " attempts, due_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
                    [(sub, seq, fn, PENDING, now, now) for sub, fn in event.targets],
                )
            if blob_mark is not None:
                db.execute(
                    "INSERT INTO blobs_seen (container, name, etag) VALUES (?, ?, ?)"
                    " ON CONFLICT (container, name) DO UPDATE SET etag = excluded.etag",
                    (blob_mark.container, blob_mark.name, blob_mark.etag),
                )
        return sequence

    def list_events(self, event_type: str | None = None) -> list[Any]:
        query = "SELECT body FROM events"
        params: tuple[str, ...] = ()
        if event_type is not None:
            query += " WHERE type = ?"
            params = (event_type,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", params).fetchall()
        return [json.loads(body) for (body,) in rows]

    def requeue_inflight(self) -> int:
        """Deliveries a previous (killed) host had in flight go back to pending."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE deliveries SET state = ?, updated_at = ? WHERE state = ?",
                (PENDING, time.time(), INFLIGHT),
            )
            return cursor.rowcount

    def claim_delivery(self, now: float) -> Claim | None:
        """Take the oldest due pending delivery, counting the attempt now."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT d.subscription, d.event_seq, d.function, d.attempts, e.body, e.id,"
                " e.published_at FROM deliveries d JOIN events e ON e.seq = d.event_seq"
                " WHERE d.state = ? AND d.due_at <= ? ORDER BY d.due_at, d.event_seq LIMIT 1",
                (PENDING, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE subscription = ? AND event_seq = ?",
                (INFLIGHT, now, row[0], row[1]),
            )
        return Claim(row[0], row[1], row[2], row[3] + 1, row[4], row[5], row[6])

    def next_due_at(self) -> float | None:
        with self._lock:
            (due,) = self._db.execute(
                "SELECT MIN(due_at) FROM deliveries WHERE state = ?", (PENDING,)
            ).fetchone()
        return None if due is None else float(due)

    def finish_delivery(
        self, claim: Claim, state: str, *, error: str | None = None, due_at: float | None = None
    ) -> None:
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "UPDATE deliveries SET state = ?, last_error = COALESCE(?, last_error),"
                " due_at = COALESCE(?, due_at), updated_at = ?"
                " WHERE subscription = ? AND event_seq = ?",
                (state, error, due_at, now, claim.subscription, claim.event_seq),
            )

    def list_deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT d.subscription, d.function, e.id, e.type, d.state, d.attempts,"
                " d.due_at, d.last_error FROM deliveries d JOIN events e ON e.seq = d.event_seq"
                " ORDER BY d.event_seq, d.subscription"
            ).fetchall()
        return [
            {
                "subscription": r[0],
                "function": r[1],
                "eventId": r[2],
                "eventType": r[3],
                "state": r[4],
                "attempts": r[5],
                "nextAttemptAt": r[6] if r[4] == PENDING else None,
                "lastError": r[7],
            }
            for r in rows
        ]

    def seen_blobs(self, container: str) -> dict[str, str]:
        """Blob name -> ETag of the version last announced."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, etag FROM blobs_seen WHERE container = ?", (container,)
            ).fetchall()
        return {name: etag for name, etag in rows}

    def forget_blobs(self, container: str, names: Sequence[str]) -> None:
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM blobs_seen WHERE container = ? AND name = ?",
                [(container, name) for name in names],
            )
