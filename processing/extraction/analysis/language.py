"""Offline language detection: the document's main language as ISO 639-1, with a confidence.

``py3langid`` (a maintained fork of langid.py, BSD licence) ships its naive Bayes
model over byte n-grams inside the wheel, so nothing is downloaded at run time;
it knows 97 languages. Alternatives checked: ``pycld2`` (CLD2, faster to load, but
it reports the share of text per language rather than a probability and refuses
some inputs as invalid UTF-8), ``lingua`` (accurate, but its wheel and memory are
an order of magnitude larger) and ``fasttext``-based detectors (the model is a
separate download).

The detector reads at most :data:`SAMPLE_CHARS` characters, spread over
:data:`SAMPLE_PARTS` excerpts of the text (its start, middle and end), so a long
document costs the same as a short one and a cover page in another language
does not decide alone. Its probabilities are normalised over the languages it
knows; :data:`MIN_CONFIDENCE` is the floor below which no language is reported.
"""

from __future__ import annotations

import re
import threading
from typing import Any

#: Characters read per document, and in how many evenly spaced excerpts.
SAMPLE_CHARS = 6_000
SAMPLE_PARTS = 3
#: Below this probability the text is reported as of no known language.
MIN_CONFIDENCE = 0.5
# Letters in any script: a text without them (numbers, symbols) has no language.
_LETTER = re.compile(r"[^\W\d_]")

_lock = threading.Lock()
_identifier: list[Any] = []


def load_model() -> Any:
    """The py3langid identifier, loaded once per process (about 0.8 s: the model is
    decompressed), with probabilities normalised."""
    with _lock:
        if not _identifier:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
        return _identifier[0]


def detect_language(text: str) -> tuple[str, float] | None:
    """``(ISO 639-1 code, confidence)`` of ``text``'s main language, or ``None`` when
    the text has no letters or no language reaches :data:`MIN_CONFIDENCE`."""
    sample = _sample(text)
    if _LETTER.search(sample) is None:
        return None
    language, confidence = load_model().classify(sample)
    confidence = round(float(confidence), 4)
    if confidence < MIN_CONFIDENCE or not isinstance(language, str) or language == "und":
        return None
    return language, confidence


def _sample(text: str) -> str:
    if len(text) <= SAMPLE_CHARS:
        return text
    size = SAMPLE_CHARS // SAMPLE_PARTS
    step = (len(text) - size) / (SAMPLE_PARTS - 1)
    parts = []
    for index in range(SAMPLE_PARTS):
        start = round(index * step)
        # Whole words: move the cut to the next space.
        space = text.find(" ", start, start + 64)
        start = space + 1 if space >= 0 and index else start
        parts.append(text[start : start + size])
    return "\n".join(parts)
