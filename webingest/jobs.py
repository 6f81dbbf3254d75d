"""The frontier queue: one message per URL to fetch, for crawls and batches.

A message names a crawl's URL row (``crawl``, ``key``) or a batch item
(``batch``, ``item``); everything else is read from the table, so a message
delivered twice finds its work already done.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from kernel.storage.ports import QueueStore

#: Azure Storage queues hide a message for at most seven days.
MAX_DELAY_SECONDS = 7 * 24 * 3600


class InvalidJobError(ValueError):
    """A queue message that is no frontier job."""


@dataclass(frozen=True, slots=True)
class FrontierJob:
    kind: str  # "crawl" or "batch"
    owner_id: str  # the crawl or batch id
    key: str  # the URL key, or the item index

    def to_message(self) -> str:
        return json.dumps({"v": 1, "kind": self.kind, "id": self.owner_id, "key": self.key})

    @classmethod
    def from_message(cls, text: str) -> FrontierJob:
        try:
            doc = json.loads(text)
            job = cls(kind=str(doc["kind"]), owner_id=str(doc["id"]), key=str(doc["key"]))
        except (ValueError, KeyError, TypeError):
            raise InvalidJobError("not a frontier job") from None
        if job.kind not in ("crawl", "batch") or not job.owner_id or not job.key:
            raise InvalidJobError("not a frontier job")
        return job


class Frontier:
    def __init__(self, queues: QueueStore, queue: str) -> None:
        self._queues = queues
        self._queue = queue

    def push(self, job: FrontierJob, delay: float = 0.0) -> None:
        # Visibility is in whole seconds: round up, so a host's interval is never cut short.
        seconds = min(MAX_DELAY_SECONDS, max(0, math.ceil(delay)))
        self._queues.send(self._queue, job.to_message(), visibility_timeout=seconds)
