"""How the search capability's errors become HTTP problems."""

from __future__ import annotations

from kernel.http.problems import KERNEL_PROBLEMS
from search.errors import EmbeddingsNotConfiguredError, QueryError, SearchUnavailableError

PROBLEMS = KERNEL_PROBLEMS.extend({QueryError: 400, EmbeddingsNotConfiguredError: 501}).extend(
    {SearchUnavailableError: 503},
    code="search_unavailable",
    detail="the search engine is unavailable or busy; retry shortly",
    headers={"Retry-After": "5"},
)
