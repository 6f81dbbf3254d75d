"""Embeddings through the ``openai`` package: Azure OpenAI's v1 API or any
OpenAI-compatible server (imported on first use).

``EMBEDDINGS_ENDPOINT`` is the resource's endpoint (``https://NAME.openai.azure.com``:
the client then calls ``/openai/v1/``) or a base URL already ending in ``/v1``.
Authentication: ``EMBEDDINGS_API_KEY`` if set, else an Entra token for the
Cognitive Services scope from the app's one credential (a bearer token
provider handed to the client as its ``api_key`` callable).

Requests carry at most :data:`MAX_BATCH_INPUTS` inputs and about
:data:`MAX_BATCH_TOKENS` tokens (estimated at four characters a token, on the
safe side for English); the client retries 429 and 5xx answers honouring
``retry-after`` (``max_retries``), and what still fails raises
:class:`~search.errors.EmbeddingsUnavailableError`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from search.errors import EmbeddingsUnavailableError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

log = logging.getLogger(__name__)

SCOPE = "https://cognitiveservices.azure.com/.default"
MAX_BATCH_INPUTS = 16
MAX_BATCH_TOKENS = 8_000
CHARS_PER_TOKEN = 3
MAX_RETRIES = 4
TIMEOUT_SECONDS = 60.0


def base_url(endpoint: str) -> str:
    """The client's base URL: ``endpoint`` itself if it ends in ``/v1``, else Azure's v1 API."""
    endpoint = endpoint.rstrip("/")
    return endpoint + "/" if endpoint.endswith("/v1") else endpoint + "/openai/v1/"


def estimated_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def batches(texts: Sequence[str]) -> Iterator[list[int]]:
    """Indexes of ``texts`` in batches of at most 16 inputs and about 8,000 tokens."""
    batch: list[int] = []
    tokens = 0
    for index, text in enumerate(texts):
        cost = estimated_tokens(text)
        if batch and (len(batch) >= MAX_BATCH_INPUTS or tokens + cost > MAX_BATCH_TOKENS):
            yield batch
            batch, tokens = [], 0
        batch.append(index)
        tokens += cost
    if batch:
        yield batch


class OpenAIEmbedder:
    """The :class:`~search.ports.Embedder` port over the embeddings API."""

    def __init__(
        self,
        endpoint: str,
        model: str,
        dimensions: int,
        *,
        api_key: str | None = None,
        credential: Callable[[], TokenCredential] | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        if api_key is None and credential is None:
            raise ValueError("an API key or a credential is needed")
        self._base_url = base_url(endpoint)
        self._model = model
        self._dimensions = dimensions
        self._api_key = api_key
        self._credential = credential
        self._options: dict[str, Any] = {
            "max_retries": MAX_RETRIES,
            "timeout": TIMEOUT_SECONDS,
            **(client_options or {}),
        }
        self._lock = threading.Lock()
        self._client: Any = None

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

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

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        import openai

        client = self._connect()
        vectors: list[tuple[float, ...] | None] = [None] * len(texts)
        for batch in batches(texts):
            try:
                answer = client.embeddings.create(
                    model=self._model,
                    input=[texts[i] for i in batch],
                    dimensions=self._dimensions,
                    encoding_format="float",
                )
            except openai.OpenAIError as exc:
                status = getattr(exc, "status_code", None)
                log.warning(
                    "embeddings.failed",
                    extra={"error_type": type(exc).__name__, "status": status},
                )
                detail = f"HTTP {status}" if status else type(exc).__name__
                raise EmbeddingsUnavailableError(
                    f"the embeddings request failed ({detail})"
                ) from exc
            for item in answer.data:
                if len(item.embedding) != self._dimensions:
                    raise EmbeddingsUnavailableError(
                        f"the provider answered {len(item.embedding)} dimensions,"
                        f" not {self._dimensions}"
                    )
                vectors[batch[item.index]] = tuple(float(x) for x in item.embedding)
        if any(vector is None for vector in vectors):
            raise EmbeddingsUnavailableError("the provider left inputs without a vector")
        return [vector for vector in vectors if vector is not None]
