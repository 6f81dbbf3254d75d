"""Delivery jobs: one queue message per attempt of one delivery.

A job names a delivery, an attempt number and a run (a replay starts a new
run), and when it is due. Running one is idempotent (see
:mod:`notifications.delivery`), so a job that is delivered twice, or a second
job for the same attempt, is harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kernel.storage.ports import QueueStore
from notifications.records import split_delivery_id


class InvalidJobError(ValueError):
    """A queue message that is not a delivery job."""


@dataclass(frozen=True, slots=True)
class Job:
    target_id: str
    digest: str
    attempt: int
    run: int
    due: float  # epoch seconds

    @property
    def delivery_id(self) -> str:
        return f"{self.target_id}.{self.digest}"

    def to_message(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "target": self.target_id,
                "digest": self.digest,
                "attempt": self.attempt,
                "run": self.run,
                "due": round(self.due, 3),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_message(cls, text: str) -> Job:
        try:
            doc = json.loads(text)
            job = cls(
                target_id=str(doc["target"]),
                digest=str(doc["digest"]),
                attempt=int(doc["attempt"]),
                run=int(doc["run"]),
                due=float(doc["due"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidJobError("not a webhook delivery job") from None
        if split_delivery_id(job.delivery_id) is None or job.attempt < 1:
            raise InvalidJobError("a job for no valid delivery")
        return job


class JobQueue:
    """The delivery queue: jobs in, hidden until due."""

    def __init__(self, queues: QueueStore, queue: str) -> None:
        self._queues = queues
        self._queue = queue

    def enqueue(self, job: Job, delay: float) -> None:
        # Visibility is in whole seconds: round down, and the job waits out the rest.
        self._queues.send(self._queue, job.to_message(), visibility_timeout=max(0, int(delay)))
