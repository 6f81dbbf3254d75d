"""``make bench recovery``: how long after a crash every accepted document is terminal,
with the app's default timings (a 60 s lease renewed every 15 s, the reconciler
every minute) and the local Event Grid's default retry schedule (10 s doubling)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tools.bench.tables import print_table

DOCUMENTS = 12
HELD = 4  # the local host's Event Grid delivery threads


def bench_recovery() -> None:
    from tests.e2e.recovery import crash_and_recover

    defaults = {
        "DEVHOST_DISABLE_TIMERS": "",  # the reconciler runs, every minute as in Azure
        "DEVHOST_RETRY_BASE_SECONDS": "10",
        "DEVHOST_RETRY_MAX_SECONDS": "300",
    }
    with tempfile.TemporaryDirectory() as scratch:
        run = crash_and_recover(
            Path(scratch) / "data", documents=DOCUMENTS, held=HELD, env=defaults, timeout=900
        )
        run.host.stop()
    print(
        f"Recovery after SIGKILL: {DOCUMENTS} accepted documents, {run.held_at_kill} held"
        " mid-processing by the killed host (default lease and heartbeat)"
    )
    print_table(
        ["measured", "seconds"],
        [
            ["SIGKILL to every document terminal", run.seconds_after_kill],
            ["restart to every document terminal", run.seconds_after_restart],
        ],
    )
