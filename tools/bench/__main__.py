"""``make bench``: throughput and memory over ``../shared/corpus``, printed as tables.

Every figure comes from this one run on this machine; engines run in separate
processes over the same files so their peak RSS and timings are comparable.
"""

from __future__ import annotations

import sys

from tools.bench.report import run_all

if __name__ == "__main__":
    sys.exit(run_all(sys.argv[1:]))
