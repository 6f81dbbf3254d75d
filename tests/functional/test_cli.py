"""``python -m processing``: JSON out, coded errors, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.builders.pdfs import build_reportlab_pdf

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "processing", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_one_file_prints_one_json_object_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "memo.pdf"
    path.write_bytes(build_reportlab_pdf([["Meeting on 14 March 2026 about the budget."]]))
    done = run_cli(str(path), "--pretty")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["document"]["filename"] == "memo.pdf"
    assert "budget" in result["text"]
    assert done.stdout.startswith("{\n  ")  # --pretty indents


def test_several_files_print_json_lines_and_a_failure_exits_1(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("A short note about nothing in particular.")
    bad = tmp_path / "b.pdf"
    bad.write_bytes(b"MZ" + bytes(range(256)) * 4)
    done = run_cli(str(good), str(bad), "--no-text")
    assert done.returncode == 1
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert "text" not in first
    assert first["document"]["filename"] == "a.txt"
    assert second == {
        "document": {
            "filename": "b.pdf",
            "size_bytes": bad.stat().st_size,
            "sha256": second["document"]["sha256"],
        },
        "error": {"code": "unsupported_type", "message": second["error"]["message"]},
    }


def test_folder_is_processed_with_progress_on_stderr(tmp_path: Path) -> None:
    for index in range(3):
        (tmp_path / f"{index}.txt").write_text(f"Document number {index} has a sentence.")
    done = run_cli(str(tmp_path))
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 3
    assert "3/3" in done.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli(str(tmp_path / "missing.pdf")).returncode == 2
    assert run_cli().returncode == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(str(empty)).returncode == 2
