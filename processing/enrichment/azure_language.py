"""Azure AI Language (analyze-text 2023-04-01) through ``azure-ai-textanalytics``.

The service's documented limits shape every call ("Service limits for Azure AI
Language", synchronous requests):

* at most 5,120 characters (text elements) per document: the service gets
  windows of whole sentences (:mod:`processing.enrichment.windows`);
* documents per request: entity recognition 5, PII 5, key phrases 10, language
  detection 1,000 (:data:`BATCH_SIZE`);
* offsets come back as code points (the SDK sends
  ``stringIndexType=UnicodeCodePoint``), i.e. Python string indices, and are
  shifted by each window's start.

429 (with ``Retry-After``) and 5xx answers are retried by azure-core's retry
policy, which honours ``Retry-After``; what still fails (an exhausted retry
budget, a refused credential, the network) becomes a warning for that action,
as do per-document errors. ``disable_service_logs`` is set: the service keeps
no copy of the text for troubleshooting.

Credentials: ``LANGUAGE_KEY`` set, an ``AzureKeyCredential``; else the app's
one Entra credential (managed identity), which needs a role allowing the
analyze-text data action (``infra/modules/language.bicep``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from processing.enrichment.ports import TextAnalysis, Window
from processing.enrichment.windows import batches
from processing.extraction.result import Entity, ProcessingWarning

if TYPE_CHECKING:
    from azure.ai.textanalytics import TextAnalyticsClient
    from azure.core.credentials import TokenCredential

log = logging.getLogger(__name__)

SOURCE = "azure-language"
BATCH_SIZE = {"entities": 5, "pii": 5, "key_phrases": 10, "language": 1000}
#: Retries of throttled (429) and failed (5xx) calls; azure-core waits Retry-After
#: when given, else exponential backoff from RETRY_BACKOFF seconds.
RETRY_TOTAL = 4
RETRY_BACKOFF = 0.8
RETRY_BACKOFF_MAX = 30.0
TIMEOUT_SECONDS = 30

#: Service categories that have a type of the result already (patterns share them).
_CATEGORY_TYPES = {
    "PhoneNumber": "phone",
    "IPAddress": "ip_address",
    "URL": "url",
    "Email": "email",
    "CreditCardNumber": "payment_card",
    "InternationalBankingAccountNumber": "iban",
    "DateTime": "datetime",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def entity_type(category: str) -> str:
    """A service category in the result's snake case (``PersonType`` → ``person_type``)."""
    if category in _CATEGORY_TYPES:
        return _CATEGORY_TYPES[category]
    return _CAMEL.sub("_", category).lower()


