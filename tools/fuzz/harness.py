"""The property every input must satisfy, checked on one document at a time.

:func:`check_document` runs :func:`processing.extraction.pipeline.run_pipeline` and
raises :class:`InvariantViolation` unless it returned a well-formed result or
raised a :class:`~processing.extraction.errors.DocumentError` with a documented code,
within the time limit and without writing to stderr. It also reports when
the pipeline's catch-all turned an unexpected exception into ``corrupt``:
when that exception was raised in this project's own code it is a bug the
catch-all hides.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import re
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import NoReturn

from processing.extraction.errors import DOCUMENT_ERROR_CODES, DocumentError, ProcessingTimeoutError
from processing.extraction.limits import MIB, Limits
from processing.extraction.pipeline import run_pipeline
from processing.extraction.result import ProcessingResult

#: Small limits keep each example fast; any limits are valid for the property.
FUZZ_LIMITS = Limits(
    max_document_bytes=16 * MIB,
    max_pages=300,
    max_text_chars=4_000_000,
    max_analysis_chars=2_000,
    timeout_seconds=5.0,
)
#: How far past its deadline a document may run before that counts as a hang:
#: the deadline is checked between units of work, never inside one.
OVERRUN_SECONDS = 2.0

_PROJECT = Path(__file__).resolve().parents[2] / "processing"
_PARSER_FAILED = "document.parser_failed"
_TIMEOUT = ProcessingTimeoutError.code
# "TypeError: %d format: ..." as a traceback ends.
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Warning)\b")


class InvariantViolation(AssertionError):
    """An input broke the property; ``signature`` groups violations with one cause."""

    def __init__(self, kind: str, signature: str, detail: str) -> None:
        super().__init__(f"{kind}: {signature}: {detail}")
        self.kind = kind
        self.signature = signature
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one document ended, when it kept the property."""

    outcome: str
    seconds: float
    #: ``type@file:line`` of an exception the pipeline mapped to ``corrupt``.
    masked: str | None = None
    #: Whether that exception was raised in this project's own code.
    masked_in_project: bool = False


def check_document(data: bytes, limits: Limits = FUZZ_LIMITS, *, repeat: bool = False) -> Verdict:
    """Process ``data`` and check the property; raises :class:`InvariantViolation`.

    With ``repeat`` the document is processed a second time, which must give
    the same outcome and result: results are cached by content, so the same
    bytes must always give the same answer.
    """
    verdict, fingerprint = _check_once(data, limits)
    if repeat:
        second, again = _check_once(data, limits)
        # Whether a document slightly faster than its limit makes it is up to the machine.
        timed_out = _TIMEOUT in (verdict.outcome, second.outcome)
        if again != fingerprint and not timed_out:
            raise InvariantViolation(
                "nondeterministic",
                verdict.outcome,
                f"first {fingerprint[:300]!r}, then {again[:300]!r}",
            )
    return verdict


def _check_once(data: bytes, limits: Limits) -> tuple[Verdict, str]:
    with _capture_stderr() as written, _capture_parser_failures() as failures:
        started = time.monotonic()
        cpu_started = time.process_time()
        try:
            result: ProcessingResult | None = run_pipeline(data, "fuzz.bin", limits=limits)
            outcome = "completed"
        except DocumentError as exc:
            result = None
            outcome = exc.code
            _check_error(exc)
            fingerprint = f"{exc.code}: {exc.message}"
        except (Exception, SystemExit, GeneratorExit) as exc:
            where = _origin(exc.__traceback__)
            raise InvariantViolation(
                "escaped", f"{type(exc).__name__}@{where}", "".join(traceback.format_exception(exc))
            ) from exc
        seconds = time.monotonic() - started
        cpu_seconds = time.process_time() - cpu_started
    if written:
        # The host's log is the process's stderr: a document must not be able to write there.
        output = written[0].decode(errors="replace")
        raise InvariantViolation("stderr", _stderr_signature(output), output[:2000])
    # Wall time alone is noisy on a shared machine: an overrun must also have
    # been spent computing.
    budget = limits.timeout_seconds + OVERRUN_SECONDS
    if seconds > budget and cpu_seconds > limits.timeout_seconds:
        raise InvariantViolation(
            "overrun",
            f"{outcome} after {seconds:.0f}s",
            f"took {seconds:.1f} s wall and {cpu_seconds:.1f} s CPU against a "
            f"{limits.timeout_seconds:g} s limit",
        )
    if result is not None:
        check_result(result, limits)
        body = result.to_dict()
        del body["timings_ms"]
        fingerprint = json.dumps(body, sort_keys=True)
    masked = failures[0] if failures else None
    verdict = Verdict(
        outcome,
        seconds,
        masked=None if masked is None else masked[0],
        masked_in_project=masked is not None and masked[1],
    )
    return verdict, fingerprint


