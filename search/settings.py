"""The search capability's settings, read once into a frozen object.

Every name read here is a constant below and appears in
``local.settings.sample.json`` and in the Bicep app settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from kernel.env import Env, as_env
from kernel.errors import SettingsError

SEARCH_ENDPOINT = "SEARCH_ENDPOINT"
SEARCH_INDEX = "SEARCH_INDEX"
SEARCH_ANALYZER = "SEARCH_ANALYZER"
SEARCH_CHUNK_CHARS = "SEARCH_CHUNK_CHARS"
SEARCH_CHUNK_OVERLAP_CHARS = "SEARCH_CHUNK_OVERLAP_CHARS"
SEARCH_STATUS_TABLE = "SEARCH_STATUS_TABLE"
SEARCH_REINDEX_QUEUE = "SEARCH_REINDEX_QUEUE"
EMBEDDINGS_ENDPOINT = "EMBEDDINGS_ENDPOINT"
EMBEDDINGS_MODEL = "EMBEDDINGS_MODEL"
EMBEDDINGS_DIMENSIONS = "EMBEDDINGS_DIMENSIONS"
EMBEDDINGS_API_KEY = "EMBEDDINGS_API_KEY"
EMBEDDINGS_MAX_CHARS_PER_DOCUMENT = "EMBEDDINGS_MAX_CHARS_PER_DOCUMENT"
# The document workflow's own names for where results and records live: search
# reads them (never writes) to find a document's stored result.
RESULTS_CONTAINER = "RESULTS_CONTAINER"
DOCUMENTS_TABLE = "DOCUMENTS_TABLE"

#: Settings with a default, which a deployment may leave out.
OPTIONAL = frozenset(
    {
        SEARCH_ENDPOINT,
        SEARCH_INDEX,
        SEARCH_ANALYZER,
        SEARCH_CHUNK_CHARS,
        SEARCH_CHUNK_OVERLAP_CHARS,
        SEARCH_STATUS_TABLE,
        EMBEDDINGS_ENDPOINT,
        EMBEDDINGS_MODEL,
        EMBEDDINGS_DIMENSIONS,
        EMBEDDINGS_API_KEY,
        EMBEDDINGS_MAX_CHARS_PER_DOCUMENT,
        RESULTS_CONTAINER,
        DOCUMENTS_TABLE,
        # Not SEARCH_REINDEX_QUEUE: the reindex queue trigger's binding names it
        # (%SEARCH_REINDEX_QUEUE%), and the host refuses a binding whose setting is unset.
    }
)

_MIN_CHUNK_CHARS = 200
_MAX_CHUNK_CHARS = 8_000
_MAX_DIMENSIONS = 4_096


@dataclass(frozen=True, slots=True)
class EmbeddingsSettings:
    """An OpenAI-compatible embeddings provider; ``api_key`` None means an Entra token."""

    endpoint: str
    model: str
    dimensions: int
    api_key: str | None = None


@dataclass(frozen=True, slots=True)
class SearchSettings:
    #: Azure AI Search's endpoint; None: the embedded engine under DATA_DIR.
    endpoint: str | None = None
    index: str = "documents"
    #: The language analyzer of the Azure index's content field.
    analyzer: str = "en.microsoft"
    #: Target chunk size and the overlap carried from one chunk into the next.
    chunk_chars: int = 1_000
    chunk_overlap_chars: int = 100
    status_table: str = "searchstatus"
    reindex_queue: str = "search-reindex"
    embeddings: EmbeddingsSettings | None = None
    #: At most this many characters of one document are embedded (the rest is text only).
    embeddings_max_chars_per_document: int = 200_000
    results_container: str = "results"
    documents_table: str = "documents"

    @property
    def dimensions(self) -> int | None:
        return self.embeddings.dimensions if self.embeddings else None

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> SearchSettings:
        env = as_env(source)
        defaults = cls()
        chunk = env.positive_int(SEARCH_CHUNK_CHARS, defaults.chunk_chars)
        if not _MIN_CHUNK_CHARS <= chunk <= _MAX_CHUNK_CHARS:
            raise SettingsError(
                f"{SEARCH_CHUNK_CHARS} must be between {_MIN_CHUNK_CHARS} and {_MAX_CHUNK_CHARS}"
            )
        overlap_raw = env.raw(SEARCH_CHUNK_OVERLAP_CHARS)
        overlap = defaults.chunk_overlap_chars if not overlap_raw else _whole(overlap_raw)
        if not 0 <= overlap <= chunk // 2:
            raise SettingsError(
                f"{SEARCH_CHUNK_OVERLAP_CHARS} must be between 0 and half of {SEARCH_CHUNK_CHARS}"
            )
        return cls(
            endpoint=env.optional(SEARCH_ENDPOINT),
            index=env.text(SEARCH_INDEX, defaults.index),
            analyzer=env.text(SEARCH_ANALYZER, defaults.analyzer),
            chunk_chars=chunk,
            chunk_overlap_chars=overlap,
            status_table=env.text(SEARCH_STATUS_TABLE, defaults.status_table),
            reindex_queue=env.text(SEARCH_REINDEX_QUEUE, defaults.reindex_queue),
            embeddings=_embeddings(env),
            embeddings_max_chars_per_document=env.positive_int(
                EMBEDDINGS_MAX_CHARS_PER_DOCUMENT, defaults.embeddings_max_chars_per_document
            ),
            results_container=env.text(RESULTS_CONTAINER, defaults.results_container),
            documents_table=env.text(DOCUMENTS_TABLE, defaults.documents_table),
        )


def _whole(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{SEARCH_CHUNK_OVERLAP_CHARS} must be a whole number") from None


def _embeddings(env: Env) -> EmbeddingsSettings | None:
    endpoint = env.optional(EMBEDDINGS_ENDPOINT)
    model = env.optional(EMBEDDINGS_MODEL)
    dimensions = env.positive_int(EMBEDDINGS_DIMENSIONS, 1536)
    api_key = env.optional(EMBEDDINGS_API_KEY)
    if endpoint is None:
        return None
    if model is None:
        raise SettingsError(f"{EMBEDDINGS_MODEL} must be set with {EMBEDDINGS_ENDPOINT}")
    if dimensions > _MAX_DIMENSIONS:
        raise SettingsError(f"{EMBEDDINGS_DIMENSIONS} must be at most {_MAX_DIMENSIONS}")
    return EmbeddingsSettings(endpoint, model, dimensions, api_key)


@cache
def search_settings() -> SearchSettings:
    """The process's search settings, read from the environment on first use."""
    return SearchSettings.from_env()
