"""The embedded search engine: SQLite FTS5 for text, exact cosine k-NN for vectors.

One SQLite file (``DATA_DIR/search.sqlite3``, WAL mode, through the kernel's
:class:`~kernel.storage.embedded.database.Database`) holds the chunks, an
external-content FTS5 table over their text (``unicode61 remove_diacritics
2``; ranked by ``bm25()``) kept in step by triggers, and each chunk's
float32 vector. A document's chunks are replaced in one write transaction:
readers in any process see all of a document's chunks or none.

Vector queries compare against every vector of the owner (exact k-NN with
numpy). The vectors are cached per process and owner, keyed by a generation
counter every write bumps, so another process's writes are seen at the next
query. Scores follow Azure AI Search: text hits score ``-bm25`` (higher is
better), vector hits ``1 / (2 - cosine)``, hybrid hits their reciprocal-rank
fused score (:func:`search.ports.fuse`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kernel.storage.embedded.database import Database
from search.ports import fuse
from search.records import Chunk, EngineHit, EngineQuery, Filters, Mode

DATABASE_NAME = "search.sqlite3"
#: Each ranking fused in a hybrid query is at least this deep.
HYBRID_DEPTH = 50

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    document_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    content TEXT NOT NULL,
    start INTEGER NOT NULL,
    stop INTEGER NOT NULL,
    filename TEXT,
    content_type TEXT,
    created_at TEXT,
    page INTEGER,
    heading TEXT,
    entity_types TEXT NOT NULL,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks (document_id);
CREATE INDEX IF NOT EXISTS chunks_owner ON chunks (owner, created_at);
CREATE TABLE IF NOT EXISTS chunk_entity_types (
    entity_type TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    PRIMARY KEY (entity_type, chunk)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    content, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_added AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER IF NOT EXISTS chunks_removed AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    DELETE FROM chunk_entity_types WHERE chunk = old.rowid;
END;
CREATE TABLE IF NOT EXISTS generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO generation (id, value) VALUES (1, 0);
"""

_COLUMNS = (
    "c.rowid, c.owner, c.document_id, c.number, c.content, c.start, c.stop, c.filename,"
    " c.content_type, c.created_at, c.page, c.heading, c.entity_types"
)


