"""A loopback stand-in for the Azure AI Search data-plane REST API.

Serves, on 127.0.0.1, the requests that ``azure-search-documents`` 12.0.0
sends with its default api-version **2026-04-01** (``SearchIndexClient``,
``SearchClient``):

- ``PUT /indexes('{name}')`` create or update (``Prefer:
  return=representation``, ``allowIndexDowntime``, ``If-Match`` /
  ``If-None-Match`` → 412), ``POST /indexes`` create, ``GET`` and
  ``DELETE /indexes('{name}')``, ``GET /indexes`` (list, and names);
- ``POST /indexes('{name}')/docs/search.index`` (upload, merge,
  mergeOrUpload, delete; 200, or 207 with per-item status codes);
- ``POST /indexes('{name}')/docs/search.post.search`` (simple query syntax
  with BM25, ``$filter``, ``$orderby``, ``select``, paging with
  ``@search.nextPageParameters``, highlights, vector queries with exact
  similarity, hybrid Reciprocal Rank Fusion);
- ``GET /indexes('{name}')/docs/$count`` and ``GET .../docs('{key}')``.

Index schemas are checked as the service checks what the app uses (one
``Edm.String`` key; the scalar, ``Collection(Edm.String)`` and vector
types; attribute rules; vector profiles and HNSW/exhaustive KNN metrics;
semantic configurations stored). An update may only add fields.

Documented limits enforced: 1,000 actions per indexing batch (400, as the
service answered past its batch limit; the docs also say "between 1 and
32,000 indexing actions", so ``max_batch_actions`` is adjustable); 16 MB
per request (413, which the SDK answers by splitting the batch); 32
``$orderby`` clauses; 10 fields per vector query; page size 50 by default
and 1,000 at most; ``skip`` up to 100,000.

Errors use the service's body ``{"error": {"code", "message"}}``.
Messages the service is known to send are reproduced (unknown index,
``Invalid expression: ...`` with ``Parameter name: $filter``, ``Existing
field 'x' cannot be changed.``, ``Document not found.``, invalid keys,
unknown document properties); others are the stand-in's own wording.
Authentication: the ``api-key`` header (a wrong key is 403, as the service
documents) or ``Authorization: Bearer`` accepted by ``token_check``
(otherwise 401). Bearer tokens need ``tls=True``: azure-core refuses them
over plain http.

Not implemented (a 400 says so rather than answering differently from the
service): facets, scoring profiles, semantic ranking, ``queryType`` other
than ``simple``, vectorizers, suggest and autocomplete.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from tools.standins.search_service import MAX_BATCH_ACTIONS, SearchError, SearchService
from tools.standins.server import FaultQueue, StandIn, StandInHandler, redact

API_VERSION = "2026-04-01"
MAX_REQUEST_BYTES = 16 * 1024 * 1024  # "Supported maximum payload limit is 16 MB"
TOKEN_SCOPE = "https://search.azure.com/.default"  # noqa: S105 - a scope, not a secret

_LOG = logging.getLogger(__name__)
_SECRET_HEADERS = frozenset({"api-key", "authorization"})
_JSON_NONE = "application/json; odata.metadata=none; odata.streaming=true; charset=utf-8"
_JSON_MINIMAL = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"

_INDEXES = re.compile(r"^/indexes$")
_INDEX = re.compile(r"^/indexes\('([^']*)'\)$")
_COUNT = re.compile(r"^/indexes\('([^']*)'\)/docs/\$count$")
_BATCH = re.compile(r"^/indexes\('([^']*)'\)/docs/search\.index$")
_SEARCH = re.compile(r"^/indexes\('([^']*)'\)/docs/search\.post\.search$")
_DOCUMENT = re.compile(r"^/indexes\('([^']*)'\)/docs\('(.*)'\)$")

_FAULT_MESSAGES = {
    429: "Too many requests: the service is throttling this client. Retry after the interval "
    "the Retry-After header gives.",
    503: "The service is too busy to process the request. Retry after the interval the "
    "Retry-After header gives.",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in received it; secrets are redacted."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any
    status: int


@dataclass(frozen=True)
class _Call:
    """A routed request: the names the path captured, query, headers and body."""

    names: tuple[str, ...]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any


# Status, body (JSON-able, text, or None for none) and headers of a response.
_Response = tuple[int, Any, dict[str, str]]


class SearchStandIn(StandIn[RecordedRequest]):
    """The stand-in server; use as a context manager or call start()/stop().

    ``api_key`` is the admin key the ``api-key`` header must carry (None
    refuses every key); ``token_check`` decides bearer tokens. ``requests``
    lists every request received, oldest first.
    """

    def __init__(
        self,
        *,
        api_key: str | None = "standin-admin-key",
        token_check: Callable[[str], bool] | None = None,
        tls: bool = False,
        service_name: str = "standin",
        api_versions: Collection[str] = (API_VERSION,),
        max_batch_actions: int = MAX_BATCH_ACTIONS,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        super().__init__(_Handler, name="search", tls=tls)
        self.api_key = api_key
        self.token_check = token_check
        self.api_versions = frozenset(api_versions)
        self.max_request_bytes = max_request_bytes
        # Requests run in handler threads; one at a time reads or changes the indexes.
        self._lock = threading.Lock()
        self._service = SearchService(
            service_name=service_name, max_batch_actions=max_batch_actions
        )
        self._routes: list[tuple[re.Pattern[str], str, Callable[[_Call], _Response]]] = [
            (_INDEXES, "GET", self._list_indexes),
            (_INDEXES, "POST", self._create_index),
            (_INDEX, "GET", self._get_index),
            (_INDEX, "PUT", self._put_index),
            (_INDEX, "DELETE", self._delete_index),
            (_COUNT, "GET", self._count),
            (_BATCH, "POST", self._index_documents),
            (_SEARCH, "POST", self._search),
            (_DOCUMENT, "GET", self._get_document),
        ]
        self._faults = FaultQueue(_FAULT_MESSAGES)

    # -- lifecycle

    @property
    def ca_path(self) -> str | None:
        """The certificate's PEM file while serving TLS, for ``connection_verify``."""
        return None if self._ca_file is None else str(self._ca_file)

    def start(self) -> Self:
        super().start()
        # The @odata.context links in index answers name the service by its URL.
        self._service.endpoint = self.endpoint
        return self

    # -- test controls

    def fail_next(
        self, status: int = 503, *, count: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next ``count`` requests with a throttling or busy error.

        ``status`` is 429 or 503, the service's codes for throttling and an
        overloaded service; ``retry_after`` (seconds) sets ``Retry-After``.
        """
        self._faults.add(status, count, retry_after)

    # -- request handling (called from handler threads)

    def _authorize(self, headers: Mapping[str, str]) -> None:
        key = headers.get("api-key")
        if key is not None:
            if self.api_key is not None and hmac.compare_digest(key, self.api_key):
                return
            raise SearchError(403, "Access denied: the api-key is not valid for this service.")
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            if self.token_check is not None and self.token_check(token):
                return
            raise SearchError(
                401,
                "Authorization failed: the bearer token was not accepted.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise SearchError(401, "Authorization failed: send an api-key or a bearer token.")

    def _dispatch(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: Any,
    ) -> _Response:
        """Route one authorized request."""
        known = False
        for pattern, verb, route in self._routes:
            match = pattern.match(path)
            if match:
                known = True
                if verb == method:
                    return route(_Call(match.groups(), query, headers, body))
        if known:
            raise SearchError(405, f"The method '{method}' is not supported on '{path}'.")
        raise SearchError(404, f"The resource '{path}' does not exist on this service.")

    def _list_indexes(self, call: _Call) -> _Response:
        return 200, self._service.list_indexes(), {"Content-Type": _JSON_MINIMAL}

    def _create_index(self, call: _Call) -> _Response:
        created = self._service.create_index(call.body)
        return 201, created, {"Content-Type": _JSON_MINIMAL, "ETag": created["@odata.etag"]}

    def _get_index(self, call: _Call) -> _Response:
        shown = self._service.get_index(call.names[0])
        return 200, shown, {"Content-Type": _JSON_MINIMAL, "ETag": shown["@odata.etag"]}

    def _delete_index(self, call: _Call) -> _Response:
        self._service.delete_index(
            call.names[0],
            if_match=call.headers.get("if-match"),
            if_none_match=call.headers.get("if-none-match"),
        )
        return 204, None, {}

    def _count(self, call: _Call) -> _Response:
        return 200, str(self._service.count(call.names[0])), {"Content-Type": "text/plain"}

    def _index_documents(self, call: _Call) -> _Response:
        status, result = self._service.index_documents(call.names[0], call.body)
        return status, result, {"Content-Type": _JSON_NONE}

    def _search(self, call: _Call) -> _Response:
        # The continuation link repeats the request URL, as the service's does.
        version = call.query["api-version"]
        url = f"{self.endpoint}/indexes('{call.names[0]}')/docs/search.post.search"
        result = self._service.search(call.names[0], call.body, f"{url}?api-version={version}")
        return 200, result, {"Content-Type": _JSON_NONE}

    def _get_document(self, call: _Call) -> _Response:
        name, key = call.names
        document = self._service.get_document(name, key, call.query.get("$select"))
        return 200, document, {"Content-Type": _JSON_NONE}

    def _put_index(self, call: _Call) -> _Response:
        name, query, headers, body = call.names[0], call.query, call.headers, call.body
        downtime = query.get("allowIndexDowntime")
        if downtime is not None and downtime not in ("true", "false"):
            raise SearchError(400, "The value of 'allowIndexDowntime' must be true or false.")
        status, shown = self._service.create_or_update_index(
            name,
            body,
            if_match=headers.get("if-match"),
            if_none_match=headers.get("if-none-match"),
        )
        extra = {"Content-Type": _JSON_MINIMAL, "ETag": shown["@odata.etag"]}
        if "return=representation" in headers.get("prefer", ""):
            extra["Preference-Applied"] = "return=representation"
            return status, shown, extra
        # Without the preference an update answers 204; a creation still returns the index.
        return (status, shown, extra) if status == 201 else (204, None, extra)

    def _respond(
        self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes | None
    ) -> tuple[int, bytes, dict[str, str]]:
        """One exchange: size limit, faults, auth, api-version, then routing.

        Every exchange is recorded with the status it was answered with.
        """
        split = urlsplit(target)
        path = unquote(split.path)
        query = {
            name: values[-1]
            for name, values in parse_qs(split.query, keep_blank_values=True).items()
        }
        shown_headers = redact(headers, _SECRET_HEADERS)
        body: Any = None
        try:
            if raw_body is None:
                raise SearchError(
                    413,
                    "The request is too large: the service accepts at most "
                    f"{self.max_request_bytes} bytes.",
                )
            body = _parse_body(raw_body)
            fault = self._faults.take()
            if fault is not None:
                retry = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                raise SearchError(fault.status, _FAULT_MESSAGES[fault.status], headers=retry)
            self._authorize(headers)
            version = query.get("api-version")
            if version not in self.api_versions:
                raise SearchError(
                    400,
                    f"Invalid or missing api-version query string parameter: '{version}'. "
                    f"The stand-in serves {sorted(self.api_versions)}.",
                )
            with self._lock:
                status, payload, reply_headers = self._dispatch(method, path, query, headers, body)
        except SearchError as error:
            status, payload = error.status, error.body()
            reply_headers = {**error.headers, "Content-Type": _JSON_NONE}
        except Exception:
            _LOG.exception("search stand-in failed on %s %s", method, target)
            status, payload = 500, SearchError(500, "Internal error in the stand-in.").body()
            reply_headers = {"Content-Type": _JSON_NONE}
        self._record(RecordedRequest(method, split.path, query, shown_headers, body, status))
        if payload is None:
            data = b""
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload).encode()
        reply_headers["request-id"] = str(uuid.uuid4())
        return status, data, reply_headers


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SearchError(
            400, f"The request is invalid. Details: The request body is not valid JSON: {exc}"
        ) from None


class _Handler(StandInHandler[SearchStandIn]):
    server_version = "search-standin"

    def _exchange(self) -> None:
        standin = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        raw = _read_body(self, length, standin.max_request_bytes)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.reply(*standin._respond(self.command, self.path, headers, raw))

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _exchange


def _read_body(handler: _Handler, length: int, limit: int) -> bytes | None:
    """The body, or None when it exceeds ``limit`` (it is drained either way,
    so the client reads the 413 instead of a reset connection)."""
    if length <= limit:
        return handler.rfile.read(length)
    remaining = length
    while remaining > 0:
        chunk = handler.rfile.read(min(remaining, 1 << 20))
        if not chunk:
            break
        remaining -= len(chunk)
    return None
