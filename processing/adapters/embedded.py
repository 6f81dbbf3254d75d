"""The embedded store: blobs as plain files, tables and queues in SQLite.

For local development and tests without Azure. Everything lives under one
folder (``DATA_DIR``, ``.data`` by default)::

    blobs/{container}/{name}   each blob as an ordinary file ("/" makes subfolders)
    store.sqlite3              entities, queue messages, and blob properties
    tmp/                       blob writes in progress

Blobs are ordinary files so that a file copied into ``blobs/inbox/`` by hand
is a blob like any other; the properties Azure keeps beside a blob (ETag,
content type, metadata) go to a side index in SQLite, which is trusted only
while the file's identity (inode, size, mtime) is the one it recorded.

The SQLite file is shared by every thread and process that opens the folder
(the local host, the CLI, tests): WAL mode, a busy timeout, and writes in
``BEGIN IMMEDIATE`` transactions, which also serialise blob writes so a file
and its index row always change together.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

from processing.adapters.validation import (
    InvalidNameError,
    InvalidValueError,
    check_container_name,
    check_equals,
    check_key,
    check_max_messages,
    check_message,
    check_metadata,
    check_queue_name,
    check_table_name,
    check_visibility,
    normalize_entity,
    split_blob_path,
)
from processing.extraction.errors import DependencyError
from processing.ports import BlobInfo, ConflictError, Entity, NotFoundError, QueueMessage

DATABASE_NAME = "store.sqlite3"
BLOBS_DIR = "blobs"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Long enough to ride out another process's write burst, short enough that a
# wedged process shows up as an error rather than a hang.
_BUSY_TIMEOUT_SECONDS = 30.0
# Azure Storage queues drop messages after seven days by default.
_MESSAGE_TTL_SECONDS = 7 * 24 * 3600

_SCHEMA = """
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


class _Database:
    """One SQLite connection per store and process, shared by its threads under a lock.

    A lock rather than a connection per thread: the store is for development,
    where simplicity beats concurrent reads, and one connection can be closed.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def _connect(self) -> sqlite3.Connection:
        # A connection must not cross a fork; a child opens its own.
        if self._connection is None or self._pid != os.getpid():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self._path,
                timeout=_BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                _use_wal(connection)
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.executescript(_SCHEMA)
            except BaseException:
                connection.close()
                raise
            self._connection = connection
            self._pid = os.getpid()
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, holding the database's write lock from the start."""
        with self._lock, _sqlite_errors():
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
        with self._lock, _sqlite_errors():
            yield self._connect()

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
    deadline = time.monotonic() + _BUSY_TIMEOUT_SECONDS
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
def _sqlite_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        # Locked or busy beyond the timeout, disk full, I/O error: all
        # conditions another attempt may not meet.
        raise DependencyError(f"embedded store: {exc}") from exc


