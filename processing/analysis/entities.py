"""Entity recognition: a composite of small, offline, deterministic recognisers.

The built-in recognisers (``processing.analysis.recognizers``) find emails,
URLs, phone numbers, dates, money, percentages, IBANs, payment cards and IP
addresses. They favour precision over recall: every match is validated
(checksums, calendars, the ``ipaddress`` module, phone metadata), and a
doubtful match is dropped rather than reported.

Every entity has a ``type``, the exact source ``text`` (payment cards are the
exception: their digits are masked, see ``recognizers.banking``), a normalised
``value`` and ``start``/``end`` offsets into the analysed text.

Overlaps are resolved by :class:`EntityRecognizer`: a candidate of a more
specific type wins (:data:`TYPE_PRIORITY`: an IBAN over a phone number inside
it, a URL over an email inside it, a date over a phone), then the longer span,
then the earlier one. Results are sorted by ``start``.

Adding a cloud NER backend
--------------------------
Anything with a ``name`` and a ``recognize(text) -> Iterable[Entity]`` method
is a :class:`Recognizer`. A backend for people, organisations and locations
(e.g. Azure AI Language) would be one more recogniser living outside this
package (``processing`` never imports Azure SDKs), returning entities of new
types such as ``person``, ``organization`` and ``location`` with offsets into
the text it was given. The composition root (the function app's start-up)
then installs it once::

    set_default_recognizer(
        EntityRecognizer([*builtin_recognizers(), AzureLanguageRecognizer(client)])
    )

and :func:`recognize_entities`, which the pipeline calls, uses it without any
change to callers. Types missing from :data:`TYPE_PRIORITY` rank after the
built-in ones, so deterministic matches keep winning overlaps. A cloud backend
should raise :class:`~processing.errors.DependencyError` when the service fails,
so the caller can retry.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Protocol

from processing.analysis.recognizers import builtin_recognizers
from processing.models import Entity

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


class Recognizer(Protocol):
    """Finds entities of one family in a text."""

    @property
    def name(self) -> str:
        """A short, stable name for logs and configuration."""
        ...

    def recognize(self, text: str) -> Iterable[Entity]:
        """Every candidate in ``text``; candidates may overlap each other."""
        ...


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
    of their type (unknown types last), then the longest, then the earliest;
    a candidate overlapping one already kept is dropped.
    """
    unranked = len(rank)

    def preference(entity: Entity) -> tuple[int, int, int, int, str, str, str]:
        return (
            rank.get(entity.type, unranked),
            entity.start - entity.end,
            entity.start,
            entity.end,
            entity.type,
            entity.value,
            entity.text,
        )

    starts: list[int] = []
    kept: list[Entity] = []
    for entity in sorted(candidates, key=preference):
        # Kept spans never overlap, so sorted by start they are sorted by end too.
        index = bisect.bisect_right(starts, entity.start)
        if index > 0 and kept[index - 1].end > entity.start:
            continue
        if index < len(kept) and kept[index].start < entity.end:
            continue
        starts.insert(index, entity.start)
        kept.insert(index, entity)
    return tuple(kept)


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