def stored_time(value: datetime) -> str:
    """A UTC timestamp whose text order is its time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of ``terms``, each a quoted string (never syntax)."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


class EmbeddedSearchEngine:
    """The :class:`~search.ports.SearchEngine` port over SQLite in ``data_dir``."""

    def __init__(self, data_dir: Path, *, dimensions: int | None = None) -> None:
        self._database = Database(Path(data_dir) / DATABASE_NAME, schema=SCHEMA)
        self._dimensions = dimensions
        self._lock = threading.Lock()
        # owner -> (generation, rowids, unit vectors as rows)
        self._vectors: dict[str, tuple[int, np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}

    def close(self) -> None:
        self._database.close()

    def ensure_ready(self) -> None:
        with self._database.reading():
            pass  # connecting creates the schema

    # -- writes

    def replace_document(self, document_id: str, chunks: Sequence[Chunk]) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
            for chunk in chunks:
                if chunk.document_id != document_id:
                    raise ValueError("every chunk must belong to the document replaced")
                rowid = connection.execute(
                    "INSERT INTO chunks (id, owner, document_id, number, content, start, stop,"
                    " filename, content_type, created_at, page, heading, entity_types, vector)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        chunk.id,
                        chunk.owner,
                        chunk.document_id,
                        chunk.number,
                        chunk.content,
                        chunk.start,
                        chunk.end,
                        chunk.filename,
                        chunk.content_type,
                        stored_time(chunk.created_at) if chunk.created_at else None,
                        chunk.page,
                        chunk.heading,
                        json.dumps(list(chunk.entity_types)),
                        self._vector_bytes(chunk.vector),
                    ),
                ).lastrowid
                connection.executemany(
                    "INSERT OR IGNORE INTO chunk_entity_types (entity_type, chunk) VALUES (?, ?)",
                    [(kind, rowid) for kind in chunk.entity_types],
                )
            _bump(connection)

    def delete_document(self, document_id: str) -> int:
        with self._database.transaction() as connection:
            removed = connection.execute(
                "DELETE FROM chunks WHERE document_id = ?", (document_id,)
            ).rowcount
            _bump(connection)
        return int(removed)

    def _vector_bytes(self, vector: Sequence[float] | None) -> bytes | None:
        if vector is None:
            return None
        if self._dimensions is not None and len(vector) != self._dimensions:
            raise ValueError(f"a vector of {len(vector)} dimensions, not {self._dimensions}")
        return np.asarray(vector, dtype="<f4").tobytes()

    # -- reads

    def count(self, owner: str) -> int:
        with self._database.reading() as connection:
            row = connection.execute("SELECT count(*) FROM chunks WHERE owner = ?", (owner,))
            return int(row.fetchone()[0])

    def search(self, query: EngineQuery) -> list[EngineHit]:
        if query.mode is Mode.TEXT:
            return self._text(query, query.top, query.skip)
        if query.mode is Mode.VECTOR:
            return self._nearest(query, query.top, query.skip)
        depth = max(HYBRID_DEPTH, query.skip + query.top)
        text = self._text(query, depth, 0)
        vector = self._nearest(query, depth, 0)
        found = {hit.chunk.id: hit.chunk for hit in (*text, *vector)}
        fused = fuse([[h.chunk.id for h in text], [h.chunk.id for h in vector]])
        page = fused[query.skip : query.skip + query.top]
        return [EngineHit(found[key], score) for key, score in page]

    def _text(self, query: EngineQuery, top: int, skip: int) -> list[EngineHit]:
        where, parameters = _conditions(query.owner, query.filters)
        # Conditions name fixed columns; every value is a bound parameter.
        sql = (
            f"SELECT {_COLUMNS}, bm25(chunks_fts) FROM chunks_fts"  # noqa: S608
            " JOIN chunks c ON c.rowid = chunks_fts.rowid"
            f" WHERE chunks_fts MATCH ? AND {where}"
            " ORDER BY bm25(chunks_fts), c.id LIMIT ? OFFSET ?"
        )
        arguments = [match_expression(query.terms), *parameters, top, skip]
        with self._database.reading() as connection:
            rows = connection.execute(sql, arguments).fetchall()
        return [EngineHit(_chunk(row), -float(row[-1])) for row in rows]

    def _nearest(self, query: EngineQuery, top: int, skip: int) -> list[EngineHit]:
        if query.vector is None:
            raise ValueError("a vector query needs a vector")
        target = np.asarray(query.vector, dtype=np.float32)
        norm = float(np.linalg.norm(target))
        if norm == 0.0:
            return []
        rowids, matrix = self._owner_vectors(query.owner)
        if matrix.shape[0] == 0 or matrix.shape[1] != target.shape[0]:
            return []
        similarity = matrix @ (target / norm)
        if query.filters != Filters():
            allowed = self._filtered_rowids(query.owner, query.filters)
            similarity = np.where(np.isin(rowids, allowed), similarity, -np.inf)
        wanted = min(skip + top, int(np.isfinite(similarity).sum()))
        if wanted <= 0:
            return []
        best = np.argpartition(-similarity, wanted - 1)[:wanted]
        # Ties by key, as the stand-in and Azure AI Search order them.
        ranked = sorted(best, key=lambda i: -float(similarity[i]))[skip:]
        chosen = [int(rowids[i]) for i in ranked]
        scores = {int(rowids[i]): 1.0 / (2.0 - float(similarity[i])) for i in ranked}
        placeholders = ",".join("?" * len(chosen))
        with self._database.reading() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM chunks c WHERE c.rowid IN ({placeholders})",  # noqa: S608
                chosen,
            ).fetchall()
        chunks = {int(row[0]): _chunk(row) for row in rows}
        hits = [EngineHit(chunks[r], scores[r]) for r in chosen if r in chunks]
        return sorted(hits, key=lambda hit: (-hit.score, hit.chunk.id))

    def _filtered_rowids(self, owner: str, filters: Filters) -> np.ndarray[Any, Any]:
        where, parameters = _conditions(owner, filters)
        with self._database.reading() as connection:
            rows = connection.execute(
                f"SELECT c.rowid FROM chunks c WHERE {where}",  # noqa: S608 - bound values
                parameters,
            )
            return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def _owner_vectors(self, owner: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        with self._database.reading() as connection:
            generation = int(
                connection.execute("SELECT value FROM generation WHERE id = 1").fetchone()[0]
            )
            with self._lock:
                cached = self._vectors.get(owner)
                if cached is not None and cached[0] == generation:
                    return cached[1], cached[2]
            # The generation and the vectors are read in one snapshot.
            connection.execute("BEGIN")
            try:
                generation = int(
                    connection.execute("SELECT value FROM generation WHERE id = 1").fetchone()[0]
                )
                rows = connection.execute(
                    "SELECT rowid, vector FROM chunks WHERE owner = ? AND vector IS NOT NULL",
                    (owner,),
                ).fetchall()
            finally:
                connection.execute("COMMIT")
        rowids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        if rows:
            width = len(rows[0][1]) // 4
            matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4")
            matrix = matrix.reshape(len(rows), width).astype(np.float32)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = matrix / np.where(norms == 0, 1, norms)
        else:
            matrix = np.zeros((0, self._dimensions or 0), dtype=np.float32)
        with self._lock:
            self._vectors[owner] = (generation, rowids, matrix)
        return rowids, matrix


def _bump(connection: sqlite3.Connection) -> None:
    connection.execute("UPDATE generation SET value = value + 1 WHERE id = 1")


def _conditions(owner: str, filters: Filters) -> tuple[str, list[Any]]:
    """SQL conditions on ``chunks c`` for the owner and filters, with their parameters."""
    clauses = ["c.owner = ?"]
    parameters: list[Any] = [owner]
    for column, value in (
        ("content_type", filters.content_type),
        ("filename", filters.filename),
        ("document_id", filters.document_id),
    ):
        if value is not None:
            clauses.append(f"c.{column} = ?")
            parameters.append(value)
    if filters.created_after is not None:
        clauses.append("c.created_at >= ?")
        parameters.append(stored_time(filters.created_after))
    if filters.created_before is not None:
        clauses.append("c.created_at < ?")
        parameters.append(stored_time(filters.created_before))
    if filters.entity_type is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM chunk_entity_types e"
            " WHERE e.entity_type = ? AND e.chunk = c.rowid)"
        )
        parameters.append(filters.entity_type)
    return " AND ".join(clauses), parameters


def _chunk(row: Sequence[Any]) -> Chunk:
    created = row[9]
    return Chunk(
        owner=row[1],
        document_id=row[2],
        number=int(row[3]),
        content=row[4],
        start=int(row[5]),
        end=int(row[6]),
        filename=row[7],
        content_type=row[8],
        created_at=datetime.fromisoformat(created) if created else None,
        page=row[10],
        heading=row[11],
        entity_types=tuple(json.loads(row[12])),
    )
