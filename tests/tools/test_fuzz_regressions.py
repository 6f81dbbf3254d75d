"""The fuzzer's property holds for what it found, its oracle catches what it must,
and a short fuzzing run over the generated seeds finds nothing new."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import processing.extraction.pipeline
from processing.errors import SourceMissingError
from processing.extraction.errors import (
    DocumentError,
    LimitsExceededError,
    ProcessingTimeoutError,
)
from processing.extraction.extractors import text as text_module
from processing.extraction.isolation import IsolatedPipeline
from processing.extraction.limits import MIB, IsolationLimits, Limits
from processing.extraction.pipeline import run_pipeline
from processing.extraction.result import DocumentInfo, DocumentMetadata, Page, ProcessingResult
from tests.builders.docx_files import docx_package, paragraph
from tests.builders.hostile import (
    deeply_nested_pdf,
    looping_xref_pdf,
    serialise_pdf,
    text_page_objects,
    xobject_laughs_pdf,
)
from tools.fuzz import harness
from tools.fuzz.engine import mutation_strategy
from tools.fuzz.harness import FUZZ_LIMITS, InvariantViolation, check_document, check_result
from tools.fuzz.minimize import minimize
from tools.fuzz.mutations import Mutation, apply, apply_all
from tools.fuzz.seeds import generated_seeds, load_seeds

REPO_ROOT = Path(__file__).resolve().parents[2]
SHORT_RUN_SECONDS = 20


# --- the short run (part of `make test`) -------------------------------------------------


def test_short_fuzz_run(tmp_path: Path) -> None:
    """A fixed-seed run over the generated seeds keeps the property on every input."""
    options = ["--seconds", str(SHORT_RUN_SECONDS), "--seed", "0", "--no-corpus"]
    completed = subprocess.run(
        [sys.executable, "-m", "tools.fuzz", *options, "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=SHORT_RUN_SECONDS + 120,
        check=False,
    )
    report = completed.stdout + completed.stderr
    assert completed.returncode == 0, report
    assert "0 new finding(s)" in completed.stdout, report
    examples = int(completed.stdout.split(" examples in ")[0].rsplit(" ", 1)[-1])
    assert examples >= 50, report
    assert list((tmp_path / "findings").iterdir()) == []


# --- what the fuzzer found ---------------------------------------------------------------


def test_fuzzed_pdf_gives_the_same_result_every_time() -> None:
    """Found by the fuzzer (seed 23): pypdf's "Root found at IndirectObject(1, 0, <id>)"
    quoted the reader's memory address, so the warning changed from run to run
    (and exposed a heap address to clients)."""
    data = apply(looping_xref_pdf(fallback=True), Mutation("number", position=644, value=939), [])
    assert check_document(data, repeat=True).outcome == "completed"


def test_pdf_parser_warnings_quote_objects_without_memory_addresses() -> None:
    data = serialise_pdf(text_page_objects(), fallback=True)

    first = run_pipeline(data, "x.pdf")
    second = run_pipeline(data, "x.pdf")

    messages = [warning.message for warning in first.warnings]
    assert "pypdf: Root found at IndirectObject(1, 0)" in messages
    assert first.warnings == second.warnings


def test_exponentially_nested_pdf_forms_end_as_limits_exceeded_in_an_isolated_worker() -> None:
    """Found by the fuzzer (seed 37, a mutation of a corpus PDF whose two form XObjects
    draw each other): PDFium expands every form drawing while it loads a page, so
    forms each drawing the next ten times need 10^levels objects. A 127 KB input
    reached 8 GB in 55 s in-process before aborting at the address-space limit; only
    the worker's limit contains it. This is the generated equivalent (3 KB)."""
    pool = IsolatedPipeline(IsolationLimits(memory_bytes=512 * MIB, cpu_seconds=30, workers=1))
    try:
        with pytest.raises(LimitsExceededError):
            pool(
                xobject_laughs_pdf(levels=10, fan_out=10), "laughs.pdf", Limits(timeout_seconds=20)
            )
        assert "memo" in pool(b"A short memo.", "memo.txt", Limits()).text
    finally:
        pool.close()


def test_pypdf_logging_deep_inside_a_recursion_writes_nothing_to_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Found by the fuzzer's stderr check (seed 41: a corpus PDF with '<< 0 obj' repeated
    ~600 times, 5 KB after reduction, read by pypdf). The generated hostile case of
    dictionaries nested 100,000 deep writes 16,583 such lines for one document."""
    data = deeply_nested_pdf(900, kind="dict", where="content", fallback=True)
    with pytest.raises(DocumentError):
        run_pipeline(data, "nested.pdf")
    assert capfd.readouterr().err == ""


def test_a_pypdf_record_with_bad_format_arguments_writes_nothing_to_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Found by the fuzzer's stderr check (seed 61): one duplicated range in a PDF that
    only pypdf reads makes pypdf log '%d' with a NullObject; the failed formatting
    printed a 40-line traceback per document to the host's log."""
    data = apply(
        looping_xref_pdf(fallback=True), Mutation("duplicate", position=78, length=424), []
    )
    with pytest.raises(DocumentError) as failure:  # pypdf cannot read it either
        run_pipeline(data, "xref.pdf")
    assert failure.value.code == "corrupt"
    assert capfd.readouterr().err == ""


