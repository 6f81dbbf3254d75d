"""Enrichment without a network: windows at sentence boundaries, the merge rule,
redaction, key-phrase ranking, settings, and failures that become warnings."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from kernel.errors import SettingsError
from processing.enrichment.ports import (
    SummaryRequest,
    SummaryUnavailableError,
    TextAnalysis,
    Window,
)
from processing.enrichment.service import CloudEnrichment, redact
from processing.enrichment.settings import EnrichmentSettings, SummaryProvider
from processing.enrichment.windows import MAX_WINDOW_CHARS, batches, make_windows
from processing.extraction.analysis.entities import merge_entities
from processing.extraction.pipeline import run_pipeline
from processing.extraction.result import Entity, ProcessingWarning
from processing.settings import ProcessingSettings
from tests.support.board_minutes import board_minutes

LANGUAGE_ON = EnrichmentSettings(language_endpoint="https://lang.example", pii_redaction=True)


def test_windows_hold_whole_sentences_within_the_limit() -> None:
    """Every window is at most 5,120 characters, starts and ends at a sentence
    boundary, and the windows cover every sentence in order."""
    text = board_minutes()
    windows, cut = make_windows(text)
    assert not cut
    assert len(windows) >= 3
    assert all(len(w.text) <= MAX_WINDOW_CHARS for w in windows)
    assert all(text[w.start : w.end] == w.text for w in windows)
    assert all(a.end <= b.start for a, b in itertools.pairwise(windows))
    covered = "".join(w.text for w in windows)
    assert "".join(text.split()) == "".join(covered.split())


def test_an_overlong_sentence_is_cut_at_spaces() -> None:
    """A sentence longer than a window is cut at the last space before the limit."""
    text = "word " * 3_000
    windows, _ = make_windows(text.strip(), max_chars=1_000)
    assert all(len(w.text) <= 1_000 for w in windows)
    assert all(not w.text.startswith(" ") and w.text.endswith("word") for w in windows)


def test_the_budget_stops_at_a_sentence_boundary() -> None:
    """With a budget, windows end at the last whole sentence within it, and the cut is
    reported."""
    text = "This is one sentence of the text. " * 400
    windows, cut = make_windows(text, budget=2_000)
    assert cut
    assert windows[-1].end <= 2_000
    assert windows[-1].text.endswith(".")


def test_batches_respect_the_request_limit() -> None:
    windows = [Window(i, i + 1, "x") for i in range(12)]
    assert [len(b) for b in batches(windows, 5)] == [5, 5, 2]


def entity(
    kind: str, start: int, end: int, *, confidence: float | None = None, source: str = "pattern"
) -> Entity:
    return Entity(kind, "x" * (end - start), "v", start, end, confidence=confidence, source=source)


def test_merge_prefers_patterns_then_confidence_then_length() -> None:
    """A validated pattern type wins over a named entity on the same span; between
    named entities the higher confidence wins; kept offsets never cross."""
    pattern = [entity("email", 10, 30)]
    cloud = [
        entity("person", 12, 20, confidence=0.99, source="azure-language"),
        entity("person", 40, 50, confidence=0.6, source="azure-language"),
        entity("organization", 45, 60, confidence=0.9, source="azure-language"),
        entity("location", 70, 80, confidence=0.8, source="azure-language"),
    ]
    merged = merge_entities(pattern, cloud, max_entities=10)
    assert [(e.type, e.start) for e in merged] == [
        ("email", 10),
        ("organization", 45),
        ("location", 70),
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(merged))


def test_redaction_masks_each_span_character_for_character() -> None:
    """Masking keeps the length, so offsets into text index redacted_text too; pattern
    entities of PII types are masked as well, dates are not."""
    text = "Call Ana Lima at +1 212 555 0100 on 2026-03-14."
    pii = [Entity("person", "Ana Lima", "Ana Lima", 5, 13, source="azure-language")]
    patterns = [
        Entity("phone", "+1 212 555 0100", "+12125550100", 17, 32),
        Entity("date", "2026-03-14", "2026-03-14", 36, 46),
    ]
    redacted = redact(text, [*pii, *patterns])
    assert len(redacted) == len(text)
    assert redacted == "Call ******** at *************** on 2026-03-14."


class FakeLanguage:
    """A LanguageService that answers from fixed spans and records its calls."""

    name = "azure-language"

    def __init__(self, analysis: TextAnalysis) -> None:
        self.analysis = analysis
        self.calls: list[tuple[int, str | None]] = []

    def analyze(
        self, windows: Sequence[Window], *, language: str | None, pii: bool
    ) -> TextAnalysis:
        self.calls.append((len(windows), language))
        return self.analysis


def test_enrichment_merges_and_redacts_and_ranks_key_phrases() -> None:
    """Cloud entities join the pattern ones, the service's language replaces the
    offline one, key phrases replace YAKE's, and redacted_text masks the PII."""
    text = "Ana Lima met Bob Stone in Lyon. Mail ana@example.com today."
    result = run_pipeline(text.encode(), "a.txt")
    analysis = TextAnalysis(
        entities=[
            Entity("person", "Ana Lima", "Ana Lima", 0, 8, confidence=0.9, source="azure-language"),
            Entity(
                "location",
                "Lyon",
                "Lyon",
                26,
                30,
                subtype="gpe",
                confidence=0.8,
                source="azure-language",
            ),
        ],
        pii=[
            Entity(
                "person", "Bob Stone", "Bob Stone", 13, 22, confidence=0.95, source="azure-language"
            )
        ],
        language=("en", 0.99),
        key_phrases=[["Lyon", "Ana Lima"], ["lyon"]],
        pii_complete=True,
    )
    enriched = CloudEnrichment(LANGUAGE_ON, language=FakeLanguage(analysis)).enrich(result)
    kinds = {(e.type, e.text, e.source) for e in enriched.entities}
    assert ("person", "Ana Lima", "azure-language") in kinds
    assert ("email", "ana@example.com", "pattern") in kinds
    assert (enriched.metadata.language, enriched.metadata.language_confidence) == ("en", 0.99)
    assert [(k.text, k.score, k.source) for k in enriched.keywords] == [
        ("Lyon", 1.0, "azure-language"),
        ("Ana Lima", 0.5, "azure-language"),
    ]
    assert enriched.redacted_text == "Ana Lima met ********* in Lyon. Mail *************** today."
    for found in enriched.entities:
        assert enriched.text[found.start : found.end] == found.text


