"""Time and peak memory of every hostile case, each in a fresh limited process.

    python -m tests.hostile.measure [--json] [CASE ...]

For each case one child builds the bytes into a temporary file, then a
second child, with the isolation worker's limits (1 GiB address space, CPU
seconds) and its modules preloaded, processes them. This process never holds
the bytes, so the peak RSS the kernel reports for the second child
(``wait4``) is that child's own: interpreter, parsers and the document. A
child that outlives the case's timeout is killed and one that dies is
classified as the pool classifies a dead worker, so outcomes match the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.hostile.cases import CASES_BY_NAME, HostileCase, Outcome, problems

_ROOT = Path(__file__).resolve().parents[2]
_MEMORY_BYTES = 1024 * 1024 * 1024
_CPU_SECONDS = 60
_TRANSFER_SECONDS = 2.0
_STARTUP_SECONDS = 60.0
_BASELINE = "baseline_small_text"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--build", nargs=2, metavar=("CASE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--run", nargs=2, metavar=("CASE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        return _build(*args.build)
    if args.run:
        return _run(*args.run)
    names = args.cases or [_BASELINE, *CASES_BY_NAME]
    rows = [measure(name) for name in names]
    for row in rows:
        if args.json:
            print(json.dumps(row))
    if not args.json:
        print(format_table(rows))
    return 0 if all(row["as_expected"] for row in rows) else 1


def measure(name: str) -> dict[str, Any]:
    """One case's row: outcome, whether it was expected, seconds and peak RSS in MB."""
    case = _case(name)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "document"
        subprocess.run(
            [sys.executable, "-m", "tests.hostile.measure", "--build", name, str(path)],
            cwd=_ROOT,
            check=True,
        )
        size = path.stat().st_size
        outcome, seconds, peak = _run_child(name, path, case.timeout_seconds)
    found = problems(case, Outcome(outcome, seconds, None, "")) if outcome != "?" else ["?"]
    return {
        "case": name,
        "bytes": size,
        "expected": case.expected,
        "outcome": outcome,
        "as_expected": not found,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak / 1024),
    }


def _run_child(name: str, path: Path, timeout: float) -> tuple[str, float, int]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.hostile.measure", "--run", name, str(path)],
        cwd=_ROOT,
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], _STARTUP_SECONDS)
    if not ready or child.stdout.readline() != b"ready\n":
        child.kill()
        raise RuntimeError(f"{name}: the measuring child did not start")
    started = time.monotonic()
    line = b""
    ready, _, _ = select.select([child.stdout], [], [], timeout + _TRANSFER_SECONDS)
    if ready:
        line = child.stdout.readline()
    else:
        child.kill()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    if line:
        reply = json.loads(line)
        return str(reply["outcome"]), float(reply["seconds"]), usage.ru_maxrss
    # As the pool classifies a worker that never answered.
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGKILL, signal.SIGXCPU)
    return ("timeout" if killed else "limits_exceeded"), seconds, usage.ru_maxrss


def _build(name: str, path: str) -> int:
    Path(path).write_bytes(_case(name).build())
    return 0


def _run(name: str, path: str) -> int:
    import importlib

    from processing.extraction.errors import DocumentError
    from processing.extraction.isolation import _PRELOAD

    for module in _PRELOAD:
        importlib.import_module(module)
    from processing.extraction.pipeline import process_document

    case = _case(name)
    data = Path(path).read_bytes()
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))
    cpu = int(resource.getrusage(resource.RUSAGE_SELF).ru_utime) + 1 + _CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.RLIM_INFINITY))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    started = time.monotonic()
    try:
        process_document(data, case.filename, limits=case.limits)
        outcome = "completed"
    except DocumentError as exc:
        outcome = exc.code
    reply = {"outcome": outcome, "seconds": time.monotonic() - started}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
    return 0


def _case(name: str) -> HostileCase:
    if name == _BASELINE:
        return HostileCase(
            _BASELINE,
            lambda: b"A normal memo about the 14 March 2026 budget meeting.\n",
            "memo.txt",
            "completed",
            "the interpreter and preloaded parsers alone",
        )
    return CASES_BY_NAME[name]


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of ``rows`` and a summary line."""
    lines = [
        "| case | bytes | expected | got | seconds | peak MB |",
        "|---|---:|---|---|---:|---:|",
    ]
    for row in rows:
        mark = "" if row["as_expected"] else " **(unexpected)**"
        lines.append(
            f"| {row['case']} | {row['bytes']:,} | {row['expected']} | {row['outcome']}{mark} "
            f"| {row['seconds']:.2f} | {row['peak_rss_mb']} |"
        )
    cases = [row for row in rows if row["case"] != _BASELINE]
    if cases:
        slowest = max(cases, key=lambda row: row["seconds"])
        largest = max(cases, key=lambda row: row["peak_rss_mb"])
        lines.append("")
        lines.append(
            f"{len(cases)} cases, {sum(row['as_expected'] for row in cases)} as expected; "
            f"slowest {slowest['case']} {slowest['seconds']:.2f} s; "
            f"largest peak {largest['case']} {largest['peak_rss_mb']} MB"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
