"""Entity recognition: a composite of small, offline, deterministic recognisers.

The built-in recognisers (``processing.extraction.analysis.recognizers``) find emails,
URLs, phone numbers, dates, money, percentages, IBANs, payment cards and IP
addresses. They favour precision over recall: every match is validated
(checksums, calendars, the ``ipaddress`` module, phone metadata), and a
doubtful match is dropped rather than reported.

Every entity has a ``type``, the exact source ``text`` (payment cards are the
exception: their digits are masked, see ``recognizers.banking``), a normalised
``value`` and ``start``/``end`` offsets into the analysed text.

Overlaps are resolved by :func:`resolve_overlaps`, for the built-in
recognisers and for the merge of every provider's entities
(:func:`merge_entities`: patterns, spaCy, Azure AI Language): a candidate of a
more specific type wins (:data:`TYPE_PRIORITY`: an IBAN over a phone number
inside it, a URL over an email inside it, a date over a phone; validated
pattern types over named-entity types), then the higher confidence, then the
longer span, then the earlier one. Kept offsets never cross; results are
sorted by ``start``.

Other providers
---------------
spaCy (``processing.extraction.analysis.spacy_ner``) is one more recogniser,
run in the pipeline when ``SPACY_MODEL`` names a pipeline. Cloud providers
(Azure AI Language) run in the host process after the pipeline
(``processing.enrichment``, which may hold credentials and reach the network)
and merge their entities into the result with :func:`merge_entities`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from processing.extraction.analysis.recognizers import Recognizer, builtin_recognizers
from processing.extraction.result import Entity

__all__ = [
    "TYPE_PRIORITY",
    "EntityRecognizer",
    "Recognizer",
    "default_recognizer",
    "merge_entities",
    "recognize_entities",
    "resolve_overlaps",
    "set_default_recognizer",
]

#: Entity types from most to least specific; the earlier type wins an overlap.
TYPE_PRIORITY: tuple[str, ...] = (
    "iban",
    "payment_card",
    "url",
    "email",
    "ip_address",
    "date",
    "money",
    "percent",
    "phone",
)
# Offsets and lengths fit in 47 bits (texts are far shorter), which lets
# resolve_overlaps pack its sort key into one integer.
_MAX_OFFSET = 1 << 47
# Confidence is compared in millionths.
_CONFIDENCE_STEPS = 1_000_000


class EntityRecognizer:
    """Runs a sequence of recognisers and merges their candidates."""

    def __init__(
        self,
        recognizers: Sequence[Recognizer],
        *,
        priority: Sequence[str] = TYPE_PRIORITY,
    ) -> None:
        self._recognizers = tuple(recognizers)
        self._rank = {entity_type: rank for rank, entity_type in enumerate(priority)}

    @property
    def recognizers(self) -> tuple[Recognizer, ...]:
        return self._recognizers

    def recognize(self, text: str, *, max_entities: int) -> tuple[Entity, ...]:
        """Non-overlapping entities of ``text`` sorted by start, at most ``max_entities``."""
        if max_entities <= 0 or not text:
            return ()
        candidates: set[Entity] = set()
        for recognizer in self._recognizers:
            candidates.update(recognizer.recognize(text))
        return resolve_overlaps(candidates, self._rank)[:max_entities]


def resolve_overlaps(candidates: Iterable[Entity], rank: dict[str, int]) -> tuple[Entity, ...]:
    """Keep one entity per overlapping group, sorted by start offset.

    Candidates are taken greedily from the most preferred: the lowest ``rank``
    of their type (unknown types, such as the named-entity types of spaCy and
    Azure AI Language, last), then the highest confidence (pattern matches have
    none and count as certain), then the longest, then the earliest; a candidate
    overlapping one already kept is dropped, so kept offsets never cross.
    """
    unranked = len(rank)

    def preference(entity: Entity) -> tuple[int, str, str, str, str]:
        # Rank, confidence, longest, earliest, packed in one integer so that
        # sorting many candidates compares integers; the strings only break
        # ties between identical spans of one rank.
        order = rank.get(entity.type, unranked)
        doubt = _CONFIDENCE_STEPS - round((entity.confidence or 1.0) * _CONFIDENCE_STEPS)
        packed = (
            (order << 144)
            | (max(doubt, 0) << 96)
            | ((_MAX_OFFSET - entity.end + entity.start) << 48)
            | entity.start
        )
        return (packed, entity.type, entity.value, entity.text, entity.source)

    ranked = sorted(candidates, key=preference)
    # One byte per character of the text marks what kept entities cover, so
    # each overlap test costs the length of the candidate, not the number kept.
    covered = bytearray(max((entity.end for entity in ranked), default=0))
    kept: list[Entity] = []
    for entity in ranked:
        if entity.end <= entity.start or covered.find(1, entity.start, entity.end) != -1:
            continue
        covered[entity.start : entity.end] = b"\x01" * (entity.end - entity.start)
        kept.append(entity)
    kept.sort(key=lambda entity: (entity.start, entity.end))
    return tuple(kept)


def merge_entities(
    *groups: Iterable[Entity], max_entities: int, priority: Sequence[str] = TYPE_PRIORITY
) -> tuple[Entity, ...]:
    """Entities of several providers as one non-overlapping list (the rule of
    :func:`resolve_overlaps`), sorted by start, at most ``max_entities``."""
    rank = {entity_type: index for index, entity_type in enumerate(priority)}
    candidates: set[Entity] = set()
    for group in groups:
        candidates.update(group)
    return resolve_overlaps(candidates, rank)[: max(max_entities, 0)]


_default: EntityRecognizer | None = None


def default_recognizer() -> EntityRecognizer:
    """The recogniser :func:`recognize_entities` uses, built-in ones unless replaced."""
    global _default  # noqa: PLW0603 - one lazily built, process-wide instance
    if _default is None:
        _default = EntityRecognizer(builtin_recognizers())
    return _default


def set_default_recognizer(recognizer: EntityRecognizer | None) -> None:
    """Replace the recogniser used by :func:`recognize_entities`; ``None`` restores the default."""
    global _default  # noqa: PLW0603 - configured once by the composition root
    _default = recognizer


def recognize_entities(text: str, *, max_entities: int) -> tuple[Entity, ...]:
    """Entities of ``text``, non-overlapping, sorted by start, at most ``max_entities``."""
    return default_recognizer().recognize(text, max_entities=max_entities)
