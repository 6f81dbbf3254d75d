"""The Azure AI Language stand-in, driven only by the real ``TextAnalyticsClient``."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("azure.ai.textanalytics", reason="azure-ai-textanalytics is not installed")

from azure.ai.textanalytics import (
    PiiEntityCategory,
    PiiEntityDomain,
    TextAnalyticsClient,
)
from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
)

from tools.standins.language import API_VERSION, PATH, LanguageStandIn

KEY = "test-key"
TOKEN = "good-token"
SCOPE = "https://cognitiveservices.azure.com/.default"


class StaticToken:
    """A TokenCredential that hands out a fixed token and remembers the scopes asked for."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: tuple[str, ...] = ()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes = scopes
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def standin() -> Iterator[LanguageStandIn]:
    with LanguageStandIn(key=KEY) as server:
        yield server


@pytest.fixture
def tls_standin() -> Iterator[LanguageStandIn]:
    with LanguageStandIn(key=None, token_check=lambda t: t == TOKEN, tls=True) as server:
        yield server


def client_for(standin: LanguageStandIn, key: str = KEY, **kwargs: Any) -> TextAnalyticsClient:
    # Small retry settings: the tests never wait on backoff, only on Retry-After.
    kwargs.setdefault("retry_total", 3)
    return TextAnalyticsClient(
        standin.endpoint, AzureKeyCredential(key), retry_backoff_factor=0.01, **kwargs
    )


def sent_body(standin: LanguageStandIn) -> Any:
    return standin.requests[-1].body


TEXT = "Grüße aus Zürich 😀 an Microsoft und Bill Gates."


def test_entities_have_code_point_offsets(standin: LanguageStandIn) -> None:
    """recognize_entities returns typed gazetteer entities whose offsets count code points,
    so non-ASCII letters and an astral emoji before an entity do not shift it."""
    with client_for(standin) as client:
        [result] = client.recognize_entities([TEXT])
    assert not result.is_error
    found = [(e.text, e.category, e.subcategory, e.offset, e.length) for e in result.entities]
    assert found == [
        ("Zürich", "Location", "GPE", 10, 6),
        ("Microsoft", "Organization", None, 22, 9),
        ("Bill Gates", "Person", None, 36, 10),
    ]
    assert all(TEXT[e.offset : e.offset + e.length] == e.text for e in result.entities)
    assert result.entities[0].confidence_score == 0.9
    assert sent_body(standin)["parameters"]["stringIndexType"] == "UnicodeCodePoint"


def test_entities_in_utf16_units_and_text_elements(standin: LanguageStandIn) -> None:
    """Offsets follow the requested stringIndexType: UTF-16 counts the emoji twice, text
    elements count a letter with a combining accent once (the SDK sends TextElements_v8)."""
    with client_for(standin) as client:
        [utf16] = client.recognize_entities([TEXT], string_index_type="Utf16CodeUnit")
        assert [e.offset for e in utf16.entities] == [10, 23, 37]
        combining = "Cafe\u0301 in Zürich"
        [graphemes] = client.recognize_entities([combining], string_index_type="TextElement_v8")
        assert sent_body(standin)["parameters"]["stringIndexType"] == "TextElements_v8"
        [points] = client.recognize_entities([combining])
    assert (graphemes.entities[0].offset, points.entities[0].offset) == (8, 9)


def test_pii_redaction_and_filters(standin: LanguageStandIn) -> None:
    """recognize_pii_entities masks every entity character with '*', and honours the
    piiCategories filter and the phi domain that the SDK sends."""
    text = "Call Bill Gates of Microsoft at 312-555-1234 or bill@contoso.com."
    with client_for(standin) as client:
        [everything] = client.recognize_pii_entities([text])
        [emails] = client.recognize_pii_entities(
            [text], categories_filter=[PiiEntityCategory.EMAIL]
        )
        assert sent_body(standin)["parameters"]["piiCategories"] == ["Email"]
        [phi] = client.recognize_pii_entities(
            [text], domain_filter=PiiEntityDomain.PROTECTED_HEALTH_INFORMATION
        )
        assert sent_body(standin)["parameters"]["domain"] == "phi"
    assert [e.category for e in everything.entities] == [
        "Person",
        "Organization",
        "PhoneNumber",
        "Email",
    ]
    assert everything.redacted_text == (
        "Call ********** of ********* at ************ or ****************."
    )
    assert [(e.text, e.offset, e.length) for e in emails.entities] == [("bill@contoso.com", 48, 16)]
    assert emails.redacted_text == text.replace("bill@contoso.com", "*" * 16)
    assert "Organization" not in [e.category for e in phi.entities]


