"""RFC 9457 problem details, and the registry that maps errors to them.

A :class:`ProblemRegistry` maps exception types to HTTP statuses; the most
specific registered type in an error's MRO wins. :data:`KERNEL_PROBLEMS`
holds the kernel's errors; each capability extends it with its own
(``processing.problems``, ``notifications.problems``), and an error no
registry knows is a 500 whose details stay in the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from kernel.auth.errors import ForbiddenError, UnauthenticatedError
from kernel.errors import (
    AppError,
    ConflictError,
    DependencyError,
    InvalidValueError,
    NotFoundError,
    QuotaExceededError,
    RequestError,
    UnsealError,
)

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem detail; ``code`` is this API's stable error code."""

    status: int
    code: str
    detail: str
    headers: Mapping[str, str] | None = None
    #: RFC 9457 extension members (after the standard ones; they never replace them).
    extensions: Mapping[str, Any] | None = None

    def body(self, instance: str | None = None) -> bytes:
        document: dict[str, Any] = {
            "type": "about:blank",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            document["instance"] = instance
        for name, value in (self.extensions or {}).items():
            document.setdefault(name, value)
        return json.dumps(document).encode()


INTERNAL_ERROR = Problem(500, "internal_error", "an unexpected error occurred")


@dataclass(frozen=True, slots=True)
class _Entry:
    status: int
    #: A fixed code and detail replace the error's own (for errors whose
    #: message is for the log, not the caller).
    code: str | None = None
    detail: str | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ProblemRegistry:
    """Exception types and the problems they become; immutable, extended by copy."""

    _entries: Mapping[type[BaseException], _Entry] = field(default_factory=dict)

    def extend(
        self,
        statuses: Mapping[type[BaseException], int],
        *,
        code: str | None = None,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ProblemRegistry:
        """A registry that also maps each type in ``statuses`` to its status."""
        added = {error: _Entry(status, code, detail, headers) for error, status in statuses.items()}
        return ProblemRegistry({**self._entries, **added})

    def problem_for(self, error: BaseException) -> Problem | None:
        """The problem for ``error``, or None when no registered type matches."""
        for kind in type(error).__mro__:
            entry = self._entries.get(kind)
            if entry is not None:
                return Problem(
                    entry.status,
                    entry.code or str(getattr(error, "code", "error")),
                    entry.detail or str(getattr(error, "message", "")),
                    entry.headers,
                )
        return None


KERNEL_PROBLEMS = (
    ProblemRegistry()
    # An app error of a kind no capability registered: the request could not be
    # processed as given.
    .extend({AppError: 422})
    .extend({RequestError: 400, InvalidValueError: 400, NotFoundError: 404, ConflictError: 409})
    .extend({UnauthenticatedError: 401}, headers={"WWW-Authenticate": "Bearer"})
    .extend({ForbiddenError: 403, QuotaExceededError: 403})
    .extend({UnsealError: 500})
    .extend(
        {DependencyError: 503},
        code="service_unavailable",
        detail="a storage or messaging dependency is unavailable; retry shortly",
        headers={"Retry-After": "5"},
    )
)
