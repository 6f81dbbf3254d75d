"""Keyword extraction (to be implemented)."""

from __future__ import annotations

from processing.models import Keyword


def extract_keywords(text: str, *, top: int = 10) -> tuple[Keyword, ...]:
    raise NotImplementedError