def test_zip_needing_a_newer_extract_version_is_corrupt_without_a_masked_exception() -> None:
    """Found by the fuzzer (seed 41): zipfile raises NotImplementedError for a directory
    entry whose "version needed to extract" is above 6.3, which nothing caught until the
    pipeline's catch-all, which logged a traceback for it."""
    data = bytearray(docx_package(paragraph("text")))
    entry = data.find(b"PK\x01\x02")
    data[entry + 6 : entry + 8] = (64).to_bytes(2, "little")

    verdict = check_document(bytes(data))

    assert verdict.outcome == "corrupt"
    assert verdict.masked is None


# --- the oracle -------------------------------------------------------------------------


def test_an_exception_escaping_the_pipeline_is_a_violation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def escape(*_args: object, **_kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(harness, "run_pipeline", escape)
    with pytest.raises(InvariantViolation) as caught:
        check_document(b"hello")
    assert caught.value.kind == "escaped"
    assert caught.value.signature.startswith("KeyError@")


def test_a_document_error_with_an_undocumented_code_is_a_violation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(*_args: object, **_kwargs: object) -> None:
        raise SourceMissingError("gone")

    monkeypatch.setattr(harness, "run_pipeline", missing)
    with pytest.raises(InvariantViolation) as caught:
        check_document(b"hello")
    assert caught.value.kind == "bad_error"


def test_a_result_that_changes_between_runs_is_a_violation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def drifting(data: bytes, filename: str | None, *, limits: object) -> ProcessingResult:
        calls.append(1)
        result = run_pipeline(data, filename)
        return dataclasses.replace(result, text=f"{result.text} {len(calls)}")

    monkeypatch.setattr(harness, "run_pipeline", drifting)
    assert check_document(b"same bytes").outcome == "completed"
    with pytest.raises(InvariantViolation) as caught:
        check_document(b"same bytes", repeat=True)
    assert caught.value.kind == "nondeterministic"


def test_a_document_timing_out_in_only_one_of_two_runs_is_not_nondeterminism(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the fuzzer (seed 53): a 757 KB PDF taking 3-5 s against a 5 s limit
    completed in one run and timed out in the other; that is the machine, not the code."""
    calls: list[int] = []

    def slow_once(data: bytes, filename: str | None, *, limits: object) -> ProcessingResult:
        calls.append(1)
        if len(calls) == 1:
            raise ProcessingTimeoutError("took too long this time")
        return run_pipeline(data, filename)

    monkeypatch.setattr(harness, "run_pipeline", slow_once)
    assert check_document(b"same bytes", repeat=True).outcome == "timeout"


def test_a_page_span_outside_the_text_is_a_violation() -> None:
    result = ProcessingResult(
        document=DocumentInfo("x.pdf", "application/pdf", 1, "0" * 64),
        metadata=DocumentMetadata(),
        text="short",
        pages=(Page(1, 0, 3), Page(2, 2, 99)),
    )
    with pytest.raises(InvariantViolation) as caught:
        check_result(result, FUZZ_LIMITS)
    assert caught.value.signature == "page_span"


def test_text_that_cannot_be_stored_as_utf8_is_a_violation() -> None:
    result = ProcessingResult(
        document=DocumentInfo("x.txt", "text/plain", 1, "0" * 64),
        metadata=DocumentMetadata(),
        text="lone \ud800 surrogate",
    )
    with pytest.raises(InvariantViolation) as caught:
        check_result(result, FUZZ_LIMITS)
    assert caught.value.signature == "json"


def test_an_exception_raised_in_project_code_and_masked_as_corrupt_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text_module, "decode_text", None)
    verdict = check_document(b"plain text")
    assert verdict.outcome == "corrupt"
    assert verdict.masked is not None
    assert verdict.masked.startswith("TypeError@text.py:")
    assert verdict.masked_in_project


def test_an_exception_from_outside_the_project_is_masked_but_not_blamed_on_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def third_party(_data: bytes) -> object:
        raise IndexError("a parser bug")

    monkeypatch.setattr(processing.extraction.pipeline, "detect_type", third_party)
    verdict = check_document(b"plain text")
    assert verdict.outcome == "corrupt"
    assert verdict.masked is not None
    assert not verdict.masked_in_project


def test_every_generated_seed_keeps_the_property() -> None:
    seeds = generated_seeds()
    assert {seed.kind for seed in seeds} == {"pdf", "zip", "text"}
    for seed in seeds:
        check_document(seed.data)


def test_missing_corpus_leaves_the_generated_seeds() -> None:
    assert len(load_seeds(REPO_ROOT / "no-such-corpus")) == len(generated_seeds())


# --- mutations and minimisation ------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([b"", b"x", b"%PDF-1.7 1 0 obj << /Length 12 >> endobj", b"PK\x03\x04junk"]),
    st.lists(mutation_strategy(), max_size=4),
)
def test_any_mutation_applies_to_any_input(data: bytes, mutations: list[Mutation]) -> None:
    mutated = apply_all(data, mutations, [b"other seed", b""])
    assert isinstance(mutated, bytes)


def test_a_mutation_inside_a_docx_part_repacks_a_readable_archive() -> None:
    package = docx_package(paragraph("original text"))
    mutated = apply(package, Mutation("token", position=10**6, value=0, member=2), [])
    with zipfile.ZipFile(io.BytesIO(mutated)) as archive:
        assert archive.testzip() is None
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert sum(b" obj " in content for content in parts.values()) == 1


def test_minimize_keeps_only_what_the_failure_needs() -> None:
    data = b"a" * 500 + b"NEEDLE" + b"b" * 500
    assert minimize(data, lambda candidate: b"NEEDLE" in candidate, seconds=10) == b"NEEDLE"
