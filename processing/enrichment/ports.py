"""What the enrichment service needs from a cloud provider, in its own terms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from processing.extraction.result import Entity, ProcessingResult, ProcessingWarning


@dataclass(frozen=True, slots=True)
class Window:
    """A piece of the text sent as one service document: ``text[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(slots=True)
class TextAnalysis:
    """What a language service found; every offset indexes the whole text."""

    entities: list[Entity] = field(default_factory=list)
    pii: list[Entity] = field(default_factory=list)
    language: tuple[str, float] | None = None
    #: Key phrases per analysed window, in the service's order.
    key_phrases: list[list[str]] = field(default_factory=list)
    warnings: list[ProcessingWarning] = field(default_factory=list)
    #: Whether every window was analysed for PII (redaction is only given then).
    pii_complete: bool = False


class LanguageService(Protocol):
    """Named entities, PII, language and key phrases of windows of one document."""

    name: str

    def analyze(
        self, windows: Sequence[Window], *, language: str | None, pii: bool
    ) -> TextAnalysis: ...


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    """A bounded prompt's material: the extractive summary and the headings."""

    title: str | None
    language: str | None
    headings: tuple[str, ...]
    sentences: tuple[str, ...]
    #: The document's text, for a provider that summarises the text itself (each bounds it).
    text: str = ""


class SummaryUnavailableError(Exception):
    """The summary provider failed; the extractive summary stays (message is safe to show)."""


class Summarizer(Protocol):
    """An abstractive summary from a request, or :class:`SummaryUnavailableError`."""

    name: str

    def summarize(self, request: SummaryRequest) -> str: ...


class Enrichment(Protocol):
    """The processor's port: a result in, the enriched result out; never raises for
    a provider's failure (that becomes a warning)."""

    @property
    def fingerprint(self) -> str: ...

    def enrich(self, result: ProcessingResult) -> ProcessingResult: ...
