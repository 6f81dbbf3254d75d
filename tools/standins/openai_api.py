"""Loopback stand-in for an OpenAI-compatible API: embeddings and chat completions.

One server on 127.0.0.1 (port 0) serves the same API under three roots:

* ``base_url`` (``/v1/``): OpenAI. Bearer keys; OpenAI error bodies
  ``{"error": {"message", "type", "param", "code"}}``.
* ``azure_base_url`` (``/openai/v1/``): Azure OpenAI's v1 API, which the plain
  ``openai.OpenAI`` client calls; ``model`` names a deployment. Bearer (Entra
  token) or ``api-key``; Azure's gateway bodies ``{"error": {"code", "message"}}``
  for 401, 404 ``DeploymentNotFound`` and 429, OpenAI's for 400 and 5xx.
* ``azure_endpoint`` + ``/openai/deployments/{deployment}/...``: Azure's classic
  data plane as ``openai.AzureOpenAI`` calls it; the deployment is the model and
  ``api-version`` is recorded, not checked.

Implemented:

* ``POST .../embeddings``: ``model`` (one of ``embedding_models``, name -> native
  size), ``input`` a string or an array of strings (token arrays and empty
  strings are refused with 400), ``dimensions`` (1..native size),
  ``encoding_format`` ``float`` or ``base64`` (little-endian float32; the openai
  client asks for ``base64`` when its caller names no format and decodes it).
  Limits, as documented: at most ``max_inputs`` inputs (2048 on OpenAI; Azure's
  quotas page also says 2048 today, older Azure deployments refused more than 16
  or 1, so ``azure_max_inputs`` is separate), ``max_input_tokens`` (8192) per
  input and 300,000 tokens per request. Vectors are deterministic: feature
  hashing of lowercase words (weight 1) and their character trigrams (weight
  1/2) into the requested dimensions, L2-normalised and rounded to float32, so
  texts sharing words or word stems have a high cosine and unrelated texts one
  near 0.
* ``POST .../chat/completions``: ``model`` (any name unless ``chat_models`` is
  given), ``messages`` (system, developer, user, assistant, tool; string content,
  text parts or null), ``max_completion_tokens`` or ``max_tokens``,
  ``temperature`` (0..2), ``n`` 1 only; ``stream: true`` and non-text parts are
  refused with 400. The reply is ``responder(messages)``, by default the first
  two sentences of the last user message, cut to the token limit with
  ``finish_reason: "length"``. A responder that raises gets a 500 with
  ``x-should-retry: false``, so the client does not retry it.
* Auth: ``authorize(credential)`` decides (default: any non-empty one), else 401.
* ``fail_next(status, count, retry_after)`` answers the next authorised
  requests with 429, 500 or 503, documented bodies and ``retry-after`` (whole
  seconds) plus ``retry-after-ms``, which the openai client prefers; a 429 also
  has ``x-ratelimit-remaining-requests`` and ``-tokens`` at 0. The client only
  honours delays above 0, so ``retry_after=0.05`` retries after 50 ms.
* ``requests``: every request, with headers minus ``Authorization`` and
  ``api-key`` (``auth`` says which scheme was used) and the JSON body.

Tokens are approximated, not BPE: a token is a run of word characters or one
other non-space character (``\\w+|[^\\w\\s]``), so long or rare words count
lower than with a real tokenizer; tests must not rely on exact counts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
import struct
import time
import uuid
from array import array
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from tools.standins.server import FaultQueue, StandIn, StandInHandler, redact

log = logging.getLogger(__name__)

DEFAULT_EMBEDDING_MODELS: Mapping[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
}
MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192
MAX_REQUEST_TOKENS = 300_000
FAULT_STATUSES = (429, 500, 503)
_SECRET_HEADERS = frozenset({"authorization", "api-key"})

Flavour = Literal["openai", "azure"]
Message = dict[str, Any]
Responder = Callable[[list[Message]], str]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ROUTE = re.compile(
    r"/(?:v1|openai/v1|openai/deployments/(?P<deployment>[^/]+))/(?P<op>embeddings|chat/completions)"
)
_ROLES = ("system", "developer", "user", "assistant", "tool")
_INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
_AZURE_TOO_MANY = (
    "Too many inputs. The max number of inputs is {limit}.  We hope to increase the number of "
    "inputs per request soon. Please contact us through an Azure support request at: "
    "https://go.microsoft.com/fwlink/?linkid=2213926 for further questions."
)
_OPENAI_FAULTS = {
    500: "The server had an error while processing your request. Sorry about that!",
    503: "That model is currently overloaded with other requests. You can retry your request, "
    "or contact us through our help center at help.openai.com if the error persists.",
}


def count_tokens(text: str) -> int:
    """The stand-in's token count of ``text`` (see the module docstring)."""
    return len(_TOKEN.findall(text))


