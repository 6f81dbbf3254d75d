"""Errors raised by the extraction core.

Every failure that leaves :func:`processing.extraction.pipeline.run_pipeline`
(or the isolated pool that runs it) is one of these, each with a stable
``code`` that callers map to statuses, HTTP problems and events. The core
imports nothing of the app, so this tree stands on its own beside the
app's (:mod:`kernel.errors`).

ExtractionError                    base of everything this package raises
├── DocumentError                  permanent: the document itself is the problem;
│   │                              retrying the same bytes gives the same answer
│   ├── EmptyDocumentError         code ``empty``
│   ├── UnsupportedTypeError       code ``unsupported_type``
│   ├── CorruptDocumentError       code ``corrupt``
│   ├── EncryptedDocumentError     code ``encrypted``
│   ├── TooLargeError              code ``too_large``
│   ├── LimitsExceededError        code ``limits_exceeded``
│   └── ProcessingTimeoutError     code ``timeout``
└── WorkerUnavailableError         transient: a parsing worker process could not
                                   be started; retrying may succeed
"""

from __future__ import annotations

from typing import ClassVar


class ExtractionError(Exception):
    """Base of every error raised by the extraction core."""

    code: ClassVar[str] = "extraction_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class DocumentError(ExtractionError):
    """A permanent failure caused by the document's content."""

    code: ClassVar[str] = "document_error"


class EmptyDocumentError(DocumentError):
    code: ClassVar[str] = "empty"


class UnsupportedTypeError(DocumentError):
    code: ClassVar[str] = "unsupported_type"


class CorruptDocumentError(DocumentError):
    code: ClassVar[str] = "corrupt"


class EncryptedDocumentError(DocumentError):
    code: ClassVar[str] = "encrypted"


class TooLargeError(DocumentError):
    code: ClassVar[str] = "too_large"


class LimitsExceededError(DocumentError):
    code: ClassVar[str] = "limits_exceeded"


class ProcessingTimeoutError(DocumentError):
    code: ClassVar[str] = "timeout"


class WorkerUnavailableError(ExtractionError):
    """A transient failure to start a worker process for isolated parsing."""

    code: ClassVar[str] = "worker_unavailable"


_DOCUMENT_ERRORS: tuple[type[DocumentError], ...] = (
    EmptyDocumentError,
    UnsupportedTypeError,
    CorruptDocumentError,
    EncryptedDocumentError,
    TooLargeError,
    LimitsExceededError,
    ProcessingTimeoutError,
)
_BY_CODE: dict[str, type[DocumentError]] = {cls.code: cls for cls in _DOCUMENT_ERRORS}
DOCUMENT_ERROR_CODES: tuple[str, ...] = tuple(_BY_CODE)


def document_error_from_code(code: str, message: str) -> DocumentError:
    """Rebuild a typed document error from its code (e.g. across a process boundary)."""
    return _BY_CODE.get(code, CorruptDocumentError)(message)