def test_detect_language(standin: LanguageStandIn) -> None:
    """detect_language votes with stop words and answers (Unknown) with confidence 0 when
    no word gives a signal; the SDK's default countryHint is sent per document."""
    docs = [
        "The cat is on the mat",
        "Der Hund und die Katze",
        "Le chat et le chien",
        "El perro y el gato",
        "12345 67890",
    ]
    with client_for(standin) as client:
        results = client.detect_language(docs)
    langs = [(r.primary_language.iso6391_name, r.primary_language.name) for r in results]
    assert langs == [
        ("en", "English"),
        ("de", "German"),
        ("fr", "French"),
        ("es", "Spanish"),
        ("(Unknown)", "(Unknown)"),
    ]
    assert results[0].primary_language.confidence_score == 1.0
    assert results[4].primary_language.confidence_score == 0.0
    assert {d["countryHint"] for d in sent_body(standin)["analysisInput"]["documents"]} == {"US"}


def test_extract_key_phrases(standin: LanguageStandIn) -> None:
    """extract_key_phrases returns gazetteer hits and runs of capitalised words."""
    with client_for(standin) as client:
        [result] = client.extract_key_phrases(
            ["Microsoft was founded by Bill Gates and Paul Allen in Albuquerque New Mexico."]
        )
    assert result.key_phrases == ["Microsoft", "Bill Gates", "Paul Allen", "Albuquerque New Mexico"]


@pytest.mark.parametrize(
    ("method", "limit"),
    [
        ("recognize_entities", 5),
        ("recognize_pii_entities", 5),
        ("extract_key_phrases", 10),
        ("detect_language", 1000),
    ],
)
def test_documents_per_request_limit(standin: LanguageStandIn, method: str, limit: int) -> None:
    """Each action takes its documented number of documents; one more is a 400 whose
    innererror code, InvalidDocumentBatch, is what the SDK reports as the error code."""
    with client_for(standin) as client:
        call = getattr(client, method)
        assert len(call(["Microsoft"] * limit)) == limit
        with pytest.raises(HttpResponseError) as raised:
            call(["Microsoft"] * (limit + 1))
    assert raised.value.status_code == 400
    assert raised.value.error is not None
    assert raised.value.error.code == "InvalidDocumentBatch"
    assert f"Max {limit} records are permitted" in str(raised.value)
    assert len(sent_body(standin)["analysisInput"]["documents"]) == limit + 1


def test_request_over_one_megabyte_is_refused(standin: LanguageStandIn) -> None:
    """A request body over the documented 1 MB is a 413 with InvalidDocumentBatch, even when
    the document count (1,000 for language detection) is within its limit."""
    with client_for(standin) as client, pytest.raises(HttpResponseError) as raised:
        client.detect_language(["word " * 220] * 1000)
    assert raised.value.status_code == 413
    assert raised.value.error is not None
    assert raised.value.error.code == "InvalidDocumentBatch"


def test_overlong_and_empty_documents_fail_alone(standin: LanguageStandIn) -> None:
    """A document over 5,120 characters, or an empty one, gets its own InvalidDocument
    error in results.errors while the other documents of the batch are analysed."""
    docs = ["Microsoft", "x" * 5121, "é" * 5120, "", "Bill Gates"]
    with client_for(standin) as client:
        results = client.recognize_entities(docs)
    assert [r.is_error for r in results] == [False, True, False, True, False]
    assert results[1].error.code == "InvalidDocument"
    assert "Limit document size to: 5120 text elements" in results[1].error.message
    assert results[3].error.code == "InvalidDocument"
    assert results[3].error.message == "Document text is empty."
    assert results[4].entities[0].text == "Bill Gates"


def test_throttling_is_retried_after_retry_after(standin: LanguageStandIn) -> None:
    """Two 429s with Retry-After: 1 are retried by the SDK, which waits the second each
    time and then gets the answer."""
    standin.fail_next(status=429, count=2, retry_after=1)
    with client_for(standin) as client:
        [result] = client.recognize_entities(["Microsoft"])
    assert result.entities[0].text == "Microsoft"
    assert [r.status for r in standin.requests] == [429, 429, 200]
    times = [r.received_at for r in standin.requests]
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(times))


@pytest.mark.parametrize("status", [500, 503])
def test_transient_failures_are_retried(standin: LanguageStandIn, status: int) -> None:
    """A 500 or 503 is retried by the SDK (Retry-After: 0, tiny backoff) and the call succeeds."""
    standin.fail_next(status=status, count=1, retry_after=0)
    with client_for(standin) as client:
        [result] = client.extract_key_phrases(["Microsoft"])
    assert result.key_phrases == ["Microsoft"]
    assert [r.status for r in standin.requests] == [status, 200]


