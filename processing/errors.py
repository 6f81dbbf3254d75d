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
QuotaExceededError (kernel.errors)
└── DocumentQuotaError     code ``quota_exceeded``: the owner already stores
                           DOCUMENTS_MAX_PER_OWNER documents (HTTP 403)
AppError (kernel.errors)
├── NotFinishedError       code ``not_finished``: a result was asked for
│                          before the document completed (HTTP 409)
└── RequestError (kernel.errors)
    ├── MalformedUploadError  code ``malformed_upload``: a multipart body that is
    │                         incomplete, has no or two file parts, or a file
    │                         part without a name (HTTP 400)
    └── WebhookLoopError      code ``webhook_loop``: the app's own webhook notice
                              sent to its upload route (HTTP 400)
"""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import AppError, QuotaExceededError, RequestError
from processing.extraction.errors import DocumentError


class SourceMissingError(DocumentError):
    code: ClassVar[str] = "source_missing"


class AttemptsExhaustedError(DocumentError):
    code: ClassVar[str] = "attempts_exhausted"


class DocumentQuotaError(QuotaExceededError):
    """The owner stores as many documents as DOCUMENTS_MAX_PER_OWNER allows."""


class NotFinishedError(AppError):
    """The document has no result (yet): it is queued, processing or failed."""

    code: ClassVar[str] = "not_finished"


class MalformedUploadError(RequestError):
    """An upload the app cannot accept whole: nothing of it is stored."""

    code: ClassVar[str] = "malformed_upload"


class WebhookLoopError(RequestError):
    """A notice this app sent, arriving back as an upload."""

    code: ClassVar[str] = "webhook_loop"
