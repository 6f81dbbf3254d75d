"""The OpenAI-compatible stand-in, driven only through the official ``openai`` client."""

from __future__ import annotations

import base64
import math
import ssl
import struct
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from azure.core.credentials import AccessToken

from tools.standins.openai_api import OpenAIStandIn

KEY = "sk-test-key-0001"
TOKEN = "entra-token-0001"
SMALL = "text-embedding-3-small"
CHAT = "gpt-4o-mini"


@pytest.fixture
def standin() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(authorize=lambda credential: credential in {KEY, TOKEN}) as server:
        yield server


def client(standin: OpenAIStandIn, **options: Any) -> openai.OpenAI:
    options.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=standin.base_url, api_key=KEY, **options)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_embeddings_come_back_in_order_with_requested_dimensions_and_unit_norm(
    standin: OpenAIStandIn,
) -> None:
    """Several inputs give one unit vector each, in input order, of the requested size."""
    texts = ["invoice from Contoso", "meeting notes", "quarterly tax report"]
    api = client(standin)
    batch = api.embeddings.create(model=SMALL, input=texts, dimensions=256)
    assert [item.index for item in batch.data] == [0, 1, 2]
    assert batch.model == SMALL and batch.usage.prompt_tokens > 0
    for text, item in zip(texts, batch.data, strict=True):
        assert len(item.embedding) == 256
        assert math.isclose(math.fsum(x * x for x in item.embedding), 1.0, rel_tol=1e-5)
        alone = api.embeddings.create(model=SMALL, input=text, dimensions=256)
        assert alone.data[0].embedding == item.embedding
    native = api.embeddings.create(model="text-embedding-3-large", input="x")
    assert len(native.data[0].embedding) == 3072


def test_default_base64_and_float_encodings_decode_to_the_same_vectors(
    standin: OpenAIStandIn,
) -> None:
    """The client asks for base64 unless told otherwise; both encodings carry one vector."""
    api = client(standin)
    default = api.embeddings.create(model=SMALL, input=["alpha beta"], dimensions=64)
    assert standin.requests[-1].body["encoding_format"] == "base64"
    as_float = api.embeddings.create(
        model=SMALL, input=["alpha beta"], dimensions=64, encoding_format="float"
    )
    as_base64 = api.embeddings.create(
        model=SMALL, input=["alpha beta"], dimensions=64, encoding_format="base64"
    )
    encoded = as_base64.data[0].embedding
    assert isinstance(encoded, str)  # an explicit format is handed back undecoded
    decoded = list(struct.unpack("<64f", base64.b64decode(encoded)))
    assert default.data[0].embedding == as_float.data[0].embedding == decoded


def test_texts_sharing_words_are_closer_than_unrelated_texts(standin: OpenAIStandIn) -> None:
    """Cosine similarity follows shared words and stems, so vector search tests mean something."""
    query, near, far = (
        item.embedding
        for item in client(standin)
        .embeddings.create(
            model=SMALL,
            input=[
                "unpaid invoice for office chairs",
                "the invoices for the office chairs are unpaid",
                "weather forecast: sunny in Lisbon",
            ],
        )
        .data
    )
    assert cosine(query, near) > 0.5
    assert abs(cosine(query, far)) < 0.2


def test_too_many_inputs_are_a_bad_request_on_both_paths() -> None:
    """More inputs than the per-request limit give 400, in each path's documented words."""
    with OpenAIStandIn(max_inputs=4, azure_max_inputs=2) as standin:
        with pytest.raises(openai.BadRequestError) as caught:
            client(standin).embeddings.create(model=SMALL, input=["a"] * 5)
        assert caught.value.code == "array_above_max_length"
        azure = openai.OpenAI(base_url=standin.azure_base_url, api_key=KEY, max_retries=0)
        azure.embeddings.create(model=SMALL, input=["a", "b"])
        with pytest.raises(openai.BadRequestError, match="max number of inputs is 2"):
            azure.embeddings.create(model=SMALL, input=["a", "b", "c"])


def test_documented_input_limits_and_unsupported_inputs_are_refused(
    standin: OpenAIStandIn,
) -> None:
    """Over 2048 inputs, over 8192 tokens, token arrays, empty strings, too many dimensions."""
    api = client(standin)
    with pytest.raises(openai.BadRequestError):
        api.embeddings.create(model=SMALL, input=["a"] * 2049)
    with pytest.raises(openai.BadRequestError, match="maximum context length is 8192"):
        api.embeddings.create(model=SMALL, input="word " * 8193)
    with pytest.raises(openai.BadRequestError, match="token arrays"):
        api.embeddings.create(model=SMALL, input=[[1, 2, 3]])
    with pytest.raises(openai.BadRequestError):
        api.embeddings.create(model=SMALL, input="")
    with pytest.raises(openai.BadRequestError) as caught:
        api.embeddings.create(model=SMALL, input="x", dimensions=1537)
    assert caught.value.param == "dimensions"


