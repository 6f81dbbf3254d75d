"""Embeddings through the ``openai`` package: Azure OpenAI's v1 API or any
OpenAI-compatible server (imported on first use).

``EMBEDDINGS_ENDPOINT`` is the resource's endpoint (``https://NAME.openai.azure.com``:
the client then calls ``/openai/v1/``) or a base URL already ending in ``/v1``.
Authentication: ``EMBEDDINGS_API_KEY`` if set, else an Entra token for the
Cognitive Services scope from the app's one credential
(:class:`kernel.openai_client.OpenAIClient`).

Requests carry at most :data:`MAX_BATCH_INPUTS` inputs and about
:data:`MAX_BATCH_TOKENS` tokens (estimated at four characters a token, on the
safe side for English); the client retries 429 and 5xx answers honouring
``retry-after`` (``max_retries``), and what still fails raises
:class:`~search.errors.EmbeddingsUnavailableError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kernel.openai_client import OpenAIClient
from search.errors import EmbeddingsUnavailableError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

log = logging.getLogger(__name__)

MAX_BATCH_INPUTS = 16
MAX_BATCH_TOKENS = 8_000
CHARS_PER_TOKEN = 3
MAX_RETRIES = 4
TIMEOUT_SECONDS = 60.0


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
        self._client = OpenAIClient(
            endpoint,
            api_key=api_key,
            credential=credential,
            options={
                "max_retries": MAX_RETRIES,
                "timeout": TIMEOUT_SECONDS,
                **(client_options or {}),
            },
        )
        self._model = model
        self._dimensions = dimensions

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        import openai

        client = self._client.get()
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
