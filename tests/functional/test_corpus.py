"""The real-world pass: every corpus file gives text (scans with their warning)
or fails with a documented code; nothing escapes, nothing reaches stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from processing.extraction.errors import DOCUMENT_ERROR_CODES, DocumentError
from processing.extraction.pipeline import run_pipeline

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parents[2]


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.glob("*/*") if p.is_file() and p.name != "MANIFEST.tsv")


def test_every_corpus_file_gives_text_or_a_documented_code(corpus_dir: Path) -> None:
    outcomes: dict[str, str] = {}
    for path in corpus_files(corpus_dir):
        try:
            result = run_pipeline(path.read_bytes(), path.name)
        except DocumentError as exc:
            assert exc.code in DOCUMENT_ERROR_CODES, (path.name, exc.code)
            outcomes[path.name] = exc.code
            continue
        warnings = {w.code for w in result.warnings}
        assert result.text.strip() or "no_text_layer" in warnings, path.name
        outcomes[path.name] = "ok"
    assert outcomes["MEDRPT-2024-PAT-3847_medical_report_scan.pdf"] == "ok"
    assert outcomes["password.pdf"] == "encrypted"
    assert outcomes["empty.txt"] == "empty"
    assert outcomes["handbook-872p.docx"] == "ok"
    assert outcomes["book-war-and-peace-1225p.txt"] == "ok"


def test_the_cli_over_the_whole_corpus_prints_nothing_unexpected_on_stderr(
    corpus_dir: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "processing", "--no-text", "--no-progress", str(corpus_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1  # the corpus holds encrypted and empty files on purpose
    assert done.stderr == ""
    assert len(done.stdout.splitlines()) == len(corpus_files(corpus_dir)) + 1  # + MANIFEST.tsv