def embed(text: str, dimensions: int) -> list[float]:
    """The deterministic unit vector the stand-in returns for ``text``."""
    vector = [0.0] * dimensions

    def add(feature: str, weight: float) -> None:
        digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
        vector[digest % dimensions] += weight if digest >> 63 else -weight

    for word in _WORD.findall(text.lower()):
        add(word, 1.0)
        padded = f"<{word}>"
        for start in range(len(padded) - 2):
            add(padded[start : start + 3], 0.5)
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0.0:  # no word characters: the text itself is the one feature
        add(text, 1.0)
        norm = 1.0
    return array("f", [value / norm for value in vector]).tolist()


def first_sentences(messages: list[Message]) -> str:
    """The default reply: the first two sentences of the last user message."""
    for message in reversed(messages):
        if message.get("role") == "user":
            text = " ".join(_text_of(message).split())
            return " ".join(_SENTENCE_END.split(text)[:2])
    return ""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it; secrets are left out of ``headers``."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    auth: Literal["bearer", "api-key"] | None
    body: Any


class ApiError(Exception):
    """An error answer: HTTP status, JSON body and extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _openai_error(
    status: int,
    message: str,
    param: str | None = None,
    code: str | None = None,
    *,
    kind: str = "invalid_request_error",
    headers: dict[str, str] | None = None,
) -> ApiError:
    error = {"message": message, "type": kind, "param": param, "code": code}
    return ApiError(status, {"error": error}, headers)


def _invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return _openai_error(400, message, param, code)


def _azure_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> ApiError:
    return ApiError(status, {"error": {"code": code, "message": message}}, headers)


class OpenAIStandIn(StandIn[RecordedRequest]):
    """The server; ``with OpenAIStandIn() as api:`` starts and stops it."""

    def __init__(
        self,
        *,
        authorize: Callable[[str], bool] | None = None,
        embedding_models: Mapping[str, int] = DEFAULT_EMBEDDING_MODELS,
        chat_models: Collection[str] | None = None,
        responder: Responder | None = None,
        max_inputs: int = MAX_INPUTS,
        azure_max_inputs: int = MAX_INPUTS,
        max_input_tokens: int = MAX_INPUT_TOKENS,
        tls: bool = False,
    ) -> None:
        super().__init__(_Handler, name="OpenAI", tls=tls)
        self.authorize: Callable[[str], bool] = authorize or bool
        self.embedding_models = dict(embedding_models)
        self.chat_models = chat_models
        self.responder: Responder = responder or first_sentences
        self.max_inputs = max_inputs
        self.azure_max_inputs = azure_max_inputs
        self.max_input_tokens = max_input_tokens
        self._faults = FaultQueue(FAULT_STATUSES)

    # -- addresses ---------------------------------------------------------------

    @property
    def ca_path(self) -> Path | None:
        """The certificate's PEM file while serving TLS, for the client's ``verify``."""
        return self._ca_file

    @property
    def root_url(self) -> str:
        """``http(s)://127.0.0.1:PORT/``; ``azure_endpoint`` for ``openai.AzureOpenAI``."""
        return self.endpoint + "/"

    azure_endpoint = root_url

    @property
    def base_url(self) -> str:
        return self.root_url + "v1/"

    @property
    def azure_base_url(self) -> str:
        return self.root_url + "openai/v1/"

    # -- test controls ---------------------------------------------------------

    def fail_next(
        self, status: int = 429, count: int = 1, retry_after: float | None = None
    ) -> None:
        """Answer the next ``count`` authorised requests with ``status``."""
        self._faults.add(status, count, retry_after)

    # -- the API ---------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one request: status, JSON body, extra headers."""
        split = urlsplit(target)
        flavour: Flavour = "azure" if split.path.startswith("/openai/") else "openai"
        lowered = {name.lower(): value for name, value in headers.items()}
        auth, credential = _credential(lowered, flavour)
        try:
            body: Any = json.loads(raw) if raw else {}
        except ValueError:
            body = raw.decode("utf-8", "replace")
        query = dict(parse_qsl(split.query))
        kept = redact(lowered, _SECRET_HEADERS, drop=True)
        self._record(RecordedRequest(method, split.path, query, kept, auth, body))
        try:
            route = _ROUTE.fullmatch(split.path) if method == "POST" else None
            if route is None:
                raise _not_found(flavour, method, split.path)
            self._check_auth(flavour, auth, credential)
            self._take_fault(flavour, route["op"], query)
            if not isinstance(body, dict):
                raise _invalid("We could not parse the JSON body of your request.")
            model = route["deployment"] or body.get("model")
            if route["op"] == "embeddings":
                return 200, self._embeddings(flavour, model, body), {}
            return 200, self._chat(flavour, model, body), {}
        except ApiError as error:
            return error.status, error.body, error.headers

    def _check_auth(self, flavour: Flavour, auth: str | None, credential: str) -> None:
        if credential and self.authorize(credential):
            return
        if flavour == "azure" and auth == "bearer":
            message = (
                "Unauthorized. Access token is missing, invalid, audience is incorrect "
                "(https://cognitiveservices.azure.com), or have expired."
            )
            raise _azure_error(401, "401", message)
        if flavour == "azure":
            message = (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                "provide a valid key for an active subscription and use a correct regional API "
                "endpoint for your resource."
            )
            raise _azure_error(401, "401", message)
        if not credential:
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            raise _openai_error(401, message)
        shown = credential[:3] + "*" * max(len(credential) - 7, 0) + credential[-4:]
        message = (
            f"Incorrect API key provided: {shown}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
        raise _openai_error(401, message, code="invalid_api_key")

    def _take_fault(self, flavour: Flavour, op: str, query: Mapping[str, str]) -> None:
        fault = self._faults.take()
        if fault is None:
            return
        status, retry_after = fault.status, fault.retry_after
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after"] = str(math.ceil(retry_after))
            headers["retry-after-ms"] = str(round(retry_after * 1000))
        wait = f"{math.ceil(retry_after or 1)} seconds"
        wait_ms = round((retry_after or 1) * 1000)
        if status == 429:
            headers["x-ratelimit-remaining-requests"] = "0"
            headers["x-ratelimit-remaining-tokens"] = "0"
            if flavour == "azure":
                operation = "Embeddings_Create" if op == "embeddings" else "ChatCompletions_Create"
                message = (
                    f"Requests to the {operation} Operation under Azure OpenAI API version "
                    f"{query.get('api-version', 'v1')} have exceeded call rate limit of your "
                    f"current OpenAI S0 pricing tier. Please retry after {wait}. Please go here: "
                    "https://aka.ms/oai/quotaincrease if you would like to further increase the "
                    "default rate limit."
                )
                raise _azure_error(429, "429", message, headers)
            message = (
                f"Rate limit reached for requests. Please try again in {wait_ms}ms. "
                "Visit https://platform.openai.com/account/rate-limits to learn more."
            )
            raise _openai_error(
                429, message, code="rate_limit_exceeded", kind="requests", headers=headers
            )
        raise _openai_error(status, _OPENAI_FAULTS[status], kind="server_error", headers=headers)

    def _embeddings(self, flavour: Flavour, model: object, body: dict[str, Any]) -> dict[str, Any]:
        native = self.embedding_models.get(model) if isinstance(model, str) else None
        if native is None:
            raise _model_not_found(flavour, model)
        texts = _texts(body.get("input"))
        limit = self.azure_max_inputs if flavour == "azure" else self.max_inputs
        if len(texts) > limit:
            if flavour == "azure":
                raise _invalid(_AZURE_TOO_MANY.format(limit=limit))
            message = (
                f"Invalid 'input': array too long. Expected an array with maximum length {limit}, "
                f"but got an array with length {len(texts)} instead."
            )
            raise _invalid(message, "input", "array_above_max_length")
        counts = [count_tokens(text) for text in texts]
        if max(counts) > self.max_input_tokens:
            raise _invalid(
                f"Invalid 'input': maximum context length is {self.max_input_tokens} tokens."
            )
        if sum(counts) > MAX_REQUEST_TOKENS:
            message = (
                f"Invalid 'input': at most {MAX_REQUEST_TOKENS} tokens summed across all inputs."
            )
            raise _invalid(message)
        dimensions = body.get("dimensions")
        if dimensions is None:
            dimensions = native
        elif not _is_int(dimensions) or not 1 <= dimensions <= native:
            message = f"Invalid 'dimensions': expected an integer from 1 to {native} for {model}."
            raise _invalid(message, "dimensions")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            message = f"Invalid value: '{encoding}'. Supported values are: 'float' and 'base64'."
            raise _invalid(message, "encoding_format", "invalid_value")
        data = []
        for index, text in enumerate(texts):
            vector: list[float] | str = embed(text, dimensions)
            if encoding == "base64":
                packed = struct.pack(f"<{dimensions}f", *vector)
                vector = base64.b64encode(packed).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": vector})
        usage = {"prompt_tokens": sum(counts), "total_tokens": sum(counts)}
        return {"object": "list", "data": data, "model": model, "usage": usage}

    def _chat(self, flavour: Flavour, model: object, body: dict[str, Any]) -> dict[str, Any]:
        known = self.chat_models is None or model in self.chat_models
        if not model or not isinstance(model, str) or not known:
            raise _model_not_found(flavour, model)
        if body.get("stream"):
            raise _invalid("The stand-in does not stream: send stream=false.", "stream")
        if body.get("n", 1) != 1:
            raise _invalid("The stand-in returns one choice: send n=1.", "n")
        messages = _messages(body.get("messages"))
        limit = _max_tokens(body)
        temperature = body.get("temperature")
        if temperature is not None and not (_is_number(temperature) and 0 <= temperature <= 2):
            message = f"Invalid 'temperature': expected a number from 0 to 2, got {temperature!r}."
            raise _invalid(message, "temperature")
        content, finish_reason = _truncate(self.responder(messages), limit)
        prompt_tokens = sum(count_tokens(_text_of(message)) for message in messages)
        completion_tokens = count_tokens(content)
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": finish_reason,
        }
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [choice],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


