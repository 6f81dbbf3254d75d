"""Loopback stand-in for Azure AI Language synchronous text analysis.

Serves ``POST /language/:analyze-text?api-version=2023-04-01`` -- the default API
version of ``azure-ai-textanalytics`` 5.4 -- for the four kinds the app uses:
``EntityRecognition``, ``PiiEntityRecognition``, ``LanguageDetection`` and
``KeyPhraseExtraction``. Request and response bodies follow the 2023-04-01
swagger (``analyzetext.json``): ``analysisInput.documents[]`` in,
``{kind: ...Results, results: {documents, errors, modelVersion[, statistics]}}``
out, per-document ``warnings`` and errors ``{id, error: {code, message, innererror}}``.

Documented limits enforced ("Service limits for Azure AI Language"):

* 5,120 characters per document, measured in text elements; a longer document
  gets a per-document ``InvalidArgument``/``InvalidDocument`` error while the
  rest of the batch is analysed.
* Documents per request: NER 5, PII 5, key phrases 10, language detection
  1,000; more is a 400 ``InvalidRequest``/``InvalidDocumentBatch``.
* 1 MB per request: 413 ``InvalidRequest``/``InvalidDocumentBatch``.

Offsets and lengths are given in the requested ``stringIndexType``
(``UnicodeCodePoint``, ``Utf16CodeUnit``, or ``TextElements_v8`` -- the swagger
default -- approximated by folding combining marks, variation selectors, ZWJ
sequences and CRLF into the preceding element).

Abstractive summarization jobs (``POST /language/analyze-text/jobs``, status at
the ``operation-location`` it answers) are in :mod:`tools.standins.language_jobs`;
the same authentication and faults apply to them.

Authentication: ``Ocp-Apim-Subscription-Key`` equal to the configured key, or
``Authorization: Bearer <token>`` accepted by ``token_check``; anything else is
the gateway's 401. ``fail_next`` injects throttling (429) and transient
failures (500/503) with ``Retry-After``. Analysis is deterministic, not NLP: a
gazetteer of whole-word, case-sensitive surface forms, regexes for Email and
PhoneNumber, capitalised word runs as key phrases, and a stop-word vote for
language detection.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tools.standins.language_jobs import JOBS_PATH, JobError, JobStore
from tools.standins.server import LOOPBACK, FaultQueue, StandIn, StandInHandler, redact

API_VERSION = "2023-04-01"
PATH = "/language/:analyze-text"
MODEL_VERSION = "2023-04-01"
MAX_DOCUMENT_TEXT_ELEMENTS = 5120
MAX_REQUEST_BYTES = 1024 * 1024
MAX_DOCUMENTS = {
    "EntityRecognition": 5,
    "PiiEntityRecognition": 5,
    "KeyPhraseExtraction": 10,
    "LanguageDetection": 1000,
}
STRING_INDEX_TYPES = ("TextElements_v8", "UnicodeCodePoint", "Utf16CodeUnit")
# The general (not country-specific) PiiEntityCategory values of 2023-04-01.
PII_CATEGORIES = frozenset(
    {"Person", "Organization", "Email", "URL", "Age", "PhoneNumber", "IPAddress", "Date", "Address"}
)
# domain=phi narrows to health-information categories. The docs mark Person and
# PhoneNumber "returned as both PII and PHI"; the rest of this set is a stand-in choice.
PHI_CATEGORIES = frozenset({"Person", "PhoneNumber", "Email", "Address", "Age", "Date"})

Gazetteer = dict[str, tuple[str, str | None, float]]
DEFAULT_GAZETTEER: Gazetteer = {
    "Microsoft": ("Organization", None, 0.84),
    "Bill Gates": ("Person", None, 0.85),
    "Seattle": ("Location", "GPE", 0.55),
    "Zürich": ("Location", "GPE", 0.9),
}
DEFAULT_STOP_WORDS: dict[str, tuple[str, str]] = {
    "en": ("English", "the and is are was of to in that it for with this"),
    "de": ("German", "der die das und ist nicht ein eine mit ich zu von"),
    "fr": ("French", "le les et est un une des du pour dans avec je"),
    "es": ("Spanish", "el los las y es un una del para con por"),
}
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ -]?)?(?:\(\d{3}\)|\d{3})[ -]?\d{3}[ -]?\d{4}(?!\w)")
_WORD = re.compile(r"\w[\w'-]*")
# The gateway's answer to a missing or wrong key (numeric code, no innererror).
_ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide"
    " a valid key for an active subscription and use a correct regional API endpoint for your"
    " resource."
)
_FAULT_BODIES = {
    429: ("429", "Rate limit is exceeded. Try again in {seconds} seconds."),
    500: ("InternalServerError", "Internal server error."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
}
_SECRET_HEADERS = frozenset({"ocp-apim-subscription-key", "authorization"})


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the stand-in saw it; secret header values are redacted."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # parsed JSON, or None when the body was not JSON
    status: int
    received_at: float  # time.monotonic(), to check the client's retry spacing


class ApiError(Exception):
    """A whole-request failure rendered as ``{"error": {...}}``."""

    def __init__(
        self, status: int, code: str, message: str, inner: tuple[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innererror"] = {"code": self.inner[0], "message": self.inner[1]}
        return {"error": error}


def _bad_request(
    inner_code: str, message: str, top: str = "Invalid Request.", status: int = 400
) -> ApiError:
    return ApiError(status, "InvalidRequest", top, (inner_code, message))


def _document_error(
    doc_id: str, inner_code: str, inner_message: str, message: str = "Invalid document in request."
) -> Any:
    return {
        "id": doc_id,
        "error": {
            "code": "InvalidArgument",
            "message": message,
            "innererror": {"code": inner_code, "message": inner_message},
        },
    }


def text_elements(text: str) -> int:
    """Count text elements (graphemes), approximating .NET StringInfo for common text."""
    count, previous = 0, ""
    for char in text:
        joins = (
            unicodedata.category(char) in ("Mn", "Me", "Mc")
            or char == "\u200d"
            or "\ufe00" <= char <= "\ufe0f"
            or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin-tone modifiers
            or previous == "\u200d"
            or (previous == "\r" and char == "\n")
        )
        if not (joins and count):
            count += 1
        previous = char
    return count


def measure(text: str, index_type: str) -> int:
    """The length of ``text`` in the units of ``index_type``."""
    if index_type == "UnicodeCodePoint":
        return len(text)
    if index_type == "Utf16CodeUnit":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return text_elements(text)


@dataclass(frozen=True, slots=True)
class _Match:
    start: int  # code points
    end: int
    category: str
    subcategory: str | None
    confidence: float


def _non_overlapping(matches: Iterable[_Match]) -> list[_Match]:
    # Leftmost first, then longest: "Bill Gates" wins over a "Bill" entry.
    chosen: list[_Match] = []
    for match in sorted(matches, key=lambda m: (m.start, m.start - m.end)):
        if not chosen or match.start >= chosen[-1].end:
            chosen.append(match)
    return chosen


class LanguageStandIn(StandIn[RecordedRequest]):
    """The stand-in server; ``start()``/``stop()`` or use it as a context manager."""

    def __init__(
        self,
        *,
        key: str | None = "standin-key",
        token_check: Callable[[str], bool] | None = None,
        tls: bool = False,
        gazetteer: Mapping[str, tuple[str, str | None, float]] | None = None,
        stop_words: Mapping[str, tuple[str, str]] | None = None,
        supported_languages: Iterable[str] = ("en", "de", "fr", "es"),
        model_version: str = MODEL_VERSION,
        host: str = LOOPBACK,
    ) -> None:
        super().__init__(_Handler, name="language", tls=tls, host=host)
        self.key = key
        self.token_check = token_check
        self.gazetteer: Gazetteer = dict(DEFAULT_GAZETTEER if gazetteer is None else gazetteer)
        words = DEFAULT_STOP_WORDS if stop_words is None else stop_words
        self.stop_words = {
            lang: (name, frozenset(ws.split())) for lang, (name, ws) in words.items()
        }
        self.supported_languages = frozenset(supported_languages)
        self.model_version = model_version
        self._faults = FaultQueue(_FAULT_BODIES)
        #: Abstractive summarization jobs (:mod:`tools.standins.language_jobs`).
        self.jobs = JobStore()

    @property
    def ca_path(self) -> str | None:
        """The certificate's PEM file while serving TLS, for ``connection_verify``."""
        return None if self._ca_file is None else str(self._ca_file)

    # -- test controls ----------------------------------------------------------------------

    def fail_next(self, status: int = 429, count: int = 1, retry_after: int | None = 1) -> None:
        """Answer the next ``count`` authenticated requests with ``status`` (429, 500 or 503).

        azure-core retries a POST on 429 only when ``Retry-After`` is present, and on
        500/503 either way; ``retry_after=None`` sends no header.
        """
        self._faults.add(status, count, retry_after)

    def clear(self) -> None:
        """Forget recorded requests and pending faults."""
        self.clear_requests()
        self._faults.clear()

    # -- protocol ---------------------------------------------------------------------------

    def _respond(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        raw: bytes,
        body: Any,
    ) -> tuple[int, Any, dict[str, str]]:
        job_id = path[len(JOBS_PATH) + 1 :] if path.startswith(JOBS_PATH + "/") else None
        known = (method == "POST" and path in (PATH, JOBS_PATH)) or (
            method == "GET" and job_id is not None
        )
        if not known:
            return 404, {"error": {"code": "404", "message": "Resource not found"}}, {}
        if not self._authorized(headers):
            return 401, {"error": {"code": "401", "message": _ACCESS_DENIED}}, {}
        fault = self._faults.take()
        if fault is not None:
            code, message = _FAULT_BODIES[fault.status]
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            text = message.format(seconds=fault.retry_after or 0)
            return fault.status, {"error": {"code": code, "message": text}}, extra
        try:
            if len(raw) > MAX_REQUEST_BYTES:
                raise _bad_request(
                    "InvalidDocumentBatch",
                    "Request Payload sent is too large to be processed. "
                    f"Limit request size to: {MAX_REQUEST_BYTES} bytes.",
                    "Invalid document in request.",
                    status=413,
                )
            self._check_api_version(query)
            return self._route(path, job_id, query, headers, body)
        except (ApiError, JobError) as error:
            return error.status, error.body(), {}

    def _route(
        self,
        path: str,
        job_id: str | None,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: Any,
    ) -> tuple[int, Any, dict[str, str]]:
        if job_id is not None:
            return self._job_state(job_id)
        if path == JOBS_PATH:
            return self._submit(body, headers)
        show_stats = query.get("showStats", ["false"])[0].lower() == "true"
        return 200, self._analyze(body, show_stats), {}

    # -- asynchronous jobs (abstractive summarization) ----------------------------------------

    def _submit(self, body: Any, headers: Mapping[str, str]) -> tuple[int, Any, dict[str, str]]:
        job_id = self.jobs.submit(body, measure=text_elements, summarize=self._summarize)
        host = headers.get("host") or f"{self.host}:{self.endpoint.rsplit(':', 1)[1]}"
        scheme = "https" if self.tls else "http"
        location = f"{scheme}://{host}{JOBS_PATH}/{job_id}?api-version={API_VERSION}"
        return 202, None, {"operation-location": location}

    def _job_state(self, job_id: str) -> tuple[int, Any, dict[str, str]]:
        state = self.jobs.state(job_id, self.model_version)
        if state is None:
            message = f"The job {job_id} was not found or has expired."
            return 404, {"error": {"code": "NotFound", "message": message}}, {}
        return 200, state, {}

    def _summarize(self, doc: dict[str, Any], params: Mapping[str, Any]) -> Any:
        """One document's abstractive summary (deterministic), or its error."""
        text = doc.get("text")
        if not isinstance(text, str) or not text.strip():
            return _document_error(doc["id"], "InvalidDocument", "Document text is empty.")
        if (doc.get("language") or "en") not in self.supported_languages:
            return _document_error(
                doc["id"],
                "UnsupportedLanguageCode",
                "Invalid language code. Supported languages: "
                + ",".join(sorted(self.supported_languages)),
                "Invalid Language Code.",
            )
        index_type = params.get("stringIndexType", "TextElements_v8")
        count = int(params.get("sentenceCount", 3))
        # Part boundaries at the first space after each equal share, so no word is cut.
        cuts = [text.find(" ", len(text) * k // count) for k in range(1, count)]
        bounds = sorted({0, len(text), *(c for c in cuts if c > 0)})
        sentences: list[str] = []
        contexts: list[dict[str, int]] = []
        for start, end in itertools.pairwise(bounds):
            part = text[start:end]
            phrases = self._key_phrases(part)
            topic = phrases[0] if phrases else " ".join(_WORD.findall(part)[:6])
            if not topic:
                continue
            sentences.append(f"Part {len(sentences) + 1} is about {topic}.")
            contexts.append(
                {"offset": measure(text[:start], index_type), "length": measure(part, index_type)}
            )
        summary = {"text": " ".join(sentences), "contexts": contexts}
        return {"id": doc["id"], "summaries": [summary], "warnings": []}

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        """``headers`` have lower-cased names."""
        key = headers.get("ocp-apim-subscription-key")
        if key is not None:
            return self.key is not None and key == self.key
        scheme, _, token = headers.get("authorization", "").partition(" ")
        check = self.token_check
        return scheme.lower() == "bearer" and check is not None and check(token)

    @staticmethod
    def _check_api_version(query: dict[str, list[str]]) -> None:
        version = query.get("api-version", [""])[0]
        if version != API_VERSION:
            raise _bad_request(
                "InvalidParameterValue",
                f"The api-version '{version}' is not supported by this stand-in: {API_VERSION}.",
            )

    def _analyze(self, body: Any, show_stats: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _bad_request("InvalidRequestBodyFormat", "Request body must be a JSON object.")
        kind = body.get("kind")
        if kind not in MAX_DOCUMENTS:
            raise _bad_request(
                "InvalidRequestBodyFormat",
                f"The given value of 'kind' is not supported for API version {API_VERSION} by"
                f" this stand-in. Possible values include: {', '.join(MAX_DOCUMENTS)}",
                "Invalid task in analysisInput",
            )
        params = body.get("parameters") or {}
        index_type = params.get("stringIndexType", "TextElements_v8")
        if index_type not in STRING_INDEX_TYPES:
            raise _bad_request("InvalidParameterValue", f"Invalid stringIndexType '{index_type}'.")
        if params.get("modelVersion", "latest") not in ("latest", self.model_version):
            raise _bad_request(
                "ModelVersionIncorrect",
                f"Invalid model version. Possible values are: latest,{self.model_version}.",
            )
        documents = (body.get("analysisInput") or {}).get("documents")
        if not isinstance(documents, list) or not documents:
            raise _bad_request("MissingInputDocuments", "Missing input documents.")
        if len(documents) > MAX_DOCUMENTS[kind]:
            raise _bad_request(
                "InvalidDocumentBatch",
                f"Batch request contains too many records. Max {MAX_DOCUMENTS[kind]}"
                " records are permitted.",
                "Invalid document in request.",
            )
        ids = [doc.get("id") if isinstance(doc, dict) else None for doc in documents]
        if not all(isinstance(i, str) and i for i in ids):
            raise _bad_request("InvalidDocument", "Every document needs a non-empty string id.")
        if len(set(ids)) != len(ids):
            raise _bad_request(
                "InvalidDocument",
                "Request contains duplicated Ids. Make sure each document has a unique Id.",
            )
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        transactions = 0
        for doc in documents:
            error = self._document_problem(kind, doc)
            if error is not None:
                errors.append(error)
                continue
            text: str = doc["text"]
            result = {"id": doc["id"], **self._analyze_one(kind, text, params, index_type)}
            result["warnings"] = []
            # A billed text record is 1,000 characters.
            chars = text_elements(text)
            transactions += math.ceil(chars / 1000)
            if show_stats:
                result["statistics"] = {
                    "charactersCount": chars,
                    "transactionsCount": math.ceil(chars / 1000),
                }
            results.append(result)
        out: dict[str, Any] = {
            "documents": results,
            "errors": errors,
            "modelVersion": self.model_version,
        }
        if show_stats:
            out["statistics"] = {
                "documentsCount": len(documents),
                "validDocumentsCount": len(results),
                "erroneousDocumentsCount": len(errors),
                "transactionsCount": transactions,
            }
        return {"kind": f"{kind}Results", "results": out}

    def _document_problem(self, kind: str, doc: dict[str, Any]) -> Any:
        doc_id, text = doc["id"], doc.get("text")
        if not isinstance(text, str) or not text.strip():
            return _document_error(doc_id, "InvalidDocument", "Document text is empty.")
        if text_elements(text) > MAX_DOCUMENT_TEXT_ELEMENTS:
            return _document_error(
                doc_id,
                "InvalidDocument",
                "A document within the request was too large to be processed. Limit document"
                f" size to: {MAX_DOCUMENT_TEXT_ELEMENTS} text elements. For additional details on"
                " the data limitations see https://aka.ms/text-analytics-data-limits",
            )
        if kind == "LanguageDetection":  # countryHint is only a hint: never an error here
            return None
        # The service's default language is English when a document names none.
        if (doc.get("language") or "en") not in self.supported_languages:
            return _document_error(
                doc_id,
                "UnsupportedLanguageCode",
                "Invalid language code. Supported languages: "
                + ",".join(sorted(self.supported_languages)),
                "Invalid Language Code.",
            )
        return None

    # -- deterministic analysis -------------------------------------------------------------

    def _analyze_one(
        self, kind: str, text: str, params: Mapping[str, Any], index_type: str
    ) -> dict[str, Any]:
        if kind == "LanguageDetection":
            return {"detectedLanguage": self._detect(text)}
        if kind == "KeyPhraseExtraction":
            return {"keyPhrases": self._key_phrases(text)}
        matches = self._gazetteer_matches(text)
        matches += [_Match(m.start(), m.end(), "Email", None, 0.8) for m in _EMAIL.finditer(text)]
        matches += [
            _Match(m.start(), m.end(), "PhoneNumber", None, 0.8) for m in _PHONE.finditer(text)
        ]
        if kind == "EntityRecognition":
            chosen = _non_overlapping(matches)
            return {"entities": [_entity(text, m, index_type) for m in chosen]}
        wanted = set(PII_CATEGORIES)
        requested = set(params.get("piiCategories") or [])
        if requested - {"All", "Default"}:
            wanted &= requested
        if (params.get("domain") or "none").lower() == "phi":
            wanted &= PHI_CATEGORIES
        chosen = _non_overlapping(m for m in matches if m.category in wanted)
        redacted = list(text)
        for m in chosen:
            redacted[m.start : m.end] = "*" * (m.end - m.start)
        return {
            "redactedText": "".join(redacted),
            "entities": [_entity(text, m, index_type) for m in chosen],
        }

    def _gazetteer_matches(self, text: str) -> list[_Match]:
        found: list[_Match] = []
        for surface, (category, subcategory, confidence) in self.gazetteer.items():
            pattern = re.compile(r"(?<!\w)" + re.escape(surface) + r"(?!\w)")
            found += [
                _Match(m.start(), m.end(), category, subcategory, confidence)
                for m in pattern.finditer(text)
            ]
        return found

    def _key_phrases(self, text: str) -> list[str]:
        phrases = [text[m.start : m.end] for m in _non_overlapping(self._gazetteer_matches(text))]
        # Runs of two or more capitalised words separated by single spaces.
        runs: list[list[re.Match[str]]] = [[]]
        for word in _WORD.finditer(text):
            run = runs[-1]
            if not word.group()[0].isupper():
                runs.append([])
            elif run and text[run[-1].end() : word.start()] != " ":
                runs.append([word])
            else:
                run.append(word)
        phrases += [text[r[0].start() : r[-1].end()] for r in runs if len(r) >= 2]
        return list(dict.fromkeys(phrases))

    def _detect(self, text: str) -> dict[str, Any]:
        words = [w.lower() for w in _WORD.findall(text)]
        votes = {lang: sum(w in ws for w in words) for lang, (_, ws) in self.stop_words.items()}
        total = sum(votes.values())
        best = max(votes, key=lambda lang: votes[lang], default=None)
        if best is None or votes[best] == 0:
            return {"name": "(Unknown)", "iso6391Name": "(Unknown)", "confidenceScore": 0.0}
        return {
            "name": self.stop_words[best][0],
            "iso6391Name": best,
            "confidenceScore": round(votes[best] / total, 2),
        }


def _entity(text: str, match: _Match, index_type: str) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "text": text[match.start : match.end],
        "category": match.category,
        "offset": measure(text[: match.start], index_type),
        "length": measure(text[match.start : match.end], index_type),
        "confidenceScore": match.confidence,
    }
    if match.subcategory:
        entity["subcategory"] = match.subcategory
    return entity


class _Handler(StandInHandler[LanguageStandIn]):
    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        body: Any = None
        with contextlib.suppress(ValueError):  # recorded as None; answered as a format error
            body = json.loads(raw) if raw else None
        standin = self.server.standin
        lowered = {name.lower(): value for name, value in self.headers.items()}
        status, payload, extra = standin._respond(
            self.command, parts.path, query=query, headers=lowered, raw=raw, body=body
        )
        headers = redact(dict(self.headers.items()), _SECRET_HEADERS)
        # Recorded before replying, so a test that has its answer also finds the request.
        at = time.monotonic()
        standin._record(RecordedRequest(self.command, parts.path, query, headers, body, status, at))
        sent = {
            "Content-Type": "application/json; charset=utf-8",
            "apim-request-id": str(uuid.uuid4()),
        }
        if status >= 400:
            sent["x-ms-error-code"] = str(payload["error"]["code"])
        data = b"" if payload is None else json.dumps(payload).encode()
        self.reply(status, data, {**sent, **extra})
