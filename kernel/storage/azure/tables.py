""":class:`~kernel.storage.ports.TableStore` on Azure Table Storage (or Azurite)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kernel.errors import InvalidValueError
from kernel.storage.ports import Row
from kernel.storage.validation import (
    check_equals,
    check_key,
    check_table_name,
    normalize_row,
)

if TYPE_CHECKING:
    from azure.data.tables import TableClient, TableServiceClient

from kernel.credentials import CredentialFactory
from kernel.storage.azure.connection import (
    ClientOptions,
    Connection,
    CreatedNames,
    ping_service,
    translated,
)

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# Azure Tables returns at most 1000 rows a page.
_MAX_PAGE = 1000


class AzureTableStore:
    """:class:`~kernel.storage.ports.TableStore` on Azure Table Storage (or Cosmos DB for Table)."""

    def __init__(
        self,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: CredentialFactory | None = None,
        options: ClientOptions | None = None,
        create: bool = True,
    ) -> None:
        self._connection = Connection("table", connection_string, account_url, credential)
        self._options = options or ClientOptions()
        self._lock = threading.Lock()
        self._service: TableServiceClient | None = None
        self._tables: dict[str, TableClient] = {}
        self._created = CreatedNames(self._create_table, "TableNotFound", enabled=create)

    def _client(self, table: str) -> TableClient:
        # Azure Tables ignores the case of table names and Azurite does not:
        # one case makes both (and the embedded store) agree.
        name = check_table_name(table).lower()
        with self._lock:
            client = self._tables.get(name)
            if client is None:
                client = self._service_client().get_table_client(name)
                self._tables[name] = client
            return client

    def _service_client(self) -> TableServiceClient:
        if self._service is None:
            from azure.data.tables import TableServiceClient

            self._service = self._connection.service_client(
                TableServiceClient,
                "table storage",
                retry_total=self._options.retry_total,
                retry_backoff_factor=self._options.retry_backoff_seconds,
                connection_timeout=self._options.connection_timeout,
                read_timeout=self._options.read_timeout,
            )
        return self._service

    def _create_table(self, table: str) -> None:
        self._client(table).create_table()

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.close()
            self._service = None
            self._tables.clear()

    def insert(self, table: str, row: Mapping[str, Any]) -> str:
        payload = _payload(row)
        client = self._client(table)
        with translated(f"insert into table {table}"):
            result = self._created.call(table.lower(), lambda: client.create_entity(payload))
        return str(result["etag"])

    def upsert(self, table: str, row: Mapping[str, Any]) -> str:
        from azure.data.tables import UpdateMode

        payload = _payload(row)
        client = self._client(table)
        with translated(f"upsert into table {table}"):
            result = self._created.call(
                table.lower(), lambda: client.upsert_entity(payload, mode=UpdateMode.REPLACE)
            )
        return str(result["etag"])

    def update(self, table: str, row: Mapping[str, Any], *, etag: str) -> str:
        from azure.core import MatchConditions
        from azure.data.tables import UpdateMode

        payload = _payload(row)
        client = self._client(table)
        with translated(f"update row in table {table}"):
            result = client.update_entity(
                payload,
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        return str(result["etag"])

    def get(self, table: str, partition_key: str, row_key: str) -> Row:
        check_key("PartitionKey", partition_key)
        check_key("RowKey", row_key)
        client = self._client(table)
        with translated(f"get row from table {table}"):
            return _row(client.get_entity(partition_key, row_key))

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
        from azure.core.exceptions import ResourceNotFoundError

        check_key("PartitionKey", partition_key)
        filters = check_equals(equals)
        if limit is not None and limit < 0:
            raise InvalidValueError("limit must not be negative")
        clauses = ["PartitionKey eq @pk"]
        parameters: dict[str, Any] = {"pk": partition_key}
        if row_key_after is not None:
            clauses.append("RowKey gt @after")
            parameters["after"] = check_key("RowKey", row_key_after)
        if row_key_before is not None:
            clauses.append("RowKey lt @before")
            parameters["before"] = check_key("RowKey", row_key_before)
        for index, (name, value) in enumerate(filters.items()):
            # Names are checked identifiers. Integers are written out here
            # because the SDK's substitution omits the Int64 suffix up to 32
            # bits, so 2**31 to 2**32-1 would overflow an Int32 literal.
            if isinstance(value, int) and not isinstance(value, bool):
                clauses.append(f"{name} eq {_int_literal(value)}")
            else:
                clauses.append(f"{name} eq @p{index}")
                parameters[f"p{index}"] = value
        if limit == 0:
            return []
        client = self._client(table)
        with translated(f"query table {table}"):
            try:
                rows = client.query_entities(
                    " and ".join(clauses),
                    parameters=parameters,
                    results_per_page=min(limit or _MAX_PAGE, _MAX_PAGE),
                )
                return [_row(row) for row in itertools.islice(rows, limit)]
            except ResourceNotFoundError:
                return []

    def delete(self, table: str, partition_key: str, row_key: str) -> None:
        check_key("PartitionKey", partition_key)
        check_key("RowKey", row_key)
        client = self._client(table)
        with translated(f"delete row from table {table}"):
            # The SDK treats a missing row (or table) as deleted already.
            client.delete_entity(partition_key, row_key)

    def ping(self, timeout: float) -> None:
        ping_service(self._service_client().list_tables, "table storage", timeout)


def _int_literal(value: int) -> str:
    number = int(value)
    return str(number) if _INT32_MIN <= number <= _INT32_MAX else f"{number}L"


def _payload(row: Mapping[str, Any]) -> dict[str, Any]:
    from azure.data.tables import EdmType, EntityProperty

    partition_key, row_key, properties = normalize_row(row)
    payload: dict[str, Any] = {"PartitionKey": partition_key, "RowKey": row_key}
    for name, value in properties.items():
        wide = not isinstance(value, bool) and isinstance(value, int)
        # The SDK sends plain ints as Int32 and refuses larger ones.
        if wide and not _INT32_MIN <= value <= _INT32_MAX:
            payload[name] = EntityProperty(value, EdmType.INT64)
        else:
            payload[name] = value
    return payload


def _row(row: Mapping[str, Any]) -> Row:
    from azure.data.tables import EntityProperty

    result: Row = {}
    for name, value in row.items():
        result[name] = value.value if isinstance(value, EntityProperty) else value
    metadata = getattr(row, "metadata", {})
    result["etag"] = str(metadata["etag"])
    return result