class EmbeddedBlobStore:
    """:class:`~processing.ports.BlobStore` on files under ``{data_dir}/blobs``."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = Path(data_dir).absolute()
        self._root = self._data_dir / BLOBS_DIR
        self._db = _Database(self._data_dir / DATABASE_NAME)

    def close(self) -> None:
        self._db.close()

    def put(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> BlobInfo:
        path = self._path(container, name)
        checked_metadata = check_metadata(metadata)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        etag = new_etag()
        temp_dir = self._data_dir / "tmp"
        with _file_errors(name):
            temp_dir.mkdir(parents=True, exist_ok=True)
            descriptor, temp_name = tempfile.mkstemp(dir=temp_dir, prefix="blob-")
        temp = Path(temp_name)
        try:
            with _file_errors(name), os.fdopen(descriptor, "wb") as file:
                file.write(data)
            with self._db.transaction() as connection, _file_errors(name):
                _make_parent(path, name)
                if path.is_dir():
                    raise ConflictError(f"blob {name!r} would replace a folder of other blobs")
                if not overwrite and path.exists():
                    raise ConflictError(f"blob {name!r} already exists in {container!r}")
                temp.replace(path)
                stat = path.stat()
                connection.execute(
                    "INSERT OR REPLACE INTO blob_index VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        container,
                        name,
                        etag,
                        stat.st_ino,
                        stat.st_size,
                        stat.st_mtime_ns,
                        content_type,
                        json.dumps(checked_metadata),
                    ),
                )
        finally:
            with suppress(FileNotFoundError):
                temp.unlink()
        return BlobInfo(
            container=container,
            name=name,
            etag=etag,
            size=stat.st_size,
            content_type=content_type,
            last_modified=_mtime(stat),
            metadata=checked_metadata,
        )

    def get(self, container: str, name: str) -> bytes:
        path = self._path(container, name)
        try:
            if path.is_dir():
                raise FileNotFoundError(name)
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"blob {name!r} not found in {container!r}") from None
        except OSError as exc:
            raise DependencyError(f"embedded store: cannot read blob {name!r}: {exc}") from exc

    def info(self, container: str, name: str) -> BlobInfo:
        path = self._path(container, name)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"blob {name!r} not found in {container!r}") from None
        except OSError as exc:
            raise DependencyError(f"embedded store: cannot read blob {name!r}: {exc}") from exc
        if not path.is_file():
            raise NotFoundError(f"blob {name!r} not found in {container!r}")
        with self._db.reading() as connection:
            row = connection.execute(
                "SELECT * FROM blob_index WHERE container = ? AND name = ?", (container, name)
            ).fetchone()
        return _blob_info(container, name, stat, row)

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        check_container_name(container)
        start = self._root / container
        folder, _, _ = prefix.rpartition("/")
        if folder:
            try:
                start = start.joinpath(*split_blob_path(folder))
            except InvalidNameError:
                # put() refuses such names, so no blob can match.
                return iter(())
        found: dict[str, os.stat_result] = {}
        with _file_errors(prefix):
            for directory, subdirectories, files in os.walk(start):
                subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
                relative = Path(directory).relative_to(self._root / container).as_posix()
                for file_name in files:
                    name = file_name if relative == "." else f"{relative}/{file_name}"
                    if not name.startswith(prefix) or not _listable(name):
                        continue
                    with suppress(FileNotFoundError):
                        stat = Path(directory, file_name).stat()
                        if S_ISREG(stat.st_mode):
                            found[name] = stat
        with self._db.reading() as connection:
            rows = {
                row[1]: row
                for row in connection.execute(
                    "SELECT * FROM blob_index WHERE container = ? AND substr(name, 1, ?) = ?",
                    (container, len(prefix), prefix),
                )
            }
        infos = [_blob_info(container, name, found[name], rows.get(name)) for name in sorted(found)]
        return iter(infos)

    def delete(self, container: str, name: str) -> None:
        path = self._path(container, name)
        with self._db.transaction() as connection, _file_errors(name):
            if not path.is_dir():
                with suppress(FileNotFoundError, NotADirectoryError):
                    path.unlink()
            connection.execute(
                "DELETE FROM blob_index WHERE container = ? AND name = ?", (container, name)
            )
            _remove_empty_parents(path, self._root / container)

    def _path(self, container: str, name: str) -> Path:
        check_container_name(container)
        return self._root.joinpath(container, *split_blob_path(name))


def _listable(name: str) -> bool:
    try:
        split_blob_path(name)
    except InvalidNameError:
        return False
    return True


def _blob_info(
    container: str, name: str, stat: os.stat_result, row: tuple[Any, ...] | None
) -> BlobInfo:
    if row is not None and (row[3], row[4], row[5]) == (
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
    ):
        etag, content_type, metadata = row[2], row[6], json.loads(row[7])
    else:
        # Dropped or changed by hand: an ETag from the file's identity stays
        # the same for as long as the file does.
        etag = f'"f{stat.st_ino:x}-{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        content_type, metadata = None, {}
    return BlobInfo(
        container=container,
        name=name,
        etag=etag,
        size=stat.st_size,
        content_type=content_type,
        last_modified=_mtime(stat),
        metadata=metadata,
    )


def _mtime(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime_ns / 1e9, tz=UTC)


def _make_parent(path: Path, name: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConflictError(
            f"blob {name!r} needs a folder where another blob is stored as a file"
        ) from None


def _remove_empty_parents(path: Path, container_dir: Path) -> None:
    parent = path.parent
    while parent != container_dir and container_dir in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


@contextmanager
def _file_errors(name: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise InvalidNameError(f"blob name {name!r} is too long for this filesystem") from exc
        # Disk full, permissions, a file held open on Windows: environment
        # trouble that may pass, not a property of the request.
        raise DependencyError(f"embedded store: {exc.strerror or exc}") from exc


class EmbeddedTableStore:
    """:class:`~processing.ports.TableStore` on SQLite; properties stored as JSON.

    Table names are case-insensitive, as in Azure Tables.
    """

    def __init__(self, data_dir: Path) -> None:
        self._db = _Database(Path(data_dir).absolute() / DATABASE_NAME)

    def close(self) -> None:
        self._db.close()

    def insert(self, table: str, entity: Mapping[str, Any]) -> str:
        key = _table_key(table)
        partition_key, row_key, properties = normalize_entity(entity)
        etag = new_etag()
        with self._db.transaction() as connection:
            try:
                connection.execute(
                    "INSERT INTO entities VALUES (?, ?, ?, ?, ?)",
                    (key, partition_key, row_key, etag, _dump(properties)),
                )
            except sqlite3.IntegrityError:
                raise ConflictError(
                    f"entity ({partition_key!r}, {row_key!r}) already exists in {table!r}"
                ) from None
        return etag

    def upsert(self, table: str, entity: Mapping[str, Any]) -> str:
        key = _table_key(table)
        partition_key, row_key, properties = normalize_entity(entity)
        etag = new_etag()
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?)",
                (key, partition_key, row_key, etag, _dump(properties)),
            )
        return etag

    def update(self, table: str, entity: Mapping[str, Any], *, etag: str) -> str:
        key = _table_key(table)
        partition_key, row_key, properties = normalize_entity(entity)
        new = new_etag()
        with self._db.transaction() as connection:
            row = connection.execute(
                "SELECT etag FROM entities WHERE tbl = ? AND pk = ? AND rk = ?",
                (key, partition_key, row_key),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"entity ({partition_key!r}, {row_key!r}) not in {table!r}")
            if etag not in (row[0], "*"):
                raise ConflictError(
                    f"entity ({partition_key!r}, {row_key!r}) changed since it was read"
                )
            connection.execute(
                "UPDATE entities SET etag = ?, props = ? WHERE tbl = ? AND pk = ? AND rk = ?",
                (new, _dump(properties), key, partition_key, row_key),
            )
        return new

    def get(self, table: str, partition_key: str, row_key: str) -> Entity:
        key = _table_key(table)
        check_key("PartitionKey", partition_key)
        check_key("RowKey", row_key)
        with self._db.reading() as connection:
            row = connection.execute(
                "SELECT pk, rk, etag, props FROM entities WHERE tbl = ? AND pk = ? AND rk = ?",
                (key, partition_key, row_key),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"entity ({partition_key!r}, {row_key!r}) not in {table!r}")
        return _entity(row)

    def query(
        self,
        table: str,
        partition_key: str,
        *,
        equals: Mapping[str, str | int | bool] | None = None,
        row_key_after: str | None = None,
        row_key_before: str | None = None,
        limit: int | None = None,
    ) -> list[Entity]:
        key = _table_key(table)
        check_key("PartitionKey", partition_key)
        filters = check_equals(equals)
        if limit is not None and limit < 0:
            raise InvalidValueError("limit must not be negative")
        sql = ["SELECT pk, rk, etag, props FROM entities WHERE tbl = ? AND pk = ?"]
        parameters: list[Any] = [key, partition_key]
        if row_key_after is not None:
            sql.append("AND rk > ?")
            parameters.append(check_key("RowKey", row_key_after))
        if row_key_before is not None:
            sql.append("AND rk < ?")
            parameters.append(check_key("RowKey", row_key_before))
        for name, value in filters.items():
            path = f'$."{name}"'
            # Typed equality, as in OData: 1 matches neither "1" nor true.
            if isinstance(value, bool):
                sql.append("AND json_type(props, ?) = ?")
                parameters += [path, "true" if value else "false"]
            else:
                sql.append("AND json_type(props, ?) = ? AND json_extract(props, ?) = ?")
                kind = "integer" if isinstance(value, int) else "text"
                parameters += [path, kind, path, value]
        # SQLite's default BINARY collation orders UTF-8 by code point, as Azure orders keys.
        sql.append("ORDER BY rk LIMIT ?")
        parameters.append(-1 if limit is None else limit)
        with self._db.reading() as connection:
            rows = connection.execute(" ".join(sql), parameters).fetchall()
        return [_entity(row) for row in rows]

    def delete(self, table: str, partition_key: str, row_key: str) -> None:
        key = _table_key(table)
        check_key("PartitionKey", partition_key)
        check_key("RowKey", row_key)
        with self._db.transaction() as connection:
            connection.execute(
                "DELETE FROM entities WHERE tbl = ? AND pk = ? AND rk = ?",
                (key, partition_key, row_key),
            )


def _table_key(table: str) -> str:
    return check_table_name(table).lower()


def _dump(properties: Mapping[str, Any]) -> str:
    return json.dumps(properties, ensure_ascii=False, allow_nan=False)


def _entity(row: tuple[Any, ...]) -> Entity:
    partition_key, row_key, etag, props = row
    entity: Entity = {"PartitionKey": partition_key, "RowKey": row_key}
    entity.update(json.loads(props))
    entity["etag"] = etag
    return entity


class EmbeddedQueueStore:
    """:class:`~processing.ports.QueueStore` on SQLite, with Azure Storage queue semantics.

    Messages are hidden until ``visible_at``; a receive hides them again,
    counts the delivery and issues a new pop receipt, which alone can delete
    the message until the next receive.
    """

    def __init__(self, data_dir: Path) -> None:
        self._db = _Database(Path(data_dir).absolute() / DATABASE_NAME)

    def close(self) -> None:
        self._db.close()

    def send(self, queue: str, content: str, *, visibility_timeout: int = 0) -> None:
        check_queue_name(queue)
        check_message(content)
        check_visibility(visibility_timeout, minimum=0)
        now = time.time()
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT INTO messages (queue, id, content, visible_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    queue,
                    str(uuid.uuid4()),
                    content,
                    now + visibility_timeout,
                    now + _MESSAGE_TTL_SECONDS,
                ),
            )

    def receive(
        self, queue: str, *, max_messages: int = 16, visibility_timeout: int = 30
    ) -> list[QueueMessage]:
        check_queue_name(queue)
        check_max_messages(max_messages)
        check_visibility(visibility_timeout, minimum=1)
        received: list[QueueMessage] = []
        with self._db.transaction() as connection:
            now = time.time()
            connection.execute(
                "DELETE FROM messages WHERE queue = ? AND expires_at <= ?", (queue, now)
            )
            rows = connection.execute(
                "SELECT seq, id, content, dequeue_count FROM messages"
                " WHERE queue = ? AND visible_at <= ? ORDER BY seq LIMIT ?",
                (queue, now, max_messages),
            ).fetchall()
            for seq, message_id, content, dequeue_count in rows:
                receipt = uuid.uuid4().hex
                connection.execute(
                    "UPDATE messages SET visible_at = ?, dequeue_count = ?, pop_receipt = ?"
                    " WHERE seq = ?",
                    (now + visibility_timeout, dequeue_count + 1, receipt, seq),
                )
                received.append(QueueMessage(message_id, receipt, content, dequeue_count + 1))
        return received

    def delete(self, queue: str, message: QueueMessage) -> None:
        check_queue_name(queue)
        with self._db.transaction() as connection:
            deleted = connection.execute(
                "DELETE FROM messages WHERE queue = ? AND id = ? AND pop_receipt = ?",
                (queue, message.id, message.pop_receipt),
            ).rowcount
        if not deleted:
            raise NotFoundError(
                f"message {message.id!r} is gone from {queue!r} or was received again"
            )
