"""Web ingestion's errors, in the kernel's tree (:mod:`kernel.errors`)."""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import AppError, RequestError


class RobotsDisallowedError(AppError):
    """robots.txt of the site does not let this crawler fetch the URL."""

    code: ClassVar[str] = "robots_disallowed"


class UnsupportedPageError(AppError):
    """A fetched answer that is no document this app processes (or no 2xx answer)."""

    code: ClassVar[str] = "unsupported_page"


class UpstreamStatusError(AppError):
    """The site answered with an error status."""

    code: ClassVar[str] = "upstream_status"

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class InvalidCrawlError(RequestError):
    code: ClassVar[str] = "invalid_crawl"


class InvalidBatchError(RequestError):
    code: ClassVar[str] = "invalid_batch"


class BatchTooLargeError(RequestError):
    code: ClassVar[str] = "batch_too_large"
