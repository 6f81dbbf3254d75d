"""The storage ports on Azure Storage (or Azurite): blobs, tables and queues.

Each store is built from a connection string (``UseDevelopmentStorage=true``
included) or from its service URI and a token credential (managed identity).
The SDKs are imported and their clients created on first use, then reused:
they are thread-safe and keep a connection pool. Containers, tables and
queues are created on the first write into them; a process remembers which
it created, and creates one again if it has since disappeared (an emulator
restarted with in-memory persistence, a container deleted by hand).

Service errors never escape as SDK exceptions: missing things become
:class:`~processing.ports.NotFoundError`, lost races and taken names
:class:`~processing.ports.ConflictError`, requests the service refuses as
malformed :class:`~processing.adapters.validation.InvalidValueError`, and
everything else (network, timeouts, throttling, 5xx, authentication)
:class:`~processing.extraction.errors.DependencyError`, which callers may retry.
"""

# Every Azure import here is deferred to first use: cold start of the function app.

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from processing.adapters.validation import (
    InvalidValueError,
    check_blob_name,
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
)
from processing.extraction.errors import DependencyError, ProcessingError
from processing.ports import BlobInfo, ConflictError, Entity, NotFoundError, QueueMessage
from processing.settings import SettingsError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.exceptions import AzureError
    from azure.data.tables import TableClient, TableServiceClient
    from azure.storage.blob import BlobProperties, BlobServiceClient, ContainerClient
    from azure.storage.queue import QueueClient, QueueServiceClient

T = TypeVar("T")
#: Builds the credential when the first client is made, so that importing
#: azure.identity and probing for managed identity wait until storage is used.
CredentialFactory = Callable[[], "TokenCredential"]

#: Azurite's (and the old storage emulator's) published account key.
DEVELOPMENT_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEVELOPMENT_ACCOUNT = "devstoreaccount1"
_DEVELOPMENT_PORTS = {"Blob": 10000, "Queue": 10001, "Table": 10002}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# Azure Tables returns at most 1000 entities a page.
_MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Retries and timeouts for the SDK clients.

    The storage SDKs' own default backs off 15 s, 18 s, 24 s: longer than a
    function invocation should stall on one call. These defaults retry
    three times within about 15 s; tests set ``retry_total=0``.
    """

    retry_total: int = 3
    retry_backoff_seconds: float = 1.0
    connection_timeout: float = 10.0
    read_timeout: float = 30.0


def parse_connection_string(connection_string: str) -> dict[str, str]:
    """The ``key=value`` pairs of a storage connection string, keys lowercased."""
    pairs: dict[str, str] = {}
    for part in connection_string.strip().strip(";").split(";"):
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise SettingsError("the storage connection string is malformed")
        pairs[key.strip().lower()] = value.strip()
    return pairs


def expand_connection_string(connection_string: str) -> str:
    """``connection_string`` with ``UseDevelopmentStorage=true`` spelled out.

    The SDKs disagree on the shorthand: azure-data-tables accepts only the
    exact text ``UseDevelopmentStorage=true``, the storage SDKs only the
    value ``true`` in lower case, and neither honours
    ``DevelopmentStorageProxyUri``. Expanded, all three see the same
    Azurite endpoints.
    """
    pairs = parse_connection_string(connection_string)
    if pairs.get("usedevelopmentstorage", "").lower() != "true":
        return connection_string
    host = pairs.get("developmentstorageproxyuri", "http://127.0.0.1").rstrip("/")
    endpoints = ";".join(
        f"{service}Endpoint={host}:{port}/{DEVELOPMENT_ACCOUNT}"
        for service, port in _DEVELOPMENT_PORTS.items()
    )
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEVELOPMENT_ACCOUNT};"
        f"AccountKey={DEVELOPMENT_ACCOUNT_KEY};{endpoints}"
    )


class _Connection:
    """Where one store's service is and how to authenticate to it."""

    def __init__(
        self,
        service: str,
        connection_string: str | None,
        account_url: str | None,
        credential: CredentialFactory | None,
    ) -> None:
        if (connection_string is None) == (account_url is None):
            raise SettingsError(f"{service} storage needs a connection string or a service URI")
        if account_url is not None and credential is None:
            raise SettingsError(f"{service} storage at {account_url} needs a credential")
        self.connection_string = (
            None if connection_string is None else expand_connection_string(connection_string)
        )
        self.account_url = account_url
        self._credential = credential

    def credential(self) -> TokenCredential:
        assert self._credential is not None
        return self._credential()

    def service_client(self, client_class: Any, what: str, **kwargs: Any) -> Any:
        """``client_class`` (a Blob, Queue or Table service client) for this connection."""
        with _translated(f"connect to {what}"):
            if self.connection_string is not None:
                return client_class.from_connection_string(self.connection_string, **kwargs)
            assert self.account_url is not None
            return client_class(self.account_url, credential=self.credential(), **kwargs)


