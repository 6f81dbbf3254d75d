"""Optional offline named entities from an installed spaCy pipeline (``SPACY_MODEL``).

The app never depends on spaCy: it is imported only when a pipeline is named,
and a missing package or pipeline becomes a ``spacy_unavailable`` warning on
the result rather than a failed document. Any pipeline with an ``ner`` or
``entity_ruler`` component works; its labels are mapped onto the result's types
(:data:`LABELS`: OntoNotes labels of the English pipelines, and ``PER``/``LOC``/
``ORG`` of the WikiNER-trained ones such as German and French). Numeric labels
(dates, money, percentages, quantities) are left to the pattern recognisers,
which validate and normalise them; ``MISC`` says too little to be useful.

Text is fed to spaCy in chunks of at most :data:`CHUNK_CHARS` characters cut at
paragraph or line breaks (spaCy refuses texts over ``nlp.max_length`` and its
memory grows with the text), and offsets are mapped back to the whole text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from processing.extraction.result import Entity

log = logging.getLogger(__name__)

SOURCE = "spacy"
CHUNK_CHARS = 100_000

#: spaCy label -> (type, subtype).
LABELS: dict[str, tuple[str, str | None]] = {
    "PERSON": ("person", None),
    "PER": ("person", None),
    "ORG": ("organization", None),
    "GPE": ("location", "gpe"),
    "LOC": ("location", None),
    "FAC": ("location", "structural"),
    "NORP": ("person_type", "group"),
    "EVENT": ("event", None),
    "PRODUCT": ("product", None),
    "WORK_OF_ART": ("product", "work_of_art"),
    "LAW": ("law", None),
    "LANGUAGE": ("language", None),
}


class SpacyUnavailableError(Exception):
    """spaCy or the named pipeline is not installed, or the pipeline cannot be loaded."""


_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def load_pipeline(name: str) -> Any:
    """The spaCy pipeline ``name`` (a package name or a path), loaded once per process."""
    with _lock:
        if name not in _loaded:
            try:
                import spacy
            except ImportError as exc:
                raise SpacyUnavailableError("spaCy is not installed") from exc
            try:
                _loaded[name] = spacy.load(name)
            except (OSError, ValueError, ImportError) as exc:
                message = f"the spaCy pipeline {name!r} cannot be loaded"
                raise SpacyUnavailableError(message) from exc
        return _loaded[name]


class SpacyRecognizer:
    """A :class:`~processing.extraction.analysis.recognizers.Recognizer` backed by spaCy."""

    name = SOURCE

    def __init__(self, pipeline: Any) -> None:
        self._nlp = pipeline

    def recognize(self, text: str) -> Iterator[Entity]:
        for offset, chunk in _chunks(text, CHUNK_CHARS):
            for span in self._nlp(chunk).ents:
                mapped = LABELS.get(span.label_)
                surface = span.text
                if mapped is None or not surface.strip():
                    continue
                start, end = offset + span.start_char, offset + span.end_char
                yield Entity(
                    mapped[0], surface, surface, start, end, subtype=mapped[1], source=SOURCE
                )


def _chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """``(offset, chunk)`` pieces of at most ``size`` characters, cut at a blank line,
    else a line break, else a space, else anywhere."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            for separator in ("\n\n", "\n", " "):
                cut = text.rfind(separator, start + size // 2, end)
                if cut > start:
                    end = cut + len(separator)
                    break
        yield start, text[start:end]
        start = end
