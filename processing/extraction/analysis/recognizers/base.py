"""The recogniser interface every entity family implements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from processing.extraction.result import Entity


class Recognizer(Protocol):
    """Finds entities of one family in a text.

    Implementations are deterministic for a given text, and every entity they
    return carries offsets into that text. Candidates may overlap each other;
    :class:`processing.extraction.analysis.entities.EntityRecognizer` resolves overlaps.
    """

    @property
    def name(self) -> str:
        """A short, stable name for logs and configuration."""
        ...

    def recognize(self, text: str) -> Iterable[Entity]:
        """Every candidate entity in ``text``."""
        ...
