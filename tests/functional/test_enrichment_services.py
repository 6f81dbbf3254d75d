"""The cloud adapters with their real SDK clients against the loopback stand-ins:
Azure AI Language (key over http, managed-identity token over TLS) and an
OpenAI-compatible chat server (API key, Entra token provider)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from processing.enrichment.azure_language import AzureLanguageService
from processing.enrichment.openai_summary import OpenAISummarizer, base_url
from processing.enrichment.ports import SummaryRequest, SummaryUnavailableError
from processing.enrichment.service import CloudEnrichment
from processing.enrichment.settings import EnrichmentSettings, SummaryProvider
from processing.enrichment.windows import make_windows
from processing.extraction.pipeline import run_pipeline
from tests.support.board_minutes import GAZETTEER, ORGANISATIONS, PEOPLE, PLACES, board_minutes
from tools.standins.language import LanguageStandIn
from tools.standins.openai_api import OpenAIStandIn

KEY = "test-key"
TOKEN = "mi-token"
FAST = {"retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}


class StaticToken:
    """A TokenCredential standing in for the managed identity: a fixed token, and the
    scopes it was asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(TOKEN, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessTokenInfo

        self.scopes.append(scopes)
        return AccessTokenInfo(TOKEN, int(time.time()) + 3600)


@pytest.fixture
def language() -> Iterator[LanguageStandIn]:
    with LanguageStandIn(key=KEY, gazetteer=GAZETTEER) as server:
        yield server


def service(standin: LanguageStandIn, **options: Any) -> AzureLanguageService:
    return AzureLanguageService(
        standin.endpoint, key=KEY, pii_categories=(), client_options={**FAST, **options}
    )


def test_board_minutes_entities_have_offsets_into_the_whole_text(language: LanguageStandIn) -> None:
    """Every person, organisation and place of a text longer than one window comes back
    with offsets into the whole text, in batches of at most five documents."""
    text = board_minutes()
    windows, _ = make_windows(text)
    analysis = service(language).analyze(windows, language="en", pii=True)
    found = {(e.type, e.text) for e in analysis.entities}
    assert {("person", name) for name in PEOPLE} <= found
    assert {("organization", name) for name in ORGANISATIONS} <= found
    assert {("location", name) for name in PLACES} <= found
    for entity in analysis.entities + analysis.pii:
        assert text[entity.start : entity.end] == entity.text
        assert entity.source == "azure-language"
    assert analysis.pii_complete
    bodies = [r.body for r in language.requests]
    kinds = [b["kind"] for b in bodies]
    assert kinds[0] == "LanguageDetection"
    assert all(
        len(b["analysisInput"]["documents"]) <= 5
        for b in bodies
        if b["kind"] != "KeyPhraseExtraction"
    )
    assert all(
        b["parameters"]["stringIndexType"] == "UnicodeCodePoint"
        for b in bodies
        if b["kind"] in ("EntityRecognition", "PiiEntityRecognition")
    )
    assert all(b["parameters"]["loggingOptOut"] is True for b in bodies)
    assert all(len(d["text"]) <= 5_120 for b in bodies for d in b["analysisInput"]["documents"])


def test_throttling_is_retried_and_honours_retry_after(language: LanguageStandIn) -> None:
    """A 429 with Retry-After is retried by the SDK's policy; the call then succeeds."""
    language.fail_next(status=429, count=1, retry_after=1)
    windows, _ = make_windows("Margarethe Vossberg lives in Tallinn.")
    started = time.monotonic()
    analysis = service(language).analyze(windows, language="en", pii=False)
    assert time.monotonic() - started >= 0.9
    assert [r.status for r in language.requests][:2] == [429, 200]
    assert {e.text for e in analysis.entities} == {"Margarethe Vossberg", "Tallinn"}
    assert analysis.warnings == []


def test_an_exhausted_retry_budget_is_a_warning_not_a_failure(language: LanguageStandIn) -> None:
    """When every retry is throttled the action gives a warning and no entities."""
    language.fail_next(status=503, count=10, retry_after=0)
    windows, _ = make_windows("Margarethe Vossberg lives in Tallinn.")
    analysis = service(language, retry_total=1).analyze(windows, language="en", pii=True)
    codes = [w.code for w in analysis.warnings]
    assert "language_service_failed" in codes
    assert not analysis.pii_complete
    assert all("Vossberg" not in w.message for w in analysis.warnings)


def test_a_refused_document_is_a_warning_and_the_rest_is_analysed(
    language: LanguageStandIn,
) -> None:
    """A per-document error (an unsupported language here) becomes a warning."""
    windows, _ = make_windows("Margarethe Vossberg lives in Tallinn.")
    analysis = service(language).analyze(windows, language="xx", pii=False)
    # The stand-in's detection says English, which the adapter then uses.
    assert analysis.language is not None and analysis.language[0] == "en"
    language.supported_languages = frozenset({"de"})
    refused = service(language).analyze(windows, language="en", pii=False)
    assert {w.code for w in refused.warnings} == {"language_service_document_error"}
    assert refused.entities == []


def test_managed_identity_token_over_tls() -> None:
    """Without a key the adapter signs in with the platform credential (the Cognitive
    Services scope) over https."""
    credential = StaticToken()
    with LanguageStandIn(
        key=None, token_check=lambda t: t == TOKEN, tls=True, gazetteer=GAZETTEER
    ) as tls:
        adapter = AzureLanguageService(
            tls.endpoint,
            credential=lambda: credential,  # type: ignore[arg-type,return-value]
            client_options={**FAST, "connection_verify": tls.ca_path},
        )
        windows, _ = make_windows("Ines Carvalheira moved to Lyon.")
        analysis = adapter.analyze(windows, language="en", pii=True)
        assert {e.text for e in analysis.entities} == {"Ines Carvalheira", "Lyon"}
        assert all(r.headers.get("Authorization") == "<redacted>" for r in tls.requests)
    assert ("https://cognitiveservices.azure.com/.default",) in credential.scopes


def test_the_enrichment_budget_cuts_with_a_warning(language: LanguageStandIn) -> None:
    """LANGUAGE_MAX_CHARS bounds what one document sends; the cut is a warning."""
    result = run_pipeline(board_minutes().encode(), "minutes.txt")
    settings = EnrichmentSettings(language_endpoint=language.endpoint, language_max_chars=5_200)
    enriched = CloudEnrichment(settings, language=service(language)).enrich(result)
    assert "language_budget_exceeded" in {w.code for w in enriched.warnings}
    sent = sum(
        len(d["text"])
        for r in language.requests
        if r.body["kind"] == "EntityRecognition"
        for d in r.body["analysisInput"]["documents"]
    )
    assert sent <= 5_200


# -- OpenAI-compatible abstractive summaries ---------------------------------------

REQUEST = SummaryRequest(
    title="Board minutes",
    language="en",
    headings=("Revenue", "New depot"),
    sentences=("The board approved the Tallinn depot.", "Revenue rose by 12.5%."),
)


def test_summary_with_an_api_key() -> None:
    """The summarizer sends a bounded prompt of the extractive sentences and headings,
    caps the answer, and returns the model's text."""
    with OpenAIStandIn(responder=lambda messages: "A short summary. Second sentence.") as api:
        summarizer = OpenAISummarizer(
            api.azure_endpoint, "chat", api_key="k", client_options={"max_retries": 0}
        )
        assert summarizer.summarize(REQUEST) == "A short summary. Second sentence."
        [request] = api.requests
    assert request.path == "/openai/v1/chat/completions"
    assert request.body["model"] == "chat"
    assert request.body["max_completion_tokens"] == 300
    user = request.body["messages"][-1]["content"]
    assert "The board approved the Tallinn depot." in user and "- New depot" in user


def test_summary_with_an_entra_token_provider_retries_throttling() -> None:
    """Without a key the client gets a token from the credential for every request; a
    429 is retried after retry-after."""
    credential = StaticToken()
    with OpenAIStandIn(authorize=lambda c: c == TOKEN, responder=lambda m: "Summary.") as api:
        api.fail_next(status=429, count=1, retry_after=0.05)
        summarizer = OpenAISummarizer(
            api.azure_endpoint,
            "chat",
            credential=lambda: credential,  # type: ignore[arg-type,return-value]
            client_options={"max_retries": 2},
        )
        assert summarizer.summarize(REQUEST) == "Summary."
        assert [r.auth for r in api.requests] == ["bearer", "bearer"]
    assert ("https://cognitiveservices.azure.com/.default",) in credential.scopes


def test_a_failing_summary_raises_the_unavailable_error() -> None:
    with OpenAIStandIn() as api:
        api.fail_next(status=500, count=5, retry_after=0.01)
        summarizer = OpenAISummarizer(
            api.base_url, "m", api_key="k", client_options={"max_retries": 1}
        )
        with pytest.raises(SummaryUnavailableError, match="HTTP 500"):
            summarizer.summarize(REQUEST)


def test_base_url_for_azure_and_compatible_servers() -> None:
    assert base_url("https://x.openai.azure.com") == "https://x.openai.azure.com/openai/v1/"
    assert base_url("http://127.0.0.1:9/v1/") == "http://127.0.0.1:9/v1/"


def test_enrichment_replaces_the_summary_text_and_keeps_the_sentences() -> None:
    text = " ".join(f"Sentence number {i} tells the reader about solar panels." for i in range(8))
    result = run_pipeline(text.encode(), "a.txt")
    with OpenAIStandIn(responder=lambda m: "Solar panels, briefly.") as api:
        settings = EnrichmentSettings(
            summary_provider=SummaryProvider.AZURE_OPENAI,
            summary_endpoint=api.azure_endpoint,
            summary_model="chat",
        )
        summarizer = OpenAISummarizer(api.azure_endpoint, "chat", api_key="k")
        enriched = CloudEnrichment(settings, summarizer=summarizer).enrich(result)
    assert enriched.summary.text == "Solar panels, briefly."
    assert enriched.summary.source == "azure-openai"
    assert enriched.summary.sentences == result.summary.sentences
