"""Queue messages in SQLite, with Azure Storage queues' visibility and pop receipts."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from kernel.errors import NotFoundError
from kernel.storage.embedded.database import DATABASE_NAME, Database
from kernel.storage.ports import QueueMessage
from kernel.storage.validation import (
    check_max_messages,
    check_message,
    check_queue_name,
    check_visibility,
)

# Azure Storage queues drop messages after seven days by default.
_MESSAGE_TTL_SECONDS = 7 * 24 * 3600


class EmbeddedQueueStore:
    """:class:`~kernel.storage.ports.QueueStore` on SQLite, with Azure Storage queue semantics.

    Messages are hidden until ``visible_at``; a receive hides them again,
    counts the delivery and issues a new pop receipt, which alone can delete
    the message until the next receive.
    """

    def __init__(self, data_dir: Path) -> None:
        self._db = Database(Path(data_dir).absolute() / DATABASE_NAME)

    def close(self) -> None:
        self._db.close()

    def ping(self, timeout: float) -> None:
        self._db.ping()

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
