"""How web ingestion's errors become HTTP problems."""

from __future__ import annotations

from kernel.egress.addresses import UrlRejectedError
from kernel.egress.fetch import FetchError, FetchTimeoutError, FetchTooLargeError
from processing.problems import PROBLEMS as DOCUMENT_PROBLEMS
from webingest.errors import (
    BatchTooLargeError,
    RobotsDisallowedError,
    UnsupportedPageError,
    UpstreamStatusError,
)

PROBLEMS = DOCUMENT_PROBLEMS.extend(
    {
        UrlRejectedError: 400,
        RobotsDisallowedError: 403,
        FetchError: 502,
        UpstreamStatusError: 502,
        FetchTimeoutError: 504,
        FetchTooLargeError: 413,
        UnsupportedPageError: 415,
        BatchTooLargeError: 413,
    }
)
