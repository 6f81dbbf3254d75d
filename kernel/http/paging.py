"""Paging for list routes: ``?limit=&after=`` in, a page with a ``next`` link out.

Lists are ordered by a key (newest first, or creation order), and a page
ends with the key of its last item; the next page starts after it. A route
asks its repository for ``limit + 1`` items (:attr:`PageRequest.fetch`):
the extra one only tells whether a next page exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from kernel.errors import RequestError

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_PAGE_SIZE
    after: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> PageRequest:
        """``limit`` and ``after`` from the query; RequestError when malformed."""
        raw = params.get("limit", "")
        try:
            limit = int(raw) if raw else DEFAULT_PAGE_SIZE
        except ValueError:
            raise RequestError("limit must be a whole number") from None
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise RequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        return cls(limit, params.get("after") or None)

    @property
    def fetch(self) -> int:
        """How many items to ask the repository for."""
        return self.limit + 1

    def page(
        self,
        fetched: Sequence[T],
        *,
        cursor: Callable[[T], str],
        path: str,
        query: Mapping[str, str | None] | None = None,
    ) -> Page[T]:
        """The page of ``fetched`` (at most :attr:`fetch` items) and its next link,
        which keeps ``query`` (unset values left out)."""
        items = list(fetched[: self.limit])
        next_link = None
        if len(fetched) > self.limit and items:
            params = {"limit": str(self.limit), "after": cursor(items[-1])}
            params.update({k: v for k, v in (query or {}).items() if v is not None})
            next_link = f"{path}?{urlencode(params)}"
        return Page(items, next_link)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None

    def to_api(self, render: Callable[[T], Any]) -> dict[str, Any]:
        return {"items": [render(item) for item in self.items], "next": self.next}
