"""Table rows in SQLite, with Azure Tables' keys, filters and ETags."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kernel.errors import ConflictError, InvalidValueError, NotFoundError
from kernel.storage.embedded.database import DATABASE_NAME, Database, new_etag
from kernel.storage.ports import Row
from kernel.storage.validation import (
    check_equals,
    check_key,
    check_table_name,
    normalize_row,
)


class EmbeddedTableStore:
    """:class:`~kernel.storage.ports.TableStore` on SQLite; properties stored as JSON.

    Table names are case-insensitive, as in Azure Tables.
    """

    def __init__(self, data_dir: Path) -> None:
        self._db = Database(Path(data_dir).absolute() / DATABASE_NAME)

    def close(self) -> None:
        self._db.close()

    def ping(self, timeout: float) -> None:
        self._db.ping()

    def insert(self, table: str, row: Mapping[str, Any]) -> str:
        key = _table_key(table)
        partition_key, row_key, properties = normalize_row(row)
        etag = new_etag()
        with self._db.transaction() as connection:
            try:
                connection.execute(
                    "INSERT INTO entities VALUES (?, ?, ?, ?, ?)",
                    (key, partition_key, row_key, etag, _dump(properties)),
                )
            except sqlite3.IntegrityError:
                raise ConflictError(
                    f"row ({partition_key!r}, {row_key!r}) already exists in {table!r}"
                ) from None
        return etag

    def upsert(self, table: str, row: Mapping[str, Any]) -> str:
        key = _table_key(table)
        partition_key, row_key, properties = normalize_row(row)
        etag = new_etag()
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?)",
                (key, partition_key, row_key, etag, _dump(properties)),
            )
        return etag

    def update(self, table: str, row: Mapping[str, Any], *, etag: str) -> str:
        key = _table_key(table)
        partition_key, row_key, properties = normalize_row(row)
        new = new_etag()
        with self._db.transaction() as connection:
            found = connection.execute(
                "SELECT etag FROM entities WHERE tbl = ? AND pk = ? AND rk = ?",
                (key, partition_key, row_key),
            ).fetchone()
            if found is None:
                raise NotFoundError(f"row ({partition_key!r}, {row_key!r}) not in {table!r}")
            if etag not in (found[0], "*"):
                raise ConflictError(
                    f"row ({partition_key!r}, {row_key!r}) changed since it was read"
                )
            connection.execute(
                "UPDATE entities SET etag = ?, props = ? WHERE tbl = ? AND pk = ? AND rk = ?",
                (new, _dump(properties), key, partition_key, row_key),
            )
        return new

    def get(self, table: str, partition_key: str, row_key: str) -> Row:
        key = _table_key(table)
        check_key("PartitionKey", partition_key)
        check_key("RowKey", row_key)
        with self._db.reading() as connection:
            found = connection.execute(
                "SELECT pk, rk, etag, props FROM entities WHERE tbl = ? AND pk = ? AND rk = ?",
                (key, partition_key, row_key),
            ).fetchone()
        if found is None:
            raise NotFoundError(f"row ({partition_key!r}, {row_key!r}) not in {table!r}")
        return _row(found)

    def query(
        self,
        table: str,
        partition_key: str,
        *,
        equals: Mapping[str, str | int | bool] | None = None,
        row_key_after: str | None = None,
        row_key_before: str | None = None,
        limit: int | None = None,
    ) -> list[Row]:
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
            found_rows = connection.execute(" ".join(sql), parameters).fetchall()
        return [_row(found) for found in found_rows]

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


def _row(found: tuple[Any, ...]) -> Row:
    partition_key, row_key, etag, props = found
    row: Row = {"PartitionKey": partition_key, "RowKey": row_key}
    row.update(json.loads(props))
    row["etag"] = etag
    return row
