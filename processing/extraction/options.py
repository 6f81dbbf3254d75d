"""What the pipeline's offline analysis does beyond its defaults (settings, not limits)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """Offline providers run inside the pipeline (and so inside the isolated worker).

    ``spacy_model``: a spaCy pipeline (package name or path) whose named entities
    join the pattern recognisers' (``SPACY_MODEL``); ``None``: none.
    """

    spacy_model: str | None = None
    detect_language: bool = True
