"""Extractive summary (to be implemented)."""

from __future__ import annotations

from processing.models import Summary


def summarize(text: str, *, max_sentences: int = 5) -> Summary:
    raise NotImplementedError
