"""``python -m processing``: see :mod:`processing.extraction.cli`."""

from __future__ import annotations

import sys

from processing.extraction.cli import main

if __name__ == "__main__":
    sys.exit(main())
