"""The error base every capability's errors derive from, and the shared branches.

Every error the app raises on purpose has a stable ``code`` (what API
callers, records and events see) and a message safe to show the caller.
Permanent and transient failures are different types: a permanent one is
answered or recorded and never retried; a transient one (``DependencyError``
and below) is retried by whoever delivered the work (Event Grid, the queue,
the client after a 503).

AppError                     base of every error the app raises on purpose
├── RequestError             ``bad_request``: the request is malformed
├── NotFoundError            ``not_found``: no such blob, row, message or id
├── ConflictError            ``conflict``: a key is taken, or an ETag-guarded
│                            write lost its race
├── InvalidValueError        ``invalid_value``: a value storage would refuse
│   └── InvalidNameError     ``invalid_name``: a container, table, key or
│                            property name storage would refuse
├── InvalidEventError        ``invalid_event``: an inbound event lacks what its
│                            type requires
├── SettingsError            ``invalid_setting``: a setting the app cannot use
├── QuotaExceededError       ``quota_exceeded``: the owner holds as many of a
│                            kind of record as its quota allows (HTTP 403)
├── UnsealError              ``secret_unreadable``: a sealed secret does not open
│                            (its key left ``SECRETS_KEY``, or it was altered)
└── DependencyError          transient: storage, events or the network failed
    └── LeaseHeldError       ``lease_held``: another invocation holds the work
        └── ClaimLostError   ``claim_lost``: another invocation took it first

Capabilities add their own branches (``processing.errors``,
``notifications.errors``, ...). The extraction core (``processing.extraction``)
imports nothing of the app, so its errors form a tree of their own rooted at
``processing.extraction.errors.ExtractionError``; the HTTP problem registry
(:mod:`kernel.http.problems`) maps both.
"""

from __future__ import annotations

from typing import ClassVar


class AppError(Exception):
    """Base of every error the app raises on purpose."""

    code: ClassVar[str] = "app_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class RequestError(AppError):
    """The request itself is malformed (HTTP 400)."""

    code: ClassVar[str] = "bad_request"


class NotFoundError(AppError):
    """The blob, row, message or id does not exist, or is not the caller's to see."""

    code: ClassVar[str] = "not_found"


class ConflictError(AppError):
    """An insert found the key taken, or an ETag-guarded write lost the race."""

    code: ClassVar[str] = "conflict"


class InvalidValueError(AppError, ValueError):
    """An argument the storage service would refuse: permanent, do not retry."""

    code: ClassVar[str] = "invalid_value"


class InvalidNameError(InvalidValueError):
    """A container, table, queue, blob, key or property name the store cannot use."""

    code: ClassVar[str] = "invalid_name"


class InvalidEventError(AppError, ValueError):
    """An inbound event lacks what its type requires; retrying will not help."""

    code: ClassVar[str] = "invalid_event"


class SettingsError(AppError, ValueError):
    """A setting holds a value the app cannot use."""

    code: ClassVar[str] = "invalid_setting"


class QuotaExceededError(AppError):
    """The owner already holds as many documents or subscriptions as a setting
    allows; deleting some makes room (HTTP 403, not retried)."""

    code: ClassVar[str] = "quota_exceeded"


class UnsealError(AppError):
    """A secret sealed at rest (:mod:`kernel.sealing`) cannot be opened: its key
    left ``SECRETS_KEY`` or the stored value was altered. Permanent: the
    operator must restore the key."""

    code: ClassVar[str] = "secret_unreadable"


class DependencyError(AppError):
    """A transient failure of something the app depends on; retrying may succeed."""

    code: ClassVar[str] = "dependency_unavailable"


class LeaseHeldError(DependencyError):
    """Another invocation holds the lease on this work; try again once it ends."""

    code: ClassVar[str] = "lease_held"


class ClaimLostError(LeaseHeldError):
    """Another invocation claimed the work between our read and our write."""

    code: ClassVar[str] = "claim_lost"