def test_throttling_beyond_the_retry_budget_surfaces(standin: LanguageStandIn) -> None:
    """When throttling outlasts retry_total the SDK raises the 429 with its error code."""
    standin.fail_next(status=429, count=5, retry_after=0)
    with client_for(standin, retry_total=2) as client, pytest.raises(HttpResponseError) as raised:
        client.detect_language(["hello"])
    assert raised.value.status_code == 429
    assert len(standin.requests) == 3


def test_wrong_key_is_an_authentication_error(standin: LanguageStandIn) -> None:
    """A wrong Ocp-Apim-Subscription-Key is a 401 that the SDK raises as
    ClientAuthenticationError; the recorded request does not keep the key."""
    with client_for(standin, key="wrong") as client, pytest.raises(ClientAuthenticationError):
        client.recognize_entities(["Microsoft"])
    [request] = standin.requests
    assert request.status == 401
    assert request.headers["Ocp-Apim-Subscription-Key"] == "<redacted>"


def test_bearer_token_over_https(tls_standin: LanguageStandIn) -> None:
    """A TokenCredential works over https with the stand-in's CA file, asks for the
    Cognitive Services scope, and a token the check refuses is a ClientAuthenticationError."""
    assert tls_standin.endpoint.startswith("https://")
    assert tls_standin.ca_path is not None
    good = StaticToken(TOKEN)
    verify: dict[str, Any] = {"connection_verify": tls_standin.ca_path, "retry_total": 0}
    with TextAnalyticsClient(tls_standin.endpoint, good, **verify) as client:
        [result] = client.recognize_pii_entities(["Bill Gates"])
    assert result.entities[0].category == "Person"
    assert good.scopes == (SCOPE,)
    assert tls_standin.requests[-1].headers["Authorization"] == "<redacted>"
    bad = StaticToken("stolen")
    with (
        TextAnalyticsClient(tls_standin.endpoint, bad, **verify) as client,
        pytest.raises(ClientAuthenticationError),
    ):
        client.recognize_entities(["Bill Gates"])


def test_bearer_token_over_plain_http_is_refused_by_the_sdk(standin: LanguageStandIn) -> None:
    """azure-core will not send a bearer token over http, which is why the stand-in serves
    TLS: the request never reaches the server."""
    with (
        TextAnalyticsClient(standin.endpoint, StaticToken(TOKEN)) as client,
        pytest.raises(ServiceRequestError),
    ):
        client.recognize_entities(["Microsoft"])
    assert standin.requests == []


def test_request_envelope_is_recorded(standin: LanguageStandIn) -> None:
    """Every request is recorded with path, api-version and the parsed body, so adapter
    tests can assert on batching and parameters."""
    with client_for(standin) as client:
        client.recognize_entities(
            ["Microsoft", "Seattle"], model_version="latest", disable_service_logs=True
        )
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", PATH)
    assert request.query["api-version"] == [API_VERSION]
    assert request.body["kind"] == "EntityRecognition"
    assert request.body["parameters"] == {
        "loggingOptOut": True,
        "modelVersion": "latest",
        "stringIndexType": "UnicodeCodePoint",
    }
    assert request.body["analysisInput"]["documents"] == [
        {"id": "0", "text": "Microsoft", "language": "en"},
        {"id": "1", "text": "Seattle", "language": "en"},
    ]
    assert KEY not in request.headers.values()


def test_statistics_when_asked(standin: LanguageStandIn) -> None:
    """show_stats=True sends showStats=true and gets per-document character counts."""
    with client_for(standin) as client:
        [result] = client.extract_key_phrases(["Zürich 😀"], show_stats=True)
    assert standin.requests[-1].query["showStats"] == ["true"]
    assert result.statistics.character_count == 8
    assert result.statistics.transaction_count == 1


def test_unsupported_api_version_is_a_bad_request(standin: LanguageStandIn) -> None:
    """The stand-in implements 2023-04-01 only: another api-version is a 400."""
    with (
        client_for(standin, api_version="2022-05-01") as client,
        pytest.raises(HttpResponseError) as raised,
    ):
        client.recognize_entities(["Microsoft"])
    assert raised.value.status_code == 400
    assert raised.value.error is not None
    assert raised.value.error.code == "InvalidParameterValue"
    assert standin.requests[-1].query["api-version"] == ["2022-05-01"]
