""":class:`~kernel.storage.ports.QueueStore` on Azure Queue Storage (or Azurite)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kernel.errors import NotFoundError
from kernel.storage.ports import QueueMessage
from kernel.storage.validation import (
    check_max_messages,
    check_message,
    check_queue_name,
    check_visibility,
)

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient, QueueServiceClient

from kernel.credentials import CredentialFactory
from kernel.storage.azure.connection import (
    ClientOptions,
    Connection,
    CreatedNames,
    error_code,
    ping_service,
    storage_retry,
    translated,
)


class AzureQueueStore:
    """:class:`~kernel.storage.ports.QueueStore` on Azure Queue Storage.

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
        create: bool = True,
    ) -> None:
        self._connection = Connection("queue", connection_string, account_url, credential)
        self._options = options or ClientOptions()
        self._lock = threading.Lock()
        self._service: QueueServiceClient | None = None
        self._queues: dict[str, QueueClient] = {}
        self._created = CreatedNames(self._create_queue, "QueueNotFound", enabled=create)

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
                **storage_retry(self._options, ExponentialRetry),
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
        with translated(f"send to queue {queue}"):
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
        with translated(f"receive from queue {queue}"):
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

    def ping(self, timeout: float) -> None:
        ping_service(self._service_client().list_queues, "queue storage", timeout)

    def delete(self, queue: str, message: QueueMessage) -> None:
        from azure.core.exceptions import HttpResponseError

        client = self._client(queue)
        with translated(f"delete message from queue {queue}"):
            try:
                client.delete_message(message.id, message.pop_receipt)
            except HttpResponseError as exc:
                # A receipt from an earlier receive: the same outcome as a
                # message that is gone, for the caller.
                if error_code(exc) in ("PopReceiptMismatch", "InvalidQueryParameterValue"):
                    raise NotFoundError(
                        f"message {message.id!r} in {queue!r} was received again"
                    ) from exc
                raise
