"""Typed values the pipeline produces: extraction output and the versioned result.

Everything here is a frozen dataclass built from plain Python types, so results
serialise to JSON with :meth:`ProcessingResult.to_dict`; an isolated worker
sends that JSON back, and :func:`result_from_dict` rebuilds and checks it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: Version of the result's JSON shape (``processing/extraction/schema/result.schema.json``).
SCHEMA_VERSION = "1.2"

#: Bumped whenever extraction or analysis output may change for the same bytes;
#: part of the content-cache key so a new pipeline never serves stale results.
PIPELINE_VERSION = "1.2.0"


class DocumentType(StrEnum):
    """A supported document format, detected from content."""

    PDF = "pdf"
    DOCX = "docx"
    TXT = "txt"
    HTML = "html"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]


_CONTENT_TYPES = {
    DocumentType.PDF: "application/pdf",
    DocumentType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentType.TXT: "text/plain",
    DocumentType.HTML: "text/html",
}


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the source and its span ``[start, end)`` in the text."""

    number: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading of the source (DOCX heading styles), its level and offset."""

    level: int
    text: str
    start: int


@dataclass(frozen=True, slots=True)
class Link:
    """An outgoing link of a web page: its target as written (resolved against
    ``<base href>`` when the page has one) and its anchor text."""

    url: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Entity:
    """A recognised entity and its span ``[start, end)`` in the text.

    ``value`` is its normalised form where the provider normalises (patterns do:
    E.164 phones, ISO dates...), else the text itself. ``subtype`` and
    ``confidence`` are given where the provider knows them; ``source`` names the
    provider (``pattern``, ``spacy``, ``azure-language``).
    """

    type: str
    text: str
    value: str
    start: int
    end: int
    subtype: str | None = None
    confidence: float | None = None
    source: str = "pattern"


@dataclass(frozen=True, slots=True)
class Keyword:
    """A key phrase; a higher score means more important."""

    text: str
    score: float
    source: str = "yake"


@dataclass(frozen=True, slots=True)
class SummarySentence:
    """A sentence chosen for the summary and its span in the text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary: ``sentences`` are the extractive choice with their spans; ``text`` is
    those sentences joined, or an abstractive rewrite when ``source`` is not
    ``extractive`` (``azure-openai``, ``azure-language``)."""

    text: str
    sentences: tuple[SummarySentence, ...] = ()
    source: str = "extractive"


@dataclass(frozen=True, slots=True)
class ProcessingWarning:
    """Something worth knowing that did not stop processing (e.g. ``no_text_layer``)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class DocumentMetadata:
    """Metadata read from the document itself; absent fields are ``None``.

    Dates are ISO 8601 strings.
    """

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    creator: str | None = None
    producer: str | None = None
    created: str | None = None
    modified: str | None = None
    page_count: int | None = None
    word_count: int = 0
    encoding: str | None = None
    #: ISO 639-1 code of the document's main language, and how sure the detector is (0..1).
    language: str | None = None
    language_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class Extraction:
    """What an extractor returns: text with its structure and metadata.

    ``metadata.word_count`` is filled in by the pipeline, not the extractor.
    """

    text: str
    metadata: DocumentMetadata
    pages: tuple[Page, ...] = ()
    headings: tuple[Heading, ...] = ()
    warnings: tuple[ProcessingWarning, ...] = ()
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """Facts about the bytes that were processed."""

    filename: str | None
    content_type: str | None
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ProcessingResult:
    """The versioned result of processing one document."""

    document: DocumentInfo
    metadata: DocumentMetadata
    text: str
    pages: tuple[Page, ...] = ()
    headings: tuple[Heading, ...] = ()
    entities: tuple[Entity, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    summary: Summary = field(default_factory=lambda: Summary(text=""))
    warnings: tuple[ProcessingWarning, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: ``text`` with every PII span masked character for character (``PII_REDACTION``),
    #: so offsets into ``text`` index it too; ``None`` when redaction is off or incomplete.
    redacted_text: str | None = None
    #: A web page's outgoing links (HTML only).
    links: tuple[Link, ...] = ()
    schema_version: str = SCHEMA_VERSION
    pipeline_version: str = PIPELINE_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready dicts and lists, ``schema_version`` first."""
        body = _lists(dataclasses.asdict(self))
        ordered = {"schema_version": body.pop("schema_version")}
        ordered.update(body)
        return ordered

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def _lists(value: Any) -> Any:
    """``asdict`` keeps tuples; JSON-ready data has lists."""
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_lists(item) for item in value]
    return value


class InvalidResultError(ValueError):
    """Data that is not a well-formed :class:`ProcessingResult`."""


def result_from_dict(data: Any) -> ProcessingResult:
    """Rebuild a result from :meth:`ProcessingResult.to_dict` output, trusting nothing.

    Used on what an isolated worker sends back: every field must have its
    declared type, nothing else may be present, and every span must lie
    inside the text. Raises InvalidResultError otherwise.
    """
    result = _decode(ProcessingResult, data, "result")
    assert isinstance(result, ProcessingResult)
    length = len(result.text)
    spans = [(p.start, p.end) for p in result.pages]
    spans += [(e.start, e.end) for e in result.entities]
    spans += [(h.start, h.start) for h in result.headings]
    spans += [(s.start, s.end) for s in result.summary.sentences]
    for start, end in spans:
        if not 0 <= start <= end <= length:
            raise InvalidResultError(f"a span [{start}, {end}) lies outside the text")
    return result


def _decode(kind: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind):
        return _decode_dataclass(kind, value, where)
    if origin is types.UnionType or origin is typing.Union:
        for option in typing.get_args(kind):
            try:
                return _decode(option, value, where)
            except InvalidResultError:
                continue
        raise InvalidResultError(f"{where} has an unexpected type")
    if origin is tuple:
        (item_kind, _ellipsis) = typing.get_args(kind)
        if not isinstance(value, list):
            raise InvalidResultError(f"{where} must be a list")
        return tuple(_decode(item_kind, item, f"{where}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        key_kind, item_kind = typing.get_args(kind)
        if not isinstance(value, dict) or not all(isinstance(k, key_kind) for k in value):
            raise InvalidResultError(f"{where} must be an object")
        return {k: _decode(item_kind, v, f"{where}.{k}") for k, v in value.items()}
    return _decode_scalar(kind, value, where)


def _decode_scalar(kind: Any, value: Any, where: str) -> Any:
    if kind is type(None):
        if value is None:
            return None
    elif kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    else:
        raise InvalidResultError(f"{where}: {kind!r} is not a result type")
    raise InvalidResultError(f"{where} must be a {getattr(kind, '__name__', kind)}")


@functools.cache
def _fields(kind: Any) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """Each field's resolved type and definition (resolving is slow: once per class)."""
    return typing.get_type_hints(kind), {f.name: f for f in dataclasses.fields(kind)}


def _decode_dataclass(kind: Any, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise InvalidResultError(f"{where} must be an object")
    hints, fields = _fields(kind)
    unknown = set(value) - set(fields)
    if unknown:
        raise InvalidResultError(f"{where} has unknown fields {sorted(unknown)}")
    arguments = {}
    for name, field_info in fields.items():
        if name in value:
            arguments[name] = _decode(hints[name], value[name], f"{where}.{name}")
        elif (
            field_info.default is dataclasses.MISSING
            and field_info.default_factory is dataclasses.MISSING
        ):
            raise InvalidResultError(f"{where} lacks {name}")
    return kind(**arguments)