def test_incomplete_pii_analysis_gives_no_redacted_text() -> None:
    """When a window could not be analysed for PII, no redacted_text is given (it
    could leak) and a warning says so."""
    result = run_pipeline(b"Ana Lima lives in Lyon.", "a.txt")
    analysis = TextAnalysis(
        warnings=[ProcessingWarning("language_service_failed", "pii failed")], pii_complete=False
    )
    enriched = CloudEnrichment(LANGUAGE_ON, language=FakeLanguage(analysis)).enrich(result)
    assert enriched.redacted_text is None
    assert {"language_service_failed", "redaction_incomplete"} <= {
        w.code for w in enriched.warnings
    }
    assert enriched.entities == result.entities


def test_a_provider_offset_that_misses_its_text_is_dropped() -> None:
    """An entity whose offsets do not point at its text is not merged."""
    result = run_pipeline(b"Ana Lima lives in Lyon.", "a.txt")
    wrong = Entity("person", "Ana Lima", "Ana Lima", 3, 11, confidence=0.9, source="azure-language")
    enriched = CloudEnrichment(
        EnrichmentSettings(language_endpoint="https://x.example"),
        language=FakeLanguage(TextAnalysis(entities=[wrong])),
    ).enrich(result)
    assert wrong not in enriched.entities


class FailingSummarizer:
    name = "azure-openai"

    def summarize(self, request: SummaryRequest) -> str:
        raise SummaryUnavailableError("the abstractive summary failed (HTTP 500)")


def test_a_failed_summary_stays_extractive_with_a_warning() -> None:
    text = " ".join(f"Sentence number {i} tells the reader about solar panels." for i in range(8))
    result = run_pipeline(text.encode(), "a.txt")
    settings = EnrichmentSettings(
        summary_provider=SummaryProvider.AZURE_OPENAI,
        summary_endpoint="https://o.example",
        summary_model="m",
    )
    enriched = CloudEnrichment(settings, summarizer=FailingSummarizer()).enrich(result)
    assert enriched.summary == result.summary
    assert "summary_unavailable" in {w.code for w in enriched.warnings}


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"PII_REDACTION": "true"}, "PII_REDACTION"),
        ({"SUMMARY_PROVIDER": "gpt"}, "SUMMARY_PROVIDER"),
        ({"SUMMARY_PROVIDER": "azure-openai", "SUMMARY_MODEL": "m"}, "SUMMARY_ENDPOINT"),
        (
            {"SUMMARY_PROVIDER": "azure-openai", "SUMMARY_ENDPOINT": "https://o.example"},
            "SUMMARY_MODEL",
        ),
        ({"LANGUAGE_ENDPOINT": "not a url"}, "LANGUAGE_ENDPOINT"),
        ({"LANGUAGE_MAX_CHARS": "0"}, "LANGUAGE_MAX_CHARS"),
        ({"PII_CATEGORIES": "Person, bad-name"}, "PII_CATEGORIES"),
    ],
)
def test_bad_enrichment_settings_name_the_setting(values: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ProcessingSettings.from_env(values)


def test_enrichment_settings_are_read_once_into_a_frozen_object() -> None:
    settings = ProcessingSettings.from_env(
        {
            "LANGUAGE_ENDPOINT": "https://lang.example/",
            "PII_REDACTION": "true",
            "PII_CATEGORIES": "Person,Email",
            "LANGUAGE_MAX_CHARS": "20000",
            "SPACY_MODEL": "en_core_web_sm",
        }
    ).enrichment
    assert settings.language_endpoint == "https://lang.example"
    assert settings.pii_categories == ("Person", "Email")
    assert (settings.pii_redaction, settings.language_max_chars) == (True, 20_000)
    assert settings.language_key is None  # managed identity
    assert settings.fingerprint() != EnrichmentSettings().fingerprint()
    with pytest.raises(AttributeError):
        settings.language_key = "k"  # type: ignore[misc]
