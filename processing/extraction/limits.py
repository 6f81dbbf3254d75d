"""Resource limits for untrusted documents, and a cooperative deadline.

Limits are checked before the expensive work they guard: size before
detection, ZIP totals before XML parsing, page count before text extraction,
text length before entity recognition and summarisation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from processing.extraction.errors import ProcessingTimeoutError

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Every limit the pipeline enforces; defaults suit a public API."""

    #: Largest document accepted, in bytes (``too_large`` beyond it).
    max_document_bytes: int = 100 * MIB
    #: Most pages read from a PDF (``limits_exceeded`` beyond it).
    max_pages: int = 5_000
    #: DOCX (ZIP) checks, made from the central directory before parsing.
    max_zip_entries: int = 5_000
    max_zip_uncompressed_bytes: int = 512 * MIB
    max_zip_part_bytes: int = 256 * MIB
    #: Largest ratio of uncompressed to compressed size, for the archive as a
    #: whole and for any single part larger than ``zip_ratio_floor_bytes``.
    max_zip_ratio: float = 100.0
    zip_ratio_floor_bytes: int = 1 * MIB
    #: Most characters of text kept from a document.
    max_text_chars: int = 50_000_000
    #: Most characters handed to entity recognition and summarisation.
    max_analysis_chars: int = 5_000_000
    #: Most entities returned.
    max_entities: int = 10_000
    #: Wall-clock budget for one document, in seconds.
    timeout_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class IsolationLimits:
    """Limits of isolated parsing; every worker serves exactly one document."""

    memory_bytes: int = 1024 * MIB
    cpu_seconds: int = 60
    #: Documents parsed at once (each in its own worker process).
    workers: int = 2
    #: What a worker runs, as ``module:function`` with run_pipeline's signature.
    target: str = "processing.extraction.pipeline:run_pipeline"


class Deadline:
    """A point in monotonic time after which work stops with ``timeout``.

    Extractors call :meth:`check` between units of work (pages, parts) so a
    slow document fails cleanly instead of running on.
    """

    __slots__ = ("_at", "_seconds")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._at = time.monotonic() + seconds

    @classmethod
    def never(cls) -> Deadline:
        return cls(float("inf"))

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def check(self) -> None:
        if time.monotonic() > self._at:
            raise ProcessingTimeoutError(
                f"processing took longer than the {self._seconds:g} s limit"
            )
