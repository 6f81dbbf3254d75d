"""``python -m processing``: see :mod:`processing.cli`."""

from __future__ import annotations

import sys

from processing.cli import main

if __name__ == "__main__":
    sys.exit(main())
