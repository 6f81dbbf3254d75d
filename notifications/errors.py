"""Errors of the notifications API and jobs (beside the URL policy's, in
:mod:`notifications.addresses`)."""

from __future__ import annotations

from typing import ClassVar

from processing.extraction.errors import DependencyError, ProcessingError


class UnsupportedEventTypeError(ProcessingError):
    """A subscription asked for an event type the app does not send (HTTP 422)."""

    code: ClassVar[str] = "unsupported_event_type"


class DeliveryStateError(ProcessingError):
    """The delivery or its target is in a state that forbids the request
    (HTTP 409); ``reason`` is the problem's code."""

    code: ClassVar[str] = "conflict"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class AttemptInProgressError(DependencyError):
    """Another copy of this job holds the attempt; try again after its lease."""

    code: ClassVar[str] = "attempt_in_progress"
