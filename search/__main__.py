"""``python -m search reindex``: rebuild the whole index from the stored results,
for every owner, in this process (with the app's settings), printing progress.

For a new chunking setting or embedding model; ``POST /api/search/reindex``
does the same for the caller's own documents through the queue.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from search.runtime import Search, search
from search.status import IndexState

PAGE = 50


def reindex(services: Search, *, out: TextIO = sys.stdout) -> tuple[int, int]:
    """Index every completed document again; returns (indexed, failed)."""
    documents = services.indexer.documents
    indexed = failed = 0
    after = None
    while page := documents.completed(after=after, limit=PAGE):
        for document in page:
            status = services.indexer.index(document, force=True)
            if status.state is IndexState.INDEXED:
                indexed += 1
            else:
                failed += 1
        after = page[-1].id
        print(f"reindex: {indexed} indexed, {failed} failed", file=out)
    return indexed, failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search", description=__doc__)
    parser.add_argument("command", choices=["reindex"])
    parser.parse_args(argv)
    _, failed = reindex(search())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