# -- validation helpers ----------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _credential(
    headers: Mapping[str, str], flavour: Flavour
) -> tuple[Literal["bearer", "api-key"] | None, str]:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "bearer", token.strip()
    if flavour == "azure" and headers.get("api-key"):
        return "api-key", headers["api-key"]
    return None, ""


def _not_found(flavour: Flavour, method: str, path: str) -> ApiError:
    if flavour == "azure":
        return _azure_error(404, "404", "Resource not found")
    return _openai_error(404, f"Invalid URL ({method} {path})")


def _model_not_found(flavour: Flavour, model: object) -> ApiError:
    if flavour == "azure":
        message = (
            "The API deployment for this resource does not exist. If you created the deployment "
            "within the last 5 minutes, please wait a moment and try again."
        )
        return _azure_error(404, "DeploymentNotFound", message)
    if not model:
        return _invalid("you must provide a model parameter")
    message = f"The model `{model}` does not exist or you do not have access to it."
    return _openai_error(404, message, code="model_not_found")


def _texts(value: object) -> list[str]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts:
        raise _invalid(_INVALID_INPUT)
    if any(_is_int(item) or isinstance(item, list) for item in texts):
        raise _invalid("The stand-in embeds strings only, not token arrays.", "input")
    if not all(isinstance(item, str) and item for item in texts):
        raise _invalid(_INVALID_INPUT)
    return texts


