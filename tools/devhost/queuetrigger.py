"""Queue triggers: poll a queue through the app's QueueStore and invoke the
function with the message decoded by the real ``QueueMessageInConverter``.

Semantics follow the Functions queue extension: success deletes the
message; a failure leaves it to reappear when its visibility timeout ends;
after ``maxDequeueCount`` failed dequeues it moves to ``{queue}-poison``.
Unlike Azure, the host does not extend a message's visibility while the
function runs, so an invocation longer than the visibility timeout can
overlap a redelivery.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

from azure.functions.meta import Datum
from azure.functions.queue import QueueMessageInConverter

from kernel.errors import NotFoundError
from kernel.storage.ports import QueueMessage, QueueStore
from tools.devhost.context import InvocationContext
from tools.devhost.functions import HostedFunction, call_function

log = logging.getLogger(__name__)

#: Azure Storage's default message time-to-live.
MESSAGE_TTL = timedelta(days=7)


def trigger_metadata(message: QueueMessage, visibility_seconds: int) -> dict[str, Datum]:
    """The metadata the Functions host sends the worker with a queue message
    (strings as ``string``, the count as ``int``, times as JSON strings).
    The QueueStore port does not expose insertion time, so it is approximated."""
    now = datetime.now(UTC)

    def when(moment: datetime) -> Datum:
        return Datum(type="json", value=json.dumps(moment.isoformat()))

    return {
        "Id": Datum(type="string", value=message.id),
        "DequeueCount": Datum(type="int", value=message.dequeue_count),
        "InsertionTime": when(now),
        "ExpirationTime": when(now + MESSAGE_TTL),
        "NextVisibleTime": when(now + timedelta(seconds=visibility_seconds)),
        "PopReceipt": Datum(type="string", value=message.pop_receipt),
        "QueueTrigger": Datum(type="string", value=message.content),
    }


class QueuePoller:
    """Threads that receive one message at a time from ``queue`` for ``function``."""

    def __init__(
        self,
        *,
        function: HostedFunction,
        queue: str,
        queues: QueueStore,
        visibility_seconds: int,
        poll_seconds: float,
        max_dequeue_count: int,
        workers: int,
    ) -> None:
        self._function = function
        self._queue = queue
        self._queues = queues
        self._visibility = visibility_seconds
        self._poll_seconds = poll_seconds
        self._max_dequeue = max_dequeue_count
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"devhost-queue-{queue}-{n}", daemon=True)
            for n in range(workers)
        ]

    @property
    def poison_queue(self) -> str:
        return f"{self._queue}-poison"

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout / max(1, len(self._threads)))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                messages = self._queues.receive(
                    self._queue, max_messages=1, visibility_timeout=self._visibility
                )
            except Exception:
                log.exception("receiving from queue %s failed", self._queue)
                messages = []
            if not messages:
                self._stopping.wait(self._poll_seconds)
                continue
            for message in messages:
                try:
                    self.process(message)
                except Exception:
                    # The message reappears after its visibility timeout.
                    log.exception("handling message %s failed", message.id)

    def process(self, message: QueueMessage) -> None:
        if message.dequeue_count > self._max_dequeue:
            # A crash mid-invocation can leave a message past its budget.
            self._poison(message)
            return
        decoded = QueueMessageInConverter.decode(
            Datum(type="string", value=message.content),
            trigger_metadata=trigger_metadata(message, self._visibility),
        )
        context = InvocationContext(
            function_name=self._function.name, function_directory=self._function.directory
        )
        try:
            call_function(self._function, decoded, context)
        except Exception:
            log.exception(
                "queue function %s failed on message %s (dequeue %d of %d)",
                self._function.name,
                message.id,
                message.dequeue_count,
                self._max_dequeue,
                extra={"queue": self._queue, "message_id": message.id},
            )
            if message.dequeue_count >= self._max_dequeue:
                self._poison(message)
            return
        try:
            self._queues.delete(self._queue, message)
        except NotFoundError:
            log.warning(
                "message %s was redelivered before %s finished; it will run again",
                message.id,
                self._function.name,
                extra={"queue": self._queue, "message_id": message.id},
            )

    def _poison(self, message: QueueMessage) -> None:
        self._queues.send(self.poison_queue, message.content)
        try:
            self._queues.delete(self._queue, message)
        except NotFoundError:
            return
        log.warning(
            "message %s moved to %s after %d dequeues",
            message.id,
            self.poison_queue,
            message.dequeue_count,
            extra={"queue": self._queue, "message_id": message.id},
        )
