"""Abstractive summaries through the ``openai`` package: Azure OpenAI's v1 API or
any OpenAI-compatible server.

``SUMMARY_ENDPOINT`` is the resource's endpoint (``https://NAME.openai.azure.com``:
the client then calls ``/openai/v1/``) or a base URL that already ends in
``/v1`` (an OpenAI-compatible server). ``SUMMARY_MODEL`` is the chat deployment
(Azure) or model name. Authentication: ``SUMMARY_API_KEY`` if set, else an Entra
token for the Cognitive Services scope from the app's one credential
(``azure.identity.get_bearer_token_provider``, handed to the client as its
``api_key`` callable, so every request gets a fresh token).

The prompt is bounded: the extractive summary's sentences (at most five of at
most 500 characters) and up to 20 headings; the answer is capped at
:data:`MAX_COMPLETION_TOKENS` tokens and :data:`MAX_SUMMARY_CHARS` characters.
The client retries 429 and 5xx answers (``max_retries``, honouring
``retry-after``); a call that still fails raises
:class:`~processing.enrichment.ports.SummaryUnavailableError` and the summary stays
extractive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from processing.enrichment.ports import SummaryRequest, SummaryUnavailableError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

log = logging.getLogger(__name__)

SOURCE = "azure-openai"
SCOPE = "https://cognitiveservices.azure.com/.default"
MAX_COMPLETION_TOKENS = 300
MAX_SUMMARY_CHARS = 2_000
MAX_RETRIES = 3
TIMEOUT_SECONDS = 30.0
SUMMARY_WORDS = 120

_SYSTEM = (
    "You write faithful, neutral summaries of documents. Use only the material given; "
    f"never add facts. Answer with the summary alone, in at most {SUMMARY_WORDS} words, "
    "in the language of the material."
)


def base_url(endpoint: str) -> str:
    """The client's base URL: ``endpoint`` itself if it ends in ``/v1``, else Azure's v1 API."""
    endpoint = endpoint.rstrip("/")
    return endpoint + "/" if endpoint.endswith("/v1") else endpoint + "/openai/v1/"


def prompt(request: SummaryRequest) -> str:
    lines = []
    if request.title:
        lines.append(f"Title: {request.title}")
    if request.language:
        lines.append(f"Language: {request.language}")
    if request.headings:
        lines.append("Headings:")
        lines.extend(f"- {heading}" for heading in request.headings)
    lines.append("Key sentences, in document order:")
    lines.extend(f"{index}. {sentence}" for index, sentence in enumerate(request.sentences, 1))
    return "\n".join(lines)


class OpenAISummarizer:
    """The :class:`~processing.enrichment.ports.Summarizer` port over chat completions."""

    name = SOURCE

    def __init__(
        self,
        endpoint: str,
        model: str,
        *,
        api_key: str | None = None,
        credential: Callable[[], TokenCredential] | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        if api_key is None and credential is None:
            raise ValueError("an API key or a credential is needed")
        self._base_url = base_url(endpoint)
        self._model = model
        self._api_key = api_key
        self._credential = credential
        self._options: dict[str, Any] = {
            "max_retries": MAX_RETRIES,
            "timeout": TIMEOUT_SECONDS,
            **(client_options or {}),
        }
        self._lock = threading.Lock()
        self._client: Any = None

    def _connect(self) -> Any:
        with self._lock:
            if self._client is None:
                import openai

                key: str | Callable[[], str]
                if self._api_key is not None:
                    key = self._api_key
                else:
                    from azure.identity import get_bearer_token_provider

                    assert self._credential is not None
                    key = get_bearer_token_provider(self._credential(), SCOPE)
                self._client = openai.OpenAI(base_url=self._base_url, api_key=key, **self._options)
            return self._client

    def summarize(self, request: SummaryRequest) -> str:
        import openai

        client = self._connect()
        try:
            completion = client.chat.completions.create(
                model=self._model,
                messages=[
                    {"role": "system", "content": _SYSTEM},
                    {"role": "user", "content": prompt(request)},
                ],
                max_completion_tokens=MAX_COMPLETION_TOKENS,
            )
        except openai.OpenAIError as exc:
            status = getattr(exc, "status_code", None)
            log.warning(
                "summary_service.failed",
                extra={"error_type": type(exc).__name__, "status": status},
            )
            detail = f"HTTP {status}" if status else type(exc).__name__
            raise SummaryUnavailableError(
                f"the abstractive summary failed ({detail}); the summary stays extractive"
            ) from exc
        choice = completion.choices[0] if completion.choices else None
        content = (choice.message.content or "") if choice is not None else ""
        text = " ".join(content.split())[:MAX_SUMMARY_CHARS]
        log.info(
            "summary_service.summarized",
            extra={"finish_reason": getattr(choice, "finish_reason", None), "chars": len(text)},
        )
        return text