class AzureLanguageService:
    """The :class:`~processing.enrichment.ports.LanguageService` port on Azure AI Language."""

    name = SOURCE

    def __init__(
        self,
        endpoint: str,
        *,
        key: str | None = None,
        credential: Callable[[], TokenCredential] | None = None,
        pii_categories: Sequence[str] = (),
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        if key is None and credential is None:
            raise ValueError("a key or a credential is needed")
        self._endpoint = endpoint
        self._key = key
        self._credential = credential
        self._pii_categories = list(pii_categories)
        self._options: dict[str, Any] = {
            "retry_total": RETRY_TOTAL,
            "retry_backoff_factor": RETRY_BACKOFF,
            "retry_backoff_max": RETRY_BACKOFF_MAX,
            "connection_timeout": TIMEOUT_SECONDS,
            "read_timeout": TIMEOUT_SECONDS,
            **(client_options or {}),
        }
        self._lock = threading.Lock()
        self._client: TextAnalyticsClient | None = None

    def _connect(self) -> TextAnalyticsClient:
        with self._lock:
            if self._client is None:
                from azure.ai.textanalytics import TextAnalyticsClient
                from azure.core.credentials import AzureKeyCredential

                credential: Any
                if self._key is not None:
                    credential = AzureKeyCredential(self._key)
                else:
                    assert self._credential is not None
                    credential = self._credential()
                self._client = TextAnalyticsClient(self._endpoint, credential, **self._options)
            return self._client

    def client(self) -> TextAnalyticsClient:
        """The one SDK client (connected on first use), shared with the summarizer."""
        return self._connect()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def analyze(
        self, windows: Sequence[Window], *, language: str | None, pii: bool
    ) -> TextAnalysis:
        analysis = TextAnalysis()
        client = self._connect()
        detected = self._detect(client, windows, analysis)
        if detected is not None:
            analysis.language = detected
            language = detected[0]
        analysed = self._run(client, "entities", windows, language, analysis)
        if pii:
            analysis.pii_complete = self._run(client, "pii", windows, language, analysis) == len(
                windows
            )
        self._run(client, "key_phrases", windows, language, analysis)
        log.info("language_service.analyzed", extra={"windows": len(windows), "ner": analysed})
        return analysis

    def _detect(
        self, client: TextAnalyticsClient, windows: Sequence[Window], analysis: TextAnalysis
    ) -> tuple[str, float] | None:
        """The language of the first window (one billed record); None if unknown."""
        from azure.core.exceptions import AzureError

        try:
            [result] = client.detect_language(
                [windows[0].text], country_hint="none", disable_service_logs=True
            )
        except AzureError as exc:
            analysis.warnings.append(_failure("language", exc))
            return None
        if result.is_error:
            analysis.warnings.append(_document_warning("language", windows[0], result.error))
            return None
        primary = result.primary_language
        code = primary.iso6391_name
        if not code or code == "(Unknown)":
            return None
        return code, round(float(primary.confidence_score), 4)

    def _run(
        self,
        client: TextAnalyticsClient,
        action: str,
        windows: Sequence[Window],
        language: str | None,
        analysis: TextAnalysis,
    ) -> int:
        """One action over every window, in batches; the number of windows analysed."""
        from azure.core.exceptions import AzureError

        done = 0
        for batch in batches(list(windows), BATCH_SIZE[action]):
            texts = [window.text for window in batch]
            try:
                results = self._call(client, action, texts, language)
            except AzureError as exc:
                analysis.warnings.append(_failure(action, exc))
                return done
            for window, result in zip(batch, results, strict=True):
                if result.is_error:
                    analysis.warnings.append(_document_warning(action, window, result.error))
                    continue
                done += 1
                if action == "key_phrases":
                    analysis.key_phrases.append(list(result.key_phrases))
                    continue
                target = analysis.pii if action == "pii" else analysis.entities
                target.extend(_entities(window, result.entities))
        return done

    def _call(
        self, client: TextAnalyticsClient, action: str, texts: list[str], language: str | None
    ) -> list[Any]:
        common: dict[str, Any] = {"language": language or "en", "disable_service_logs": True}
        if action == "entities":
            return list(client.recognize_entities(texts, **common))
        if action == "pii":
            if self._pii_categories:
                common["categories_filter"] = self._pii_categories
            return list(client.recognize_pii_entities(texts, **common))
        return list(client.extract_key_phrases(texts, **common))


def _entities(window: Window, found: Sequence[Any]) -> list[Entity]:
    entities = []
    for item in found:
        start = window.start + int(item.offset)
        end = start + int(item.length)
        subtype = item.subcategory
        entities.append(
            Entity(
                type=entity_type(str(item.category)),
                text=str(item.text),
                value=str(item.text),
                start=start,
                end=end,
                subtype=entity_type(str(subtype)) if subtype else None,
                confidence=round(float(item.confidence_score), 4),
                source=SOURCE,
            )
        )
    return entities


def failure_detail(exc: Exception) -> tuple[int | None, str]:
    """A failed call's HTTP status (if any) and a safe detail: ``HTTP 503`` or the type."""
    status = getattr(exc, "status_code", None)
    return status, f"HTTP {status}" if status else type(exc).__name__


def _failure(action: str, exc: Exception) -> ProcessingWarning:
    status, detail = failure_detail(exc)
    log.warning(
        "language_service.failed",
        extra={"action": action, "error_type": type(exc).__name__, "status": status},
    )
    return ProcessingWarning(
        "language_service_failed",
        f"Azure AI Language {action.replace('_', ' ')} failed ({detail}); "
        "the offline results are kept",
    )


def _document_warning(action: str, window: Window, error: Any) -> ProcessingWarning:
    code = getattr(error, "code", None) or "error"
    log.warning(
        "language_service.document_error",
        extra={"action": action, "error_code": code, "window_start": window.start},
    )
    return ProcessingWarning(
        "language_service_document_error",
        f"Azure AI Language {action.replace('_', ' ')} refused characters "
        f"{window.start}-{window.end} ({code})",
    )
