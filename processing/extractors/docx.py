"""DOCX extraction (to be implemented)."""

from __future__ import annotations

from processing.limits import Deadline, Limits
from processing.models import Extraction


def extract_docx(data: bytes, limits: Limits, deadline: Deadline) -> Extraction:
    raise NotImplementedError
