"""Errors of the document workflow, beside the extraction core's.

The workflow raises the extraction core's :class:`DocumentError` tree for
documents that cannot be processed (``processing.extraction.errors``), the
kernel's errors for storage and events (:mod:`kernel.errors`), and these:

DocumentError (processing.extraction.errors)
├── SourceMissingError     code ``source_missing``: the bytes were deleted
│                          before processing (a terminal ``failed`` outcome)
└── AttemptsExhaustedError code ``attempts_exhausted``: the document was
                           attempted PROCESSING_MAX_ATTEMPTS times without an
                           outcome (a worker or host died each time)
AppError (kernel.errors)
└── NotFinishedError       code ``not_finished``: a result was asked for
                           before the document completed (HTTP 409)
"""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import AppError
from processing.extraction.errors import DocumentError


class SourceMissingError(DocumentError):
    code: ClassVar[str] = "source_missing"


class AttemptsExhaustedError(DocumentError):
    code: ClassVar[str] = "attempts_exhausted"


class NotFinishedError(AppError):
    """The document has no result (yet): it is queued, processing or failed."""

    code: ClassVar[str] = "not_finished"