def check_result(result: ProcessingResult, limits: Limits) -> None:
    """The structural promises of a result: spans inside the text, serialisable output."""
    text = result.text
    if not isinstance(text, str) or len(text) > limits.max_text_chars:
        _fail("text", f"text of type {type(text).__name__} and length {len(text)}")
    try:
        result.to_json().encode("utf-8")
    except (TypeError, ValueError) as exc:
        _fail("json", f"the result is not UTF-8 JSON: {exc}")
    try:
        # The isolated pool ships results pickled; these bytes were pickled just here.
        pickle.loads(pickle.dumps(result))  # noqa: S301
    except Exception as exc:
        _fail("pickle", repr(exc))
    _check_spans(result)
    if len(result.entities) > limits.max_entities:
        _fail("entity_count", f"{len(result.entities)} entities")
    for warning in result.warnings:
        if not warning.code or not isinstance(warning.message, str):
            _fail("warning", repr(warning))


def _check_spans(result: ProcessingResult) -> None:
    text = result.text
    previous_end = 0
    for index, page in enumerate(result.pages, start=1):
        if page.number != index or not previous_end <= page.start <= page.end <= len(text):
            _fail("page_span", f"page {page} after end {previous_end}, text length {len(text)}")
        previous_end = page.end
    for heading in result.headings:
        if text[heading.start : heading.start + len(heading.text)] != heading.text:
            _fail("heading_span", f"{heading} does not match the text there")
    for entity in result.entities:
        if not 0 <= entity.start < entity.end <= len(text):
            _fail("entity_span", f"{entity} outside a text of {len(text)} characters")
        # Card numbers are masked on purpose; everything else quotes the text.
        if entity.type != "payment_card" and text[entity.start : entity.end] != entity.text:
            _fail("entity_text", f"{entity} does not match {text[entity.start : entity.end]!r}")
    for sentence in result.summary.sentences:
        if not 0 <= sentence.start <= sentence.end <= len(text):
            _fail("summary_span", f"{sentence} outside a text of {len(text)} characters")


def _fail(signature: str, detail: str) -> NoReturn:
    raise InvariantViolation("bad_result", signature, detail)


def _stderr_signature(output: str) -> str:
    """The first line written and, when it is a traceback, the exception it ends with."""
    lines = output.splitlines()
    if "Call stack:" in lines:  # logging's report of a failed handler ends its traceback there
        lines = lines[: lines.index("Call stack:")]
    causes = [line for line in lines if _EXCEPTION_LINE.match(line)]
    first = lines[0][:80] if lines else ""
    return f"{first} {causes[-1].split(':')[0]}" if causes else first


def _check_error(exc: DocumentError) -> None:
    if exc.code not in DOCUMENT_ERROR_CODES:
        raise InvariantViolation("bad_error", f"code {exc.code}", exc.message)
    if not isinstance(exc.message, str) or not exc.message:
        raise InvariantViolation("bad_error", "message", repr(exc.message))


def _origin(tb: TracebackType | None) -> str:
    """``file:line`` of the innermost frame of this project in ``tb``, else the innermost."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return "?"
    ours = [frame for frame in frames if _in_project(frame.filename)]
    frame = ours[-1] if ours else frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno}"


def _in_project(filename: str) -> bool:
    return Path(filename).resolve().is_relative_to(_PROJECT)


class _ParserFailures(logging.Handler):
    """Collects the pipeline's ``document.parser_failed`` records of this thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._thread = threading.get_ident()
        self.failures: list[tuple[str, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self._thread or record.getMessage() != _PARSER_FAILED:
            return
        if not record.exc_info or record.exc_info[1] is None:
            return
        exc = record.exc_info[1]
        frames = traceback.extract_tb(exc.__traceback__)
        raised_here = bool(frames) and _in_project(frames[-1].filename)
        self.failures.append((f"{type(exc).__name__}@{_origin(exc.__traceback__)}", raised_here))


@contextlib.contextmanager
def _capture_stderr() -> Iterator[list[bytes]]:
    """Redirect file descriptor 2 (C libraries write there too); yields what was written."""
    written: list[bytes] = []
    with tempfile.TemporaryFile() as scratch:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(scratch.fileno(), 2)
        try:
            yield written
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            output = scratch.read()
            if output:
                written.append(output)


@contextlib.contextmanager
def _capture_parser_failures() -> Iterator[list[tuple[str, bool]]]:
    handler = _ParserFailures()
    logger = logging.getLogger("processing.extraction.pipeline")
    level = logger.level
    # The record must be created even where logging is configured quieter.
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler.failures
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