def _messages(value: object) -> list[Message]:
    if not isinstance(value, list) or not value:
        raise _invalid("Invalid 'messages': expected a non-empty array.", "messages")
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise _invalid(f"Invalid '{where}': expected an object with a role in {_ROLES}.", where)
        content = message.get("content")
        parts = content if isinstance(content, list) else []
        text_only = all(
            isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
            for part in parts
        )
        if not (content is None or isinstance(content, str | list)) or not text_only:
            message_text = (
                f"Invalid '{where}.content': the stand-in takes a string, text parts or null."
            )
            raise _invalid(message_text, f"{where}.content")
    return value


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not _is_int(value) or value < 1:
            message = (
                f"Invalid '{name}': integer below minimum value. "
                f"Expected a value >= 1, but got {value!r} instead."
            )
            raise _invalid(message, name, "integer_below_min_value")
        return int(value)
    return None


def _text_of(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(part["text"] for part in content or [])


def _truncate(text: str, limit: int | None) -> tuple[str, Literal["stop", "length"]]:
    tokens = list(_TOKEN.finditer(text))
    if limit is None or len(tokens) <= limit:
        return text, "stop"
    return text[: tokens[limit - 1].end()], "length"


# -- the HTTP server -------------------------------------------------------------


class _Handler(StandInHandler[OpenAIStandIn]):
    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, body, headers = self.server.standin.handle(
                self.command, self.path, dict(self.headers.items()), raw
            )
        except Exception as exc:  # a responder's bug: answer it, and tell the client not to retry
            log.exception("OpenAI stand-in failed on %s %s", self.command, self.path)
            error = _openai_error(500, f"stand-in error: {exc!r}", kind="server_error")
            status, body, headers = 500, error.body, {"x-should-retry": "false"}
        sent = {"Content-Type": "application/json", "x-request-id": f"req_{uuid.uuid4().hex}"}
        self.reply(status, json.dumps(body).encode(), {**sent, **headers})
