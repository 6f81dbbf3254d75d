"""Abstractive summaries from Azure AI Language (``SUMMARY_PROVIDER=azure-language``).

``TextAnalyticsClient.begin_abstract_summary`` is a long-running operation (API
2023-04-01): ``POST {endpoint}/language/analyze-text/jobs`` with one
``AbstractiveSummarization`` task answers 202 and an ``operation-location``,
which the SDK polls until the job's ``status`` is terminal; the result is
``AbstractiveSummarizationLROResults`` with ``summaries[].text``.

Bounds, from "Service limits for Azure AI Language" (asynchronous features:
125,000 characters across all documents of a request, at most 25 documents;
one document over the limit rejects the whole request):

* input: one document, the text's first ``min(LANGUAGE_MAX_CHARS, 125,000)``
  characters cut at a sentence boundary (code points are never fewer than
  text elements, so the cut is within the limit); the same budget as the
  synchronous analysis, so one huge file cannot spend the quota;
* output: :data:`SENTENCE_COUNT` sentences asked for, at most
  :data:`MAX_SUMMARY_CHARS` characters kept;
* wait: at most :data:`MAX_WAIT_SECONDS` from submission to result; the
  service's status answers are polled every :data:`POLL_SECONDS`.

429 (with ``Retry-After``) and 5xx answers are retried by the shared client's
azure-core retry policy (:class:`~processing.enrichment.azure_language.AzureLanguageService`
owns the client and its credential). A refused request, a failed job, a
per-document error or the wait running out raises
:class:`~processing.enrichment.ports.SummaryUnavailableError`: the summary stays
extractive and the result gets a ``summary_unavailable`` warning. A job still
running when the wait ends is left to finish or expire on the service; its
poller is a daemon thread that stops at the job's terminal status.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from processing.enrichment.azure_language import AzureLanguageService, failure_detail
from processing.enrichment.ports import SummaryRequest, SummaryUnavailableError
from processing.enrichment.windows import make_windows

log = logging.getLogger(__name__)

SOURCE = "azure-language"
#: The documented asynchronous limit: characters across all documents of a request.
SERVICE_MAX_CHARS = 125_000
SENTENCE_COUNT = 3
MAX_SUMMARY_CHARS = 2_000
MAX_WAIT_SECONDS = 60.0
POLL_SECONDS = 2


def summary_input(request: SummaryRequest, max_chars: int) -> str:
    """The text sent: the document's first ``max_chars`` characters (at most the
    service's limit) at a sentence boundary, or the extractive sentences when the
    request carries no text."""
    limit = min(max_chars, SERVICE_MAX_CHARS)
    windows, _ = make_windows(request.text, max_chars=limit, budget=limit)
    if windows:
        return windows[0].text
    return " ".join(request.sentences)[:limit]


class LanguageSummarizer:
    """The :class:`~processing.enrichment.ports.Summarizer` port on Azure AI Language's
    abstractive summarization, through the language service's client."""

    name = SOURCE

    def __init__(
        self,
        service: AzureLanguageService,
        *,
        max_chars: int = SERVICE_MAX_CHARS,
        max_wait: float = MAX_WAIT_SECONDS,
        poll_seconds: int = POLL_SECONDS,
    ) -> None:
        self._service = service
        self._max_chars = max_chars
        self._max_wait = max_wait
        self._poll_seconds = poll_seconds

    def summarize(self, request: SummaryRequest) -> str:
        from azure.core.exceptions import AzureError

        text = summary_input(request, self._max_chars)
        if not text.strip():
            raise SummaryUnavailableError("there is no text to summarize")
        started = time.monotonic()
        try:
            poller = self._service.client().begin_abstract_summary(
                [{"id": "1", "text": text, "language": request.language or "en"}],
                sentence_count=SENTENCE_COUNT,
                disable_service_logs=True,
                polling_interval=self._poll_seconds,
            )
            poller.wait(timeout=max(self._max_wait - (time.monotonic() - started), 0.0))
            if not poller.done():
                log.warning("summary_service.timed_out", extra={"wait_s": self._max_wait})
                raise SummaryUnavailableError(
                    f"Azure AI Language gave no summary within {self._max_wait:g} s; "
                    "the summary stays extractive"
                )
            documents = list(poller.result())
        except AzureError as exc:
            raise _unavailable(exc) from exc
        summary = _summary_text(documents)
        log.info(
            "summary_service.summarized",
            extra={"provider": SOURCE, "input_chars": len(text), "chars": len(summary)},
        )
        return summary


def _summary_text(documents: list[Any]) -> str:
    if not documents:
        raise SummaryUnavailableError("Azure AI Language returned no summary")
    [document] = documents
    if document.is_error:
        code = getattr(document.error, "code", None) or "error"
        log.warning("summary_service.document_error", extra={"error_code": code})
        raise SummaryUnavailableError(
            f"Azure AI Language refused the document ({code}); the summary stays extractive"
        )
    joined = " ".join(summary.text for summary in document.summaries)
    return " ".join(joined.split())[:MAX_SUMMARY_CHARS]


def _unavailable(exc: Exception) -> SummaryUnavailableError:
    status, detail = failure_detail(exc)
    log.warning(
        "summary_service.failed",
        extra={"provider": SOURCE, "error_type": type(exc).__name__, "status": status},
    )
    return SummaryUnavailableError(
        f"the abstractive summary failed ({detail}); the summary stays extractive"
    )