def test_unknown_models_are_not_found_in_each_flavour(standin: OpenAIStandIn) -> None:
    """An unknown model is 404 model_not_found on OpenAI and DeploymentNotFound on Azure."""
    with pytest.raises(openai.NotFoundError) as caught:
        client(standin).embeddings.create(model="no-such-model", input="x")
    assert caught.value.code == "model_not_found"
    azure = openai.OpenAI(base_url=standin.azure_base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        azure.embeddings.create(model="no-such-deployment", input="x")
    assert caught.value.code == "DeploymentNotFound"


def test_rate_limit_with_retry_after_is_retried_by_the_client(standin: OpenAIStandIn) -> None:
    """Two 429s with retry-after-ms of 50 ms, then success: max_retries=2 gets through."""
    standin.fail_next(429, count=2, retry_after=0.05)
    started = time.monotonic()
    result = client(standin, max_retries=2).embeddings.create(model=SMALL, input="x")
    assert len(result.data) == 1
    assert time.monotonic() - started < 2  # the client honoured 50 ms, not its own backoff
    assert [r.path for r in standin.requests] == ["/v1/embeddings"] * 3
    retries = [r.headers.get("x-stainless-retry-count") for r in standin.requests]
    assert retries == ["0", "1", "2"]


def test_rate_limit_answer_carries_the_documented_headers(standin: OpenAIStandIn) -> None:
    """A 429 without retries left is RateLimitError with retry and quota headers, per flavour."""
    standin.fail_next(429, retry_after=1)
    with pytest.raises(openai.RateLimitError) as caught:
        client(standin).embeddings.create(model=SMALL, input="x")
    headers = caught.value.response.headers
    assert headers["retry-after"] == "1" and headers["retry-after-ms"] == "1000"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-remaining-tokens"] == "0"
    assert caught.value.code == "rate_limit_exceeded"
    standin.fail_next(429, retry_after=2)
    azure = openai.OpenAI(base_url=standin.azure_base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.RateLimitError, match="Please retry after 2 seconds") as caught:
        azure.embeddings.create(model=SMALL, input="x")
    assert caught.value.code == "429"


def test_server_errors_are_retried_then_surface(standin: OpenAIStandIn) -> None:
    """A 503 is retried by the client; a 500 with no retries left is InternalServerError."""
    standin.fail_next(503, retry_after=0.01)
    client(standin, max_retries=1).chat.completions.create(
        model=CHAT, messages=[{"role": "user", "content": "hi"}]
    )
    assert len(standin.requests) == 2
    standin.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        client(standin).embeddings.create(model=SMALL, input="x")


def test_bad_key_is_an_authentication_error(standin: OpenAIStandIn) -> None:
    """A refused credential is 401: invalid_api_key on OpenAI, Azure's key or token message."""
    with pytest.raises(openai.AuthenticationError) as caught:
        openai.OpenAI(
            base_url=standin.base_url, api_key="sk-wrong-key", max_retries=0
        ).embeddings.create(model=SMALL, input="x")
    assert caught.value.code == "invalid_api_key"
    azure = openai.AzureOpenAI(
        azure_endpoint=standin.azure_endpoint,
        api_version="2024-10-21",
        api_key="wrong",
        max_retries=0,
    )
    with pytest.raises(openai.AuthenticationError, match="invalid subscription key"):
        azure.embeddings.create(model=SMALL, input="x")
    assert standin.requests[-1].auth == "api-key"
    expired = openai.OpenAI(base_url=standin.azure_base_url, api_key="expired", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="Access token is missing, invalid"):
        expired.embeddings.create(model=SMALL, input="x")


class FakeCredential:
    """An Azure TokenCredential that hands out a fixed Entra token and notes the scopes."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(TOKEN, int(time.time()) + 3600)


def test_entra_token_provider_works_on_the_azure_v1_path(standin: OpenAIStandIn) -> None:
    """OpenAI(base_url=<azure v1>, api_key=<token provider>) sends the token as Bearer."""
    from azure.identity import get_bearer_token_provider

    credential = FakeCredential()
    provider = get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")
    azure = openai.OpenAI(base_url=standin.azure_base_url, api_key=provider, max_retries=0)
    result = azure.embeddings.create(model=SMALL, input="x", dimensions=8)
    assert len(result.data[0].embedding) == 8
    seen = standin.requests[-1]
    assert (seen.path, seen.auth) == ("/openai/v1/embeddings", "bearer")
    assert "authorization" not in seen.headers
    assert credential.scopes == [("https://cognitiveservices.azure.com/.default",)]


def test_azure_openai_client_reaches_deployments_with_token_or_key(
    standin: OpenAIStandIn,
) -> None:
    """AzureOpenAI calls /openai/deployments/{model}/: Entra token as Bearer, key as api-key."""
    with_token = openai.AzureOpenAI(
        azure_endpoint=standin.azure_endpoint,
        api_version="2024-10-21",
        azure_ad_token_provider=lambda: TOKEN,
        max_retries=0,
    )
    with_token.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "Hi."}])
    with_key = openai.AzureOpenAI(
        azure_endpoint=standin.azure_endpoint, api_version="2024-10-21", api_key=KEY, max_retries=0
    )
    with_key.embeddings.create(model=SMALL, input="x")
    token_call, key_call = standin.requests
    assert token_call.path == f"/openai/deployments/{CHAT}/chat/completions"
    assert key_call.path == f"/openai/deployments/{SMALL}/embeddings"
    assert (token_call.auth, key_call.auth) == ("bearer", "api-key")
    assert key_call.query == {"api-version": "2024-10-21"}
    assert "api-key" not in key_call.headers


def test_chat_completion_answers_and_reports_length_when_cut(standin: OpenAIStandIn) -> None:
    """The reply is the user's first sentences; a max token limit cuts it with 'length'."""
    api = client(standin)
    messages: list[Any] = [
        {"role": "system", "content": "Summarise."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "First point. Second point. Third."}],
        },
    ]
    full = api.chat.completions.create(model=CHAT, messages=messages, temperature=0)
    assert full.object == "chat.completion" and full.model == CHAT
    assert full.choices[0].message.role == "assistant"
    assert full.choices[0].message.content == "First point. Second point."
    assert full.choices[0].finish_reason == "stop"
    assert full.usage is not None and full.usage.completion_tokens == 6
    cut = api.chat.completions.create(model=CHAT, messages=messages, max_completion_tokens=3)
    assert cut.choices[0].message.content == "First point."
    assert cut.choices[0].finish_reason == "length"
    legacy = api.chat.completions.create(model=CHAT, messages=messages, max_tokens=1)
    assert (legacy.choices[0].message.content, legacy.choices[0].finish_reason) == (
        "First",
        "length",
    )
    assert standin.requests[-1].body["max_tokens"] == 1


