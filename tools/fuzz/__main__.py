"""``python -m tools.fuzz``: fuzz type detection and the extractors through run_pipeline.

    python -m tools.fuzz --seconds 300            # what `make fuzz` runs
    python -m tools.fuzz --seconds 20 --seed 1    # a short, reproducible run

The fuzzing itself runs in a child process with an address-space limit, so
a parser that crashes, aborts or hangs ends only the child: the parent saves
the input that was in flight as a finding and starts a new child for the
rest of the time. Findings go to ``OUT/findings`` (default ``.fuzz/``, which
git ignores) as ``KIND-DIGEST.bin`` (``.min.bin`` when reduced) with a JSON
note; findings already there are not reported again. The exit status is 1
when the run found something new.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = _ROOT / ".fuzz"
_IN_FLIGHT = "in-flight.bin"
_HANG_TRACE = "hang-traceback.txt"
_STATS_PREFIX = "FUZZ-STATS "


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.child:
        return _child(args)
    return _supervise(args)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.fuzz", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=300.0, help="time budget (300)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (from the clock)")
    parser.add_argument("--corpus", type=Path, default=None, help="seed corpus directory")
    parser.add_argument("--no-corpus", action="store_true", help="generated seeds only")
    parser.add_argument("--max-seed-bytes", type=int, default=200 * 1024)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="findings directory")
    parser.add_argument("--memory-mb", type=int, default=2048, help="child address space")
    parser.add_argument(
        "--hang-seconds", type=float, default=60.0, help="one example this long is a hang"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the parent: runs children until the time is spent ------------------------------


def _supervise(args: argparse.Namespace) -> int:
    findings_dir = args.out / "findings"
    findings_dir.mkdir(parents=True, exist_ok=True)
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    stop_at = time.monotonic() + args.seconds
    totals: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    new_findings: list[str] = []
    masked: Counter[str] = Counter()
    repeats: Counter[str] = Counter()
    child_number = 0
    print(f"fuzz: seed {seed}, {args.seconds:g} s, findings in {findings_dir}", file=sys.stderr)
    while (remaining := stop_at - time.monotonic()) > 1.0:
        stats, ended = _run_child(args, seed + child_number, remaining)
        child_number += 1
        if stats is not None:
            totals["examples"] += int(stats["examples"])
            outcomes.update(stats["outcomes"])
            masked.update(stats["masked_elsewhere"])
            repeats.update(stats["repeats"])
            new_findings.extend(stats["findings"])
        if ended is not None:
            new_findings.append(_save_fatal(args.out, ended))
    _print_summary(
        seed=seed,
        seconds=args.seconds,
        examples=totals["examples"],
        outcomes=outcomes,
        masked=masked,
        repeats=repeats,
        findings=new_findings,
    )
    return 1 if new_findings else 0


def _run_child(
    args: argparse.Namespace, seed: int, seconds: float
) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """Run one child; returns its stats and, if it died or hung, what ended it."""
    (args.out / _HANG_TRACE).unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "tools.fuzz", "--child", "--seconds", str(seconds),
        "--seed", str(seed), "--max-seed-bytes", str(args.max_seed_bytes), "--out", str(args.out),
        "--memory-mb", str(args.memory_mb), "--hang-seconds", str(args.hang_seconds),
    ]  # fmt: skip
    if args.no_corpus:
        command.append("--no-corpus")
    elif args.corpus is not None:
        command += ["--corpus", str(args.corpus)]
    child = subprocess.Popen(command, cwd=_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        output, _ = child.communicate(timeout=seconds + args.hang_seconds + 120)
    except subprocess.TimeoutExpired:
        child.kill()
        output, _ = child.communicate()
    stats = None
    for line in output.splitlines():
        if line.startswith(_STATS_PREFIX):
            stats = json.loads(line[len(_STATS_PREFIX) :])
    if child.returncode == 0 and stats is not None:
        return stats, None
    trace = args.out / _HANG_TRACE
    if trace.exists() and trace.stat().st_size:
        return stats, {"kind": "hang", "detail": trace.read_text(errors="replace")}
    code = child.returncode
    reason = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    return stats, {"kind": "crash", "detail": f"the fuzzing process ended with {reason}"}


def _save_fatal(out: Path, ended: dict[str, str]) -> str:
    """Save the input that was in flight when a child died or hung; returns its key."""
    import hashlib

    in_flight = out / _IN_FLIGHT
    data = in_flight.read_bytes() if in_flight.exists() else b""
    digest = hashlib.sha256(data).hexdigest()[:12]
    name = f"{ended['kind']}-{digest}"
    (out / "findings" / f"{name}.bin").write_bytes(data)
    note = {"kind": ended["kind"], "signature": digest, "detail": ended["detail"]}
    (out / "findings" / f"{name}.json").write_text(json.dumps(note, indent=2))
    print(f"fuzz: {ended['kind']} on a {len(data)}-byte input, saved as {name}", file=sys.stderr)
    return f"{ended['kind']}:{digest}"


def _print_summary(
    *,
    seed: int,
    seconds: float,
    examples: int,
    outcomes: Counter[str],
    masked: Counter[str],
    repeats: Counter[str],
    findings: list[str],
) -> None:
    rate = examples / seconds if seconds else 0.0
    print(f"fuzz: seed {seed}: {examples} examples in {seconds:g} s ({rate:.1f}/s)")
    print("fuzz: outcomes " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    if masked:
        print("fuzz: parser exceptions mapped to corrupt (third-party, expected):")
        for signature, count in masked.most_common(10):
            print(f"  {count:6d}  {signature}")
    if repeats:
        print("fuzz: known or earlier findings met again:")
        for key, count in repeats.most_common():
            print(f"  {count:6d}  {key}")
    print(f"fuzz: {len(findings)} new finding(s)" + "".join(f"\n  {key}" for key in findings))


# --- the child: the in-process loop ---------------------------------------------------


def _child(args: argparse.Namespace) -> int:
    from tools.fuzz.engine import Finding, run
    from tools.fuzz.known import KNOWN_ISSUES
    from tools.fuzz.seeds import DEFAULT_CORPUS, load_seeds

    # The pipeline logs every parser failure with its traceback: noise here
    # (the harness still sees those records through its own handler).
    logging.getLogger().addHandler(logging.NullHandler())
    corpus = None if args.no_corpus else (args.corpus or DEFAULT_CORPUS)
    seeds = load_seeds(corpus, max_bytes=args.max_seed_bytes)
    findings_dir = args.out / "findings"
    known = _known_findings(findings_dir) | frozenset(KNOWN_ISSUES)
    memory = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    in_flight = os.open(args.out / _IN_FLIGHT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    hang_trace = (args.out / _HANG_TRACE).open("w")

    def before_example(data: bytes) -> None:
        os.ftruncate(in_flight, 0)
        os.pwrite(in_flight, data, 0)
        # Re-armed per example: a C-level watchdog that fires even if the GIL is held.
        faulthandler.dump_traceback_later(args.hang_seconds, exit=True, file=hang_trace)

    def on_finding(finding: Finding) -> None:
        _save_finding(findings_dir, finding)
        print(f"fuzz: {finding.kind}: {finding.signature} ({finding.seed})", file=sys.stderr)

    print(f"fuzz: {len(seeds)} seeds", file=sys.stderr)
    stats = run(
        args.seconds,
        seeds,
        seed=args.seed,
        known=known,
        before_example=before_example,
        on_finding=on_finding,
    )
    faulthandler.cancel_dump_traceback_later()
    os.close(in_flight)
    with contextlib.suppress(OSError):
        (args.out / _IN_FLIGHT).unlink()
    print(_STATS_PREFIX + json.dumps(stats.to_dict()), flush=True)
    return 0


def _known_findings(findings_dir: Path) -> frozenset[str]:
    keys = set()
    for note in findings_dir.glob("*.json"):
        with contextlib.suppress(ValueError, KeyError, OSError):
            content = json.loads(note.read_text())
            keys.add(f"{content['kind']}:{content['signature']}")
    return frozenset(keys)


def _save_finding(findings_dir: Path, finding: Any) -> None:
    name = f"{finding.kind}-{finding.digest}"
    (findings_dir / f"{name}.bin").write_bytes(finding.data)
    if finding.minimized is not None:
        (findings_dir / f"{name}.min.bin").write_bytes(finding.minimized)
    note = {
        "kind": finding.kind,
        "signature": finding.signature,
        "detail": finding.detail[-4000:],
        "seed": finding.seed,
        "mutations": [repr(mutation) for mutation in finding.mutations],
        "bytes": len(finding.data),
        "minimized_bytes": None if finding.minimized is None else len(finding.minimized),
    }
    (findings_dir / f"{name}.json").write_text(json.dumps(note, indent=2))


if __name__ == "__main__":
    sys.exit(main())
