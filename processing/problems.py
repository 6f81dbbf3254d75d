"""How the document workflow's errors become HTTP problems."""

from __future__ import annotations

from kernel.http.problems import KERNEL_PROBLEMS
from processing.errors import NotFinishedError
from processing.extraction.errors import (
    CorruptDocumentError,
    DocumentError,
    EmptyDocumentError,
    TooLargeError,
    UnsupportedTypeError,
)

PROBLEMS = KERNEL_PROBLEMS.extend(
    {
        # Any other document error a request meets (upload checks run only
        # detection): the bytes cannot be processed as given.
        DocumentError: 422,
        EmptyDocumentError: 400,
        TooLargeError: 413,
        UnsupportedTypeError: 415,
        CorruptDocumentError: 415,
        NotFinishedError: 409,
    }
)
