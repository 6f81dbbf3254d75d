"""Errors of the search capability.

AppError (kernel.errors)
├── QueryError                   a query or filter the API refuses (HTTP 400),
│                                with its own code (``empty_query``,
│                                ``query_too_long``, ``invalid_filter``, ...)
├── EmbeddingsNotConfiguredError ``embeddings_not_configured`` (HTTP 501)
└── UnindexableResultError       ``unindexable_result``: the stored result is
                                 not a result this version reads (permanent)
DependencyError (kernel.errors)
├── SearchUnavailableError       ``search_unavailable``: the engine failed or throttled
└── EmbeddingsUnavailableError   ``embeddings_unavailable``: the provider failed
"""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import AppError, DependencyError, RequestError


class QueryError(RequestError):
    """A query, filter or paging parameter the API refuses."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        # Each refusal names its own code; the problem registry reads the instance's.
        vars(self)["code"] = code


class EmbeddingsNotConfiguredError(AppError):
    """A vector query when no embeddings provider is configured (HTTP 501)."""

    code: ClassVar[str] = "embeddings_not_configured"


class UnindexableResultError(AppError):
    """The stored result cannot be read as a processing result: retrying will not help."""

    code: ClassVar[str] = "unindexable_result"


class SearchUnavailableError(DependencyError):
    """The search engine failed, throttled or timed out; the work is retried."""

    code: ClassVar[str] = "search_unavailable"


class EmbeddingsUnavailableError(DependencyError):
    """The embeddings provider failed after its retries; the work is retried."""

    code: ClassVar[str] = "embeddings_unavailable"