def _storage_retry(options: ClientOptions, policy: Callable[..., Any]) -> dict[str, Any]:
    return {
        "retry_policy": policy(
            initial_backoff=options.retry_backoff_seconds,
            increment_base=3,
            retry_total=options.retry_total,
            random_jitter_range=1,
        ),
        "connection_timeout": options.connection_timeout,
        "read_timeout": options.read_timeout,
    }


class _Created:
    """Names of containers, tables or queues this process has made sure exist."""

    def __init__(self, create: Callable[[str], None], missing_code: str) -> None:
        self._create = create
        self._missing_code = missing_code
        self._names: set[str] = set()
        self._lock = threading.Lock()

    def call(self, name: str, operation: Callable[[], T]) -> T:
        """Run ``operation`` after creating ``name`` if needed, and once more if
        the service says ``name`` has gone."""
        from azure.core.exceptions import ResourceNotFoundError

        self._ensure(name)
        try:
            return operation()
        except ResourceNotFoundError as exc:
            if _error_code(exc) != self._missing_code:
                raise
        with self._lock:
            self._names.discard(name)
        self._ensure(name)
        return operation()

    def _ensure(self, name: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        if name in self._names:
            return
        with suppress(ResourceExistsError):
            self._create(name)
        with self._lock:
            self._names.add(name)


def _error_code(exc: Exception) -> str | None:
    code = getattr(exc, "error_code", None)
    if code is None:
        # Some azure-data-tables calls (create_entity) re-raise the raw
        # azure-core error, which has no error_code; the header still does.
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        code = headers.get("x-ms-error-code")
    return None if code is None else str(getattr(code, "value", code))


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn SDK exceptions into the ports' errors."""
    from azure.core.exceptions import AzureError

    try:
        yield
    except ProcessingError:
        raise
    except AzureError as exc:
        raise translate_error(exc, action) from exc
    except (TypeError, ValueError) as exc:
        # The SDKs check some arguments themselves; the validation module
        # should have caught them first.
        raise InvalidValueError(f"{action}: {exc}") from exc


def translate_error(exc: AzureError, action: str) -> ProcessingError:
    """The port error for an Azure SDK exception."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceModifiedError,
        ResourceNotFoundError,
    )

    code = _error_code(exc)
    status = getattr(exc, "status_code", None)
    message = f"{action}: {type(exc).__name__}"
    if status is not None or code is not None:
        message += f" ({status} {code})"
    # Connection refused or reset, timeouts, 408, 429, 5xx, credential failures.
    kind: type[ProcessingError] = DependencyError
    if code is not None and code.endswith("BeingDeleted"):
        # A container, table or queue recreated within seconds of its
        # deletion: the service asks to try again later.
        kind = DependencyError
    elif isinstance(exc, ResourceNotFoundError):
        kind = NotFoundError
    elif isinstance(exc, ResourceExistsError | ResourceModifiedError):
        kind = ConflictError
    elif isinstance(exc, ClientAuthenticationError):
        # Missing role assignments take minutes to propagate after a deploy.
        kind = DependencyError
    elif isinstance(exc, HttpResponseError) and status == 404:
        kind = NotFoundError
    elif isinstance(exc, HttpResponseError) and status in (409, 412):
        kind = ConflictError
    elif isinstance(exc, HttpResponseError) and status in (400, 405, 411, 413, 414, 416):
        kind = InvalidValueError
    return kind(message)


class AzureBlobStore:
    """:class:`~processing.ports.BlobStore` on Azure Blob Storage."""

    def __init__(
        self,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: CredentialFactory | None = None,
        options: ClientOptions | None = None,
    ) -> None:
        self._connection = _Connection("blob", connection_string, account_url, credential)
        self._options = options or ClientOptions()
        self._lock = threading.Lock()
        self._service: BlobServiceClient | None = None
        self._containers: dict[str, ContainerClient] = {}
        self._created = _Created(self._create_container, "ContainerNotFound")

    def _client(self, container: str) -> ContainerClient:
        check_container_name(container)
        with self._lock:
            client = self._containers.get(container)
            if client is None:
                client = self._service_client().get_container_client(container)
                self._containers[container] = client
            return client

    def _service_client(self) -> BlobServiceClient:
        if self._service is None:
            from azure.storage.blob import BlobServiceClient, ExponentialRetry

            self._service = self._connection.service_client(
                BlobServiceClient,
                "blob storage",
                **_storage_retry(self._options, ExponentialRetry),
            )
        return self._service

    def _create_container(self, container: str) -> None:
        self._client(container).create_container()

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.close()
            self._service = None
            self._containers.clear()

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
        from azure.storage.blob import ContentSettings

        check_blob_name(name)
        checked_metadata = check_metadata(metadata)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        client = self._client(container)
        with _translated(f"put blob {container}/{name}"):
            result = self._created.call(
                container,
                lambda: client.get_blob_client(name).upload_blob(
                    data,
                    overwrite=overwrite,
                    content_settings=ContentSettings(content_type=content_type),
                    metadata=checked_metadata,
                ),
            )
        return BlobInfo(
            container=container,
            name=name,
            etag=_quoted(result["etag"]),
            size=len(data),
            content_type=content_type,
            last_modified=result.get("last_modified"),
            metadata=checked_metadata,
        )

    def get(self, container: str, name: str) -> bytes:
        check_blob_name(name)
        client = self._client(container)
        with _translated(f"get blob {container}/{name}"):
            return client.download_blob(name).readall()

    def info(self, container: str, name: str) -> BlobInfo:
        check_blob_name(name)
        client = self._client(container)
        with _translated(f"get properties of blob {container}/{name}"):
            properties = client.get_blob_client(name).get_blob_properties()
        return _blob_info(container, properties)

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        client = self._client(container)
        return self._list(client, container, prefix)

    def _list(self, client: ContainerClient, container: str, prefix: str) -> Iterator[BlobInfo]:
        from azure.core.exceptions import ResourceNotFoundError

        with _translated(f"list blobs in {container}"):
            try:
                for properties in client.list_blobs(
                    name_starts_with=prefix or None, include=["metadata"]
                ):
                    yield _blob_info(container, properties)
            except ResourceNotFoundError:
                return

    def delete(self, container: str, name: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        check_blob_name(name)
        client = self._client(container)
        with _translated(f"delete blob {container}/{name}"):
            try:
                client.delete_blob(name, delete_snapshots="include")
            except ResourceNotFoundError:
                return


def _blob_info(container: str, properties: BlobProperties) -> BlobInfo:
    return BlobInfo(
        container=container,
        name=properties.name,
        etag=_quoted(properties.etag),
        size=int(properties.size),
        content_type=properties.content_settings.content_type,
        last_modified=properties.last_modified,
        metadata=dict(properties.metadata or {}),
    )


def _quoted(etag: object) -> str:
    # Headers carry ETags quoted, listing XML bare: one form, so they compare equal.
    text = str(etag)
    return text if text.startswith(('"', "W/")) else f'"{text}"'


class AzureTableStore:
    """:class:`~processing.ports.TableStore` on Azure Table Storage (or Cosmos DB for Table)."""

    def __init__(
        self,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: CredentialFactory | None = None,
        options: ClientOptions | None = None,
    ) -> None:
        self._connection = _Connection("table", connection_string, account_url, credential)
        self._options = options or ClientOptions()
        self._lock = threading.Lock()
        self._service: TableServiceClient | None = None
        self._tables: dict[str, TableClient] = {}
        self._created = _Created(self._create_table, "TableNotFound")

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

    def insert(self, table: str, entity: Mapping[str, Any]) -> str:
        payload = _payload(entity)
        client = self._client(table)
        with _translated(f"insert into table {table}"):
            result = self._created.call(table.lower(), lambda: client.create_entity(payload))
        return str(result["etag"])

    def upsert(self, table: str, entity: Mapping[str, Any]) -> str:
        from azure.data.tables import UpdateMode

        payload = _payload(entity)
        client = self._client(table)
        with _translated(f"upsert into table {table}"):
            result = self._created.call(
                table.lower(), lambda: client.upsert_entity(payload, mode=UpdateMode.REPLACE)
            )
        return str(result["etag"])

    def update(self, table: str, entity: Mapping[str, Any], *, etag: str) -> str:
        from azure.core import MatchConditions
        from azure.data.tables import UpdateMode

        payload = _payload(entity)
        client = self._client(table)
        with _translated(f"update entity in table {table}"):
            result = client.update_entity(
                payload,
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        return str(result["etag"])

    def get(self, table: str, partition_key: str, row_key: str) -> Entity:
        check_key("PartitionKey", partition_key)
        check_key("RowKey", row_key)
        client = self._client(table)
        with _translated(f"get entity from table {table}"):
            return _entity(client.get_entity(partition_key, row_key))

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
        with _translated(f"query table {table}"):
            try:
                entities = client.query_entities(
                    " and ".join(clauses),
                    parameters=parameters,
                    results_per_page=min(limit or _MAX_PAGE, _MAX_PAGE),
                )
                return [_entity(entity) for entity in itertools.islice(entities, limit)]
            except ResourceNotFoundError:
                return []

    def delete(self, table: str, partition_key: str, row_key: str) -> None:
        check_key("PartitionKey", partition_key)
        check_key("RowKey", row_key)
        client = self._client(table)
        with _translated(f"delete entity from table {table}"):
            # The SDK treats a missing entity (or table) as deleted already.
            client.delete_entity(partition_key, row_key)


def _int_literal(value: int) -> str:
    number = int(value)
    return str(number) if _INT32_MIN <= number <= _INT32_MAX else f"{number}L"


def _payload(entity: Mapping[str, Any]) -> dict[str, Any]:
    from azure.data.tables import EdmType, EntityProperty

    partition_key, row_key, properties = normalize_entity(entity)
    payload: dict[str, Any] = {"PartitionKey": partition_key, "RowKey": row_key}
    for name, value in properties.items():
        wide = not isinstance(value, bool) and isinstance(value, int)
        # The SDK sends plain ints as Int32 and refuses larger ones.
        if wide and not _INT32_MIN <= value <= _INT32_MAX:
            payload[name] = EntityProperty(value, EdmType.INT64)
        else:
            payload[name] = value
    return payload


def _entity(entity: Mapping[str, Any]) -> Entity:
    from azure.data.tables import EntityProperty

    result: Entity = {}
    for name, value in entity.items():
        result[name] = value.value if isinstance(value, EntityProperty) else value
    metadata = getattr(entity, "metadata", {})
    result["etag"] = str(metadata["etag"])
    return result


class AzureQueueStore:
    """:class:`~processing.ports.QueueStore` on Azure Queue Storage.

    Messages are base64-encoded text, the encoding the Azure Functions queue
    trigger expects by default.
    """

    def __init__(
        self,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: CredentialFactory | None = None,
        options: ClientOptions | None = None,
    ) -> None:
        self._connection = _Connection("queue", connection_string, account_url, credential)
        self._options = options or ClientOptions()
        self._lock = threading.Lock()
        self._service: QueueServiceClient | None = None
        self._queues: dict[str, QueueClient] = {}
        self._created = _Created(self._create_queue, "QueueNotFound")

    def _client(self, queue: str) -> QueueClient:
        check_queue_name(queue)
        with self._lock:
            client = self._queues.get(queue)
            if client is None:
                from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy

                client = self._service_client().get_queue_client(
                    queue,
                    message_encode_policy=TextBase64EncodePolicy(),
                    message_decode_policy=TextBase64DecodePolicy(),
                )
                self._queues[queue] = client
            return client

    def _service_client(self) -> QueueServiceClient:
        if self._service is None:
            from azure.storage.queue import ExponentialRetry, QueueServiceClient

            self._service = self._connection.service_client(
                QueueServiceClient,
                "queue storage",
                **_storage_retry(self._options, ExponentialRetry),
            )
        return self._service

    def _create_queue(self, queue: str) -> None:
        self._client(queue).create_queue()

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.close()
            self._service = None
            self._queues.clear()

    def send(self, queue: str, content: str, *, visibility_timeout: int = 0) -> None:
        check_message(content)
        check_visibility(visibility_timeout, minimum=0)
        client = self._client(queue)
        with _translated(f"send to queue {queue}"):
            self._created.call(
                queue,
                lambda: client.send_message(content, visibility_timeout=visibility_timeout or None),
            )

    def receive(
        self, queue: str, *, max_messages: int = 16, visibility_timeout: int = 30
    ) -> list[QueueMessage]:
        from azure.core.exceptions import ResourceNotFoundError

        check_max_messages(max_messages)
        check_visibility(visibility_timeout, minimum=1)
        client = self._client(queue)
        with _translated(f"receive from queue {queue}"):
            try:
                # One page is one request; asking for max_messages instead
                # would make the pager request again whenever fewer come.
                pages = client.receive_messages(
                    messages_per_page=max_messages, visibility_timeout=visibility_timeout
                ).by_page()
                page = next(pages, None)
                messages = [] if page is None else [*page]
            except ResourceNotFoundError:
                return []
        return [
            QueueMessage(
                id=str(message.id),
                pop_receipt=str(message.pop_receipt),
                content=str(message.content),
                dequeue_count=int(message.dequeue_count or 0),
            )
            for message in messages
        ]

    def delete(self, queue: str, message: QueueMessage) -> None:
        from azure.core.exceptions import HttpResponseError

        client = self._client(queue)
        with _translated(f"delete message from queue {queue}"):
            try:
                client.delete_message(message.id, message.pop_receipt)
            except HttpResponseError as exc:
                # A receipt from an earlier receive: the same outcome as a
                # message that is gone, for the caller.
                if _error_code(exc) in ("PopReceiptMismatch", "InvalidQueryParameterValue"):
                    raise NotFoundError(
                        f"message {message.id!r} in {queue!r} was received again"
                    ) from exc
                raise
