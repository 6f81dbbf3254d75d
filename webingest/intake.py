"""Handing fetched pages and uploaded files to the document workflow.

:class:`DocumentIntake` is the port; :class:`UploadIntake` is its adapter on
the workflow's upload path (:class:`processing.uploads.UploadService`), so a
page is stored, recorded and announced exactly like an upload.
"""

from __future__ import annotations

from typing import Protocol

from processing.records import DocumentRecord, WebSource
from processing.uploads import UploadService


class DocumentIntake(Protocol):
    def accept(
        self,
        data: bytes,
        filename: str | None,
        *,
        owner: str,
        source: WebSource | None = None,
        traceparent: str | None = None,
    ) -> DocumentRecord:
        """Store and announce a document; DocumentError subclasses for bad bytes."""
        ...


class UploadIntake:
    def __init__(self, uploads: UploadService) -> None:
        self._uploads = uploads

    def accept(
        self,
        data: bytes,
        filename: str | None,
        *,
        owner: str,
        source: WebSource | None = None,
        traceparent: str | None = None,
    ) -> DocumentRecord:
        return self._uploads.accept(
            data, filename, owner=owner, traceparent=traceparent, web=source
        )
