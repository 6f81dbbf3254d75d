"""Enrichment settings: which providers run and how, read once into a frozen object.

Every name is a constant here, appears in ``local.settings.sample.json`` and in
the Bicep app settings, and has a default (all are optional): with none set,
only the offline providers run (patterns, language detection, extractive
summary). :class:`processing.settings.ProcessingSettings` builds this object.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from kernel.env import Env
from kernel.errors import SettingsError

LANGUAGE_ENDPOINT = "LANGUAGE_ENDPOINT"
LANGUAGE_KEY = "LANGUAGE_KEY"
PII_REDACTION = "PII_REDACTION"
PII_CATEGORIES = "PII_CATEGORIES"
LANGUAGE_MAX_CHARS = "LANGUAGE_MAX_CHARS"
SUMMARY_PROVIDER = "SUMMARY_PROVIDER"
SUMMARY_ENDPOINT = "SUMMARY_ENDPOINT"
SUMMARY_MODEL = "SUMMARY_MODEL"
SUMMARY_API_KEY = "SUMMARY_API_KEY"
SPACY_MODEL = "SPACY_MODEL"

OPTIONAL = frozenset(
    {
        LANGUAGE_ENDPOINT,
        LANGUAGE_KEY,
        PII_REDACTION,
        PII_CATEGORIES,
        LANGUAGE_MAX_CHARS,
        SUMMARY_PROVIDER,
        SUMMARY_ENDPOINT,
        SUMMARY_MODEL,
        SUMMARY_API_KEY,
        SPACY_MODEL,
    }
)

#: Characters of one document sent to Azure AI Language by default: 20 windows
#: of 5,120 characters, about 100 billed text records per action.
DEFAULT_LANGUAGE_MAX_CHARS = 100_000


class SummaryProvider(StrEnum):
    EXTRACTIVE = "extractive"
    AZURE_OPENAI = "azure-openai"
    AZURE_LANGUAGE = "azure-language"


@dataclass(frozen=True, slots=True)
class EnrichmentSettings:
    """Cloud providers are on when their endpoint is set; keys empty mean Entra ID."""

    language_endpoint: str | None = None
    language_key: str | None = None
    pii_redaction: bool = False
    #: Azure AI Language PII categories (``Person``, ``Email``...); empty: the service's default.
    pii_categories: tuple[str, ...] = ()
    language_max_chars: int = DEFAULT_LANGUAGE_MAX_CHARS
    summary_provider: SummaryProvider = SummaryProvider.EXTRACTIVE
    summary_endpoint: str | None = None
    summary_model: str | None = None
    summary_api_key: str | None = None
    spacy_model: str | None = None

    @property
    def language_enabled(self) -> bool:
        return self.language_endpoint is not None

    @property
    def cloud_enabled(self) -> bool:
        return self.language_enabled or self.summary_provider is not SummaryProvider.EXTRACTIVE

    def fingerprint(self) -> str:
        """A short digest of what changes the result for the same bytes (never a key):
        part of the content-cache key, so turning a provider on is not served stale."""
        parts = (
            self.language_endpoint or "",
            str(self.pii_redaction),
            ",".join(self.pii_categories),
            str(self.language_max_chars),
            self.summary_provider.value,
            self.summary_endpoint or "",
            self.summary_model or "",
            self.spacy_model or "",
        )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]

    @classmethod
    def from_env(cls, env: Env) -> EnrichmentSettings:
        defaults = cls()
        provider_raw = env.text(SUMMARY_PROVIDER, defaults.summary_provider.value).lower()
        try:
            provider = SummaryProvider(provider_raw)
        except ValueError:
            choices = ", ".join(p.value for p in SummaryProvider)
            raise SettingsError(
                f"{SUMMARY_PROVIDER} must be one of {choices}, not {provider_raw!r}"
            ) from None
        settings = cls(
            language_endpoint=_url(env, LANGUAGE_ENDPOINT),
            language_key=env.optional(LANGUAGE_KEY),
            pii_redaction=env.flag(PII_REDACTION, default=defaults.pii_redaction),
            pii_categories=env.items(PII_CATEGORIES),
            language_max_chars=env.positive_int(LANGUAGE_MAX_CHARS, defaults.language_max_chars),
            summary_provider=provider,
            summary_endpoint=_url(env, SUMMARY_ENDPOINT),
            summary_model=env.optional(SUMMARY_MODEL),
            summary_api_key=env.optional(SUMMARY_API_KEY),
            spacy_model=env.optional(SPACY_MODEL),
        )
        settings._check()
        return settings

    def _check(self) -> None:
        if self.pii_redaction and not self.language_enabled:
            raise SettingsError(
                f"{PII_REDACTION}=true needs a PII provider: set {LANGUAGE_ENDPOINT}"
            )
        if self.summary_provider is SummaryProvider.AZURE_OPENAI:
            if not self.summary_endpoint:
                raise SettingsError(f"{SUMMARY_PROVIDER}=azure-openai needs {SUMMARY_ENDPOINT}")
            if not self.summary_model:
                raise SettingsError(
                    f"{SUMMARY_PROVIDER}=azure-openai needs {SUMMARY_MODEL} (the deployment name)"
                )
        if self.summary_provider is SummaryProvider.AZURE_LANGUAGE and not self.language_enabled:
            raise SettingsError(f"{SUMMARY_PROVIDER}=azure-language needs {LANGUAGE_ENDPOINT}")
        for category in self.pii_categories:
            if not category.isalnum():
                raise SettingsError(f"{PII_CATEGORIES}: {category!r} is not a category name")


def _url(env: Env, name: str) -> str | None:
    raw = env.optional(name)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, not {raw!r}")
    return raw.rstrip("/")
