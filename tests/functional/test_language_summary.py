"""Abstractive summaries from Azure AI Language (SUMMARY_PROVIDER=azure-language): the
adapter with the real SDK client against the loopback Language stand-in; bounded
input and wait, throttling retried, failures kept as a warning on an extractive summary."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

pytest.importorskip("azure.ai.textanalytics", reason="azure-ai-textanalytics is not installed")

from processing.enrichment.azure_language import AzureLanguageService
from processing.enrichment.language_summary import SENTENCE_COUNT, LanguageSummarizer
from processing.enrichment.ports import SummaryRequest, SummaryUnavailableError
from processing.enrichment.service import CloudEnrichment
from processing.enrichment.settings import EnrichmentSettings, SummaryProvider
from processing.extraction.pipeline import run_pipeline
from tests.support.board_minutes import GAZETTEER, board_minutes
from tools.standins.language import LanguageStandIn

KEY = "test-key"
FAST = {"retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}


@pytest.fixture
def language() -> Iterator[LanguageStandIn]:
    with LanguageStandIn(key=KEY, gazetteer=GAZETTEER) as server:
        yield server


def summarizer(
    standin: LanguageStandIn, *, max_chars: int = 100_000, max_wait: float = 10.0, **options: object
) -> LanguageSummarizer:
    service = AzureLanguageService(standin.endpoint, key=KEY, client_options={**FAST, **options})
    return LanguageSummarizer(service, max_chars=max_chars, max_wait=max_wait, poll_seconds=0)


def enrichment(standin: LanguageStandIn, adapter: LanguageSummarizer) -> CloudEnrichment:
    settings = EnrichmentSettings(
        language_endpoint=standin.endpoint, summary_provider=SummaryProvider.AZURE_LANGUAGE
    )
    return CloudEnrichment(settings, summarizer=adapter)


def submitted(standin: LanguageStandIn) -> list[dict[str, object]]:
    return [r.body for r in standin.requests if r.method == "POST" and r.status == 202]


def test_the_summary_is_abstractive_and_replaces_the_extractive_text(
    language: LanguageStandIn,
) -> None:
    """Through the enrichment service the summary text becomes the service's, the
    source is azure-language and the extractive sentences stay."""
    result = run_pipeline(board_minutes().encode(), "minutes.txt")
    enriched = enrichment(language, summarizer(language)).enrich(result)
    assert enriched.summary.source == "azure-language"
    assert enriched.summary.text.startswith("Part 1 is about ")
    assert enriched.summary.text.count("Part ") == SENTENCE_COUNT
    assert enriched.summary.sentences == result.summary.sentences
    assert "summary_unavailable" not in {w.code for w in enriched.warnings}
    [body] = submitted(language)
    [document] = body["analysisInput"]["documents"]  # type: ignore[index]
    assert document["text"] == result.text.strip()
    assert body["tasks"][0]["parameters"]["loggingOptOut"] is True  # type: ignore[index]


def test_the_input_is_cut_to_the_budget_at_a_sentence_boundary(language: LanguageStandIn) -> None:
    """With LANGUAGE_MAX_CHARS below the text's length the job gets at most that many
    characters, ending at a sentence end."""
    text = board_minutes()
    request = SummaryRequest(title=None, language="en", headings=(), sentences=("x.",), text=text)
    summarizer(language, max_chars=3_000).summarize(request)
    [body] = submitted(language)
    sent = body["analysisInput"]["documents"][0]["text"]  # type: ignore[index]
    assert 0 < len(sent) <= 3_000
    assert text.startswith(sent) and sent.rstrip().endswith(".")


def test_throttling_is_retried(language: LanguageStandIn) -> None:
    """A 429 with Retry-After on the submit is retried after the wait; the summary comes."""
    language.fail_next(status=429, count=1, retry_after=1)
    request = SummaryRequest(None, "en", (), ("One.",), text="Margarethe Vossberg chairs it.")
    started = time.monotonic()
    text = summarizer(language).summarize(request)
    assert time.monotonic() - started >= 0.9
    assert text.startswith("Part 1 is about Margarethe")
    assert [r.status for r in language.requests][:2] == [429, 202]


def test_a_failed_job_keeps_the_extractive_summary_with_a_warning(
    language: LanguageStandIn,
) -> None:
    """A job that ends failed: the result keeps its extractive summary and gets a
    summary_unavailable warning; the document does not fail."""
    language.jobs.fail_next_job("InternalServerError", "The job failed.")
    result = run_pipeline(board_minutes().encode(), "minutes.txt")
    enriched = enrichment(language, summarizer(language)).enrich(result)
    assert enriched.summary == result.summary
    [warning] = [w for w in enriched.warnings if w.code == "summary_unavailable"]
    assert "stays extractive" in warning.message


def test_exhausted_retries_are_a_warning(language: LanguageStandIn) -> None:
    """Every submit answered 503: the retry budget runs out and the summary stays."""
    language.fail_next(status=503, count=10, retry_after=0)
    request = SummaryRequest(None, "en", (), ("One.",), text="Margarethe Vossberg chairs it.")
    with pytest.raises(SummaryUnavailableError, match="HTTP 503"):
        summarizer(language, retry_total=1).summarize(request)


def test_the_wait_is_bounded(language: LanguageStandIn) -> None:
    """A job still running when the wait runs out gives up within the bound."""
    language.jobs.polls_until_done = 10_000
    request = SummaryRequest(None, "en", (), ("One.",), text="Margarethe Vossberg chairs it.")
    started = time.monotonic()
    with pytest.raises(SummaryUnavailableError, match=r"within 0\.5 s"):
        summarizer(language, max_wait=0.5).summarize(request)
    assert time.monotonic() - started < 3
    language.jobs.polls_until_done = 0  # lets the abandoned poller thread finish


def test_a_refused_document_is_a_warning(language: LanguageStandIn) -> None:
    """A per-document error (an unsupported language) raises SummaryUnavailableError
    naming the code."""
    request = SummaryRequest(None, "xx", (), ("One.",), text="Margarethe Vossberg chairs it.")
    with pytest.raises(SummaryUnavailableError, match="UnsupportedLanguageCode"):
        summarizer(language).summarize(request)
