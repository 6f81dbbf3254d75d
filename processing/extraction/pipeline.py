"""The pipeline: a document's bytes in, a :class:`ProcessingResult` out.

:func:`run_pipeline` is the package's one public entry point. It raises
only :class:`~processing.extraction.errors.DocumentError` subclasses; anything else a
parser throws on hostile input is mapped to one of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from processing.extraction.analysis.entities import merge_entities, recognize_entities
from processing.extraction.analysis.keywords import extract_keywords
from processing.extraction.analysis.language import detect_language
from processing.extraction.analysis.summary import summarize
from processing.extraction.detect import detect_type
from processing.extraction.errors import (
    CorruptDocumentError,
    DocumentError,
    EmptyDocumentError,
    LimitsExceededError,
    TooLargeError,
)
from processing.extraction.extractors.docx import extract_docx
from processing.extraction.extractors.html import extract_html
from processing.extraction.extractors.pdf import extract_pdf
from processing.extraction.extractors.text import extract_text
from processing.extraction.limits import Deadline, Limits
from processing.extraction.options import AnalysisOptions
from processing.extraction.result import (
    DocumentInfo,
    DocumentMetadata,
    DocumentType,
    Entity,
    Extraction,
    ProcessingResult,
    ProcessingWarning,
)

log = logging.getLogger(__name__)

# Words as word processors count them: runs of non-space characters.
_WORD = re.compile(r"\S+")

Extractor = Callable[[bytes, Limits, Deadline], Extraction]

_EXTRACTORS: dict[DocumentType, Extractor] = {
    DocumentType.PDF: extract_pdf,
    DocumentType.DOCX: extract_docx,
    DocumentType.TXT: lambda data, _limits, _deadline: extract_text(data),
    DocumentType.HTML: extract_html,
}


def run_pipeline(
    data: bytes,
    filename: str | None = None,
    *,
    limits: Limits | None = None,
    options: AnalysisOptions | None = None,
) -> ProcessingResult:
    """Extract text, metadata, language, entities, keywords and a summary from ``data``.

    Raises a :class:`DocumentError` with a stable ``code`` when the document
    cannot be processed; no other exception escapes.
    """
    limits = limits or Limits()
    try:
        return _process(data, filename, limits, options or AnalysisOptions())
    except DocumentError:
        raise
    except MemoryError as exc:
        raise LimitsExceededError("the document needs more memory than allowed") from exc
    except RecursionError as exc:
        raise LimitsExceededError("the document's structure is nested too deeply") from exc
    except Exception as exc:
        # A parser failing in a way it does not document is, for the caller,
        # a document that cannot be read; the traceback goes to the log only.
        log.warning(
            "document.parser_failed",
            exc_info=True,
            extra={"error_type": type(exc).__name__},
        )
        raise CorruptDocumentError("the document could not be parsed") from exc


def _process(
    data: bytes, filename: str | None, limits: Limits, options: AnalysisOptions
) -> ProcessingResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    deadline = Deadline(limits.timeout_seconds)

    if len(data) > limits.max_document_bytes:
        raise TooLargeError(
            f"the document is {len(data)} bytes; the limit is {limits.max_document_bytes}"
        )
    with _timed(timings, "detect"):
        doc_type = detect_type(data)
    with _timed(timings, "extract"):
        extraction = _EXTRACTORS[doc_type](data, limits, deadline)
    deadline.check()

    text = extraction.text
    warnings = list(extraction.warnings)
    if len(text) > limits.max_text_chars:
        raise LimitsExceededError(
            f"the document holds {len(text)} characters of text; the limit is "
            f"{limits.max_text_chars}"
        )
    if not text.strip() and doc_type is not DocumentType.PDF:
        # A PDF without text is a scan and keeps its no_text_layer warning;
        # other formats without text have nothing to offer.
        raise EmptyDocumentError("the document contains no text")

    analysed = text
    if len(text) > limits.max_analysis_chars:
        analysed = text[: limits.max_analysis_chars]
        warnings.append(
            ProcessingWarning(
                "analysis_truncated",
                f"entities, keywords and summary cover the first {limits.max_analysis_chars} "
                f"of {len(text)} characters",
            )
        )
    language = None
    if options.detect_language:
        with _timed(timings, "language"):
            language = detect_language(analysed)
    with _timed(timings, "entities"):
        entities = recognize_entities(analysed, max_entities=limits.max_entities)
    if options.spacy_model:
        with _timed(timings, "spacy"):
            entities = _with_spacy(analysed, entities, options.spacy_model, limits, warnings)
    if len(entities) >= limits.max_entities:
        warnings.append(
            ProcessingWarning(
                "entities_truncated", f"only the first {limits.max_entities} entities are returned"
            )
        )
    deadline.check()
    with _timed(timings, "keywords"):
        keywords = extract_keywords(analysed)
    deadline.check()
    with _timed(timings, "summary"):
        summary = summarize(analysed)
    timings["total"] = _elapsed_ms(started)

    metadata = extraction.metadata
    return ProcessingResult(
        document=DocumentInfo(
            filename=filename,
            content_type=doc_type.content_type,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        ),
        metadata=_with_language(_with_word_count(metadata, text), language),
        text=text,
        pages=extraction.pages,
        headings=extraction.headings,
        entities=entities,
        keywords=keywords,
        summary=summary,
        warnings=tuple(warnings),
        timings_ms=timings,
        links=extraction.links,
    )


def _with_spacy(
    text: str,
    entities: tuple[Entity, ...],
    model: str,
    limits: Limits,
    warnings: list[ProcessingWarning],
) -> tuple[Entity, ...]:
    """The pattern entities merged with the named entities of the spaCy pipeline ``model``;
    a missing spaCy or pipeline leaves them as they are, with a warning."""
    from processing.extraction.analysis.spacy_ner import (
        SpacyRecognizer,
        SpacyUnavailableError,
        load_pipeline,
    )

    try:
        recognizer = SpacyRecognizer(load_pipeline(model))
    except SpacyUnavailableError as exc:
        log.warning("spacy.unavailable", extra={"error_type": type(exc.__cause__).__name__})
        warnings.append(ProcessingWarning("spacy_unavailable", str(exc)))
        return entities
    return merge_entities(entities, recognizer.recognize(text), max_entities=limits.max_entities)


def _with_language(
    metadata: DocumentMetadata, language: tuple[str, float] | None
) -> DocumentMetadata:
    if language is None:
        return metadata
    return dataclasses.replace(metadata, language=language[0], language_confidence=language[1])


def _with_word_count(metadata: DocumentMetadata, text: str) -> DocumentMetadata:
    return dataclasses.replace(metadata, word_count=sum(1 for _ in _WORD.finditer(text)))


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = _elapsed_ms(started)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
