"""One PDF engine over a list of files, run in a fresh process so peak RSS is its own.

``python -m tools.bench.engines ENGINE FILE...`` prints one JSON line:
``{"engine", "peak_rss_mb", "files": {name: [pages, seconds]}}`` (pages -1: failed).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _pdfium(data: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        return len(document)
    finally:
        document.close()


def _pypdf(data: bytes) -> int:
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages)


def _pdfminer(data: bytes) -> int:
    import io
    import logging

    from pdfminer.high_level import extract_pages

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    return sum(1 for _ in extract_pages(io.BytesIO(data)))


def _project(data: bytes) -> int:
    from processing.extraction.extractors.pdf import extract_pdf
    from processing.extraction.limits import Deadline, Limits

    return len(extract_pdf(data, Limits(), Deadline.never()).pages)


ENGINES: dict[str, Callable[[bytes], int]] = {
    "project": _project,
    "pypdfium2": _pdfium,
    "pypdf": _pypdf,
    "pdfminer.six": _pdfminer,
}


def main(argv: list[str]) -> None:
    engine = ENGINES[argv[0]]
    files: dict[str, tuple[int, float]] = {}
    for name in argv[1:]:
        data = Path(name).read_bytes()
        started = time.perf_counter()
        try:
            pages = engine(data)
        except Exception:  # an engine failing on a file is part of what is measured
            pages = -1
        files[name] = (pages, time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": argv[0], "peak_rss_mb": peak_mb, "files": files}))


if __name__ == "__main__":
    main(sys.argv[1:])