def test_chat_uses_the_configured_responder_and_refuses_streaming(
    standin: OpenAIStandIn,
) -> None:
    """A test's responder sees the messages; stream=true is refused with 400."""
    seen: list[Any] = []

    def classify(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)
        return '{"label": "invoice"}'

    standin.responder = classify
    api = client(standin)
    reply = api.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content == '{"label": "invoice"}'
    assert seen == [[{"role": "user", "content": "x"}]]
    with pytest.raises(openai.BadRequestError):
        api.chat.completions.create(
            model=CHAT, messages=[{"role": "user", "content": "x"}], stream=True
        )


def test_requests_are_recorded_for_batching_assertions(standin: OpenAIStandIn) -> None:
    """Each request is kept with method, path, JSON body and headers without secrets."""
    client(standin).embeddings.create(model=SMALL, input=["a", "b", "c"])
    (seen,) = standin.requests
    assert (seen.method, seen.path, seen.auth) == ("POST", "/v1/embeddings", "bearer")
    assert seen.body["input"] == ["a", "b", "c"]
    assert "authorization" not in seen.headers and seen.headers["content-type"].startswith(
        "application/json"
    )


def test_tls_serves_with_a_self_signed_certificate() -> None:
    """With tls=True the client verifies the stand-in against ca_path."""
    with OpenAIStandIn(tls=True) as standin:
        assert standin.base_url.startswith("https://127.0.0.1:") and standin.ca_path is not None
        http = openai.DefaultHttpxClient(verify=ssl.create_default_context(cafile=standin.ca_path))
        api = openai.OpenAI(base_url=standin.base_url, api_key=KEY, http_client=http)
        assert api.embeddings.create(model=SMALL, input="x").model == SMALL
