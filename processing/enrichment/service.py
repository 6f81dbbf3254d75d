"""Enriching a finished result with the cloud providers, and the merge rule.

What each provider adds:

* **Language service** (Azure AI Language): named entities and PII entities are
  merged with the result's (patterns, spaCy) by
  :func:`processing.extraction.analysis.entities.merge_entities`: validated
  pattern types win an overlap, then the higher confidence, then the longer
  span; offsets never cross. Its language detection replaces the offline one
  when it names a language. Its key phrases replace YAKE's keywords, ranked by
  the share of windows that name them (then by first mention). With
  ``PII_REDACTION=true``, ``redacted_text`` masks every PII span (and every
  pattern entity of a PII type) with ``*``, character for character; it is
  only given when every window was analysed for PII.
* **Summarizer** (Azure OpenAI or any OpenAI-compatible server: a rewrite of the
  extractive sentences and the headings; Azure AI Language: an abstractive
  summary of the text's first ``LANGUAGE_MAX_CHARS`` characters): the summary
  text becomes the provider's; the sentences and their offsets stay.

A provider that fails leaves the offline results and a warning; the document
never fails because of it. A document longer than ``LANGUAGE_MAX_CHARS`` is
analysed up to that many characters, with a ``language_budget_exceeded`` warning.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter

from processing.enrichment.ports import (
    LanguageService,
    Summarizer,
    SummaryRequest,
    SummaryUnavailableError,
    TextAnalysis,
)
from processing.enrichment.settings import EnrichmentSettings
from processing.enrichment.windows import make_windows
from processing.extraction.analysis.entities import merge_entities
from processing.extraction.result import (
    Entity,
    Keyword,
    ProcessingResult,
    ProcessingWarning,
    Summary,
)

log = logging.getLogger(__name__)

#: Pattern entity types that are personal data, masked too when redacting.
PII_PATTERN_TYPES = frozenset({"email", "phone", "iban", "payment_card", "ip_address"})
MASK = "*"
TOP_KEY_PHRASES = 10
#: Bounds of the summary prompt's material.
MAX_PROMPT_HEADINGS = 20
MAX_HEADING_CHARS = 120


class CloudEnrichment:
    """The :class:`~processing.enrichment.ports.Enrichment` port over cloud providers."""

    def __init__(
        self,
        settings: EnrichmentSettings,
        *,
        language: LanguageService | None = None,
        summarizer: Summarizer | None = None,
        max_entities: int = 10_000,
        max_analysis_chars: int = 5_000_000,
    ) -> None:
        self._settings = settings
        self._language = language
        self._summarizer = summarizer
        self._max_entities = max_entities
        self._max_analysis_chars = max_analysis_chars

    @property
    def fingerprint(self) -> str:
        return self._settings.fingerprint()

    def enrich(self, result: ProcessingResult) -> ProcessingResult:
        timings = dict(result.timings_ms)
        warnings = list(result.warnings)
        if self._language is not None and result.text.strip():
            started = time.perf_counter()
            result = self._with_language(result, warnings)
            timings["language_service"] = _ms(started)
        if self._summarizer is not None and result.summary.sentences:
            started = time.perf_counter()
            result = self._with_summary(result, self._summarizer, warnings)
            timings["summary_service"] = _ms(started)
        return dataclasses.replace(result, warnings=tuple(warnings), timings_ms=timings)

    # -- the language service --------------------------------------------------------

    def _with_language(
        self, result: ProcessingResult, warnings: list[ProcessingWarning]
    ) -> ProcessingResult:
        assert self._language is not None
        text = result.text[: self._max_analysis_chars]
        windows, cut = make_windows(text, budget=self._settings.language_max_chars)
        if cut:
            analysed = windows[-1].end if windows else 0
            warnings.append(
                ProcessingWarning(
                    "language_budget_exceeded",
                    f"{self._language.name} analysed the first {analysed} of {len(result.text)} "
                    f"characters (LANGUAGE_MAX_CHARS={self._settings.language_max_chars})",
                )
            )
        if not windows:
            return result
        analysis = self._language.analyze(windows, language=result.metadata.language, pii=True)
        warnings.extend(analysis.warnings)
        entities = merge_entities(
            result.entities,
            _checked(analysis.entities, result.text),
            _checked(analysis.pii, result.text),
            max_entities=self._max_entities,
        )
        metadata = result.metadata
        if analysis.language is not None:
            metadata = dataclasses.replace(
                metadata, language=analysis.language[0], language_confidence=analysis.language[1]
            )
        keywords = _ranked_phrases(analysis.key_phrases, self._language.name) or result.keywords
        redacted = None
        if self._settings.pii_redaction:
            complete = analysis.pii_complete and not cut and len(text) == len(result.text)
            if complete:
                redacted = redact(result.text, [*analysis.pii, *result.entities])
            else:
                warnings.append(
                    ProcessingWarning(
                        "redaction_incomplete",
                        "not every part of the text was analysed for personal data, so no "
                        "redacted_text is given",
                    )
                )
        log.info(
            "enrichment.language",
            extra={
                "provider": self._language.name,
                "windows": len(windows),
                "entities": len(analysis.entities),
                "pii": len(analysis.pii),
                "warnings": len(analysis.warnings),
            },
        )
        return dataclasses.replace(
            result, entities=entities, metadata=metadata, keywords=keywords, redacted_text=redacted
        )

    # -- the summarizer --------------------------------------------------------------

    def _with_summary(
        self, result: ProcessingResult, summarizer: Summarizer, warnings: list[ProcessingWarning]
    ) -> ProcessingResult:
        request = SummaryRequest(
            title=result.metadata.title,
            language=result.metadata.language,
            headings=tuple(
                heading.text[:MAX_HEADING_CHARS]
                for heading in result.headings[:MAX_PROMPT_HEADINGS]
            ),
            sentences=tuple(sentence.text for sentence in result.summary.sentences),
            text=result.text,
        )
        try:
            text = summarizer.summarize(request).strip()
        except SummaryUnavailableError as exc:
            log.warning("enrichment.summary_failed", extra={"provider": summarizer.name})
            warnings.append(ProcessingWarning("summary_unavailable", str(exc)))
            return result
        if not text:
            warnings.append(
                ProcessingWarning("summary_unavailable", f"{summarizer.name} returned no summary")
            )
            return result
        summary = Summary(text=text, sentences=result.summary.sentences, source=summarizer.name)
        return dataclasses.replace(result, summary=summary)


def redact(text: str, entities: list[Entity]) -> str:
    """``text`` with each PII entity's span (and each pattern entity of a PII type) masked
    with :data:`MASK`, character for character: offsets into ``text`` still apply."""
    chars = list(text)
    for entity in entities:
        if entity.source == "pattern" and entity.type not in PII_PATTERN_TYPES:
            continue
        start, end = max(entity.start, 0), min(entity.end, len(chars))
        chars[start:end] = MASK * max(end - start, 0)
    return "".join(chars)


def _checked(entities: list[Entity], text: str) -> list[Entity]:
    """Entities whose offsets really point at their text (a provider counting offsets in
    other units would otherwise mark the wrong characters)."""
    kept = [entity for entity in entities if text[entity.start : entity.end] == entity.text]
    if len(kept) != len(entities):
        log.warning("enrichment.offset_mismatch", extra={"dropped": len(entities) - len(kept)})
    return kept


def _ranked_phrases(per_window: list[list[str]], source: str) -> tuple[Keyword, ...]:
    """The top key phrases over all windows: by the share of windows naming them, then
    by first mention; case variants are one phrase."""
    if not per_window:
        return ()
    counts: Counter[str] = Counter()
    first: dict[str, tuple[int, str]] = {}
    order = 0
    for phrases in per_window:
        for phrase in dict.fromkeys(p.strip() for p in phrases if p.strip()):
            key = phrase.lower()
            if key not in first:
                first[key] = (order, phrase)
                order += 1
            counts[key] += 1
    best = sorted(first, key=lambda key: (-counts[key], first[key][0]))[:TOP_KEY_PHRASES]
    windows = len(per_window)
    return tuple(
        Keyword(text=first[key][1], score=round(counts[key] / windows, 6), source=source)
        for key in best
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


__all__ = ["CloudEnrichment", "TextAnalysis", "redact"]
