"""Command line: ``python -m processing FILE_OR_FOLDER...``.

Prints one JSON object for one file, JSON Lines for several. Exit status: 0 when
every file succeeded, 1 when any failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from processing.extraction.errors import DocumentError
from processing.extraction.limits import Limits
from processing.extraction.result import ProcessingResult

Processor = Callable[..., ProcessingResult]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        files = list(_expand(args.paths))
    except FileNotFoundError as exc:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: no such file or folder: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    if not files:
        print(f"{parser.prog}: error: no files to process", file=sys.stderr)
        return EXIT_USAGE

    from processing.extraction.pipeline import run_pipeline  # deferred: keeps --help instant

    limits = Limits(timeout_seconds=args.timeout)
    show_progress = any(Path(p).is_dir() for p in args.paths) and not args.no_progress
    single = len(files) == 1 and not show_progress
    indent = 2 if args.pretty else None
    failed = 0
    with _Progress(len(files), sys.stderr, enabled=show_progress) as progress:
        for path in files:
            record = _process_file(path, run_pipeline, limits, with_text=not args.no_text)
            failed += "error" in record
            _write(record, indent=indent, single=single)
            progress.advance(path.name)
    return EXIT_FAILED if failed else EXIT_OK


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m processing",
        description="Extract text, metadata, entities, keywords and a summary from "
        "PDF, DOCX and TXT files.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE", help="files or folders to process")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON output")
    parser.add_argument(
        "--no-text", action="store_true", help="leave the full text out of the output"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=Limits().timeout_seconds,
        metavar="SECONDS",
        help="time limit per document (default: %(default)s)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar for folders on stderr"
    )
    return parser


def _expand(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise FileNotFoundError(name)


def _process_file(
    path: Path, process: Processor, limits: Limits, *, with_text: bool
) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return {
            "document": {"filename": path.name},
            "error": {"code": "unreadable", "message": exc.strerror or str(exc)},
        }
    try:
        result: dict[str, Any] = process(data, path.name, limits=limits).to_dict()
    except DocumentError as exc:
        return {
            "document": {
                "filename": path.name,
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
            "error": exc.to_dict(),
        }
    if not with_text:
        del result["text"]
    return result


def _write(record: dict[str, Any], *, indent: int | None, single: bool) -> None:
    # JSON Lines needs one object per line, so --pretty only indents a single result.
    text = json.dumps(record, ensure_ascii=False, indent=indent if single else None)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class _Progress:
    """A one-line progress bar on stderr, redrawn in place."""

    _WIDTH = 30

    def __init__(self, total: int, stream: TextIO, *, enabled: bool) -> None:
        self._total = total
        self._done = 0
        self._stream = stream
        self._enabled = enabled

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._enabled:
            self._stream.write("\n")
            self._stream.flush()

    def advance(self, label: str) -> None:
        self._done += 1
        if not self._enabled:
            return
        filled = self._WIDTH * self._done // self._total
        bar = "#" * filled + "-" * (self._WIDTH - filled)
        self._stream.write(f"\r[{bar}] {self._done}/{self._total} {label[:40]:<40}")
        self._stream.flush()
