"""The ``openai`` client for Azure OpenAI's v1 API or any OpenAI-compatible
server, built on first use and shared by the adapters that call it
(abstractive summaries, embeddings).

An endpoint that already ends in ``/v1`` is an OpenAI-compatible base URL;
any other is an Azure OpenAI resource (``https://NAME.openai.azure.com``),
called on ``/openai/v1/``. Authentication: an API key if given, else a
Microsoft Entra token for the Cognitive Services scope from the app's one
credential (``azure.identity.get_bearer_token_provider``, handed to the client
as its ``api_key`` callable, so every request gets a fresh token). ``openai``
and ``azure.identity`` are imported when the client is first built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

#: The Entra scope Azure OpenAI (Cognitive Services) accepts tokens for.
SCOPE = "https://cognitiveservices.azure.com/.default"


def base_url(endpoint: str) -> str:
    """The client's base URL: ``endpoint`` itself if it ends in ``/v1``, else Azure's v1 API."""
    endpoint = endpoint.rstrip("/")
    return endpoint + "/" if endpoint.endswith("/v1") else endpoint + "/openai/v1/"


class OpenAIClient:
    """One lazily built ``openai.OpenAI`` for an endpoint, with a key or a credential."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        credential: Callable[[], TokenCredential] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if api_key is None and credential is None:
            raise ValueError("an API key or a credential is needed")
        self.base_url = base_url(endpoint)
        self._api_key = api_key
        self._credential = credential
        self._options = dict(options or {})
        self._lock = threading.Lock()
        self._client: Any = None

    def get(self) -> Any:
        """The ``openai.OpenAI`` client, built on the first call."""
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
                self._client = openai.OpenAI(base_url=self.base_url, api_key=key, **self._options)
            return self._client
