"""SIGKILL recovery: a host killed while it holds documents mid-processing is
started again (timings shortened by settings), and every accepted document
ends terminal, each with exactly one completion event, within the bound that
the lease, the heartbeat and the delivery retries set."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.events.catalog import DOCUMENT_COMPLETED, DOCUMENT_FAILED
from tests.e2e.recovery import crash_and_recover

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 3
#: The lease, the local Event Grid's longest retry delay (1 s) and the work itself.
BOUND_SECONDS = 30


def test_every_document_a_killed_host_held_ends_terminal_once_after_the_restart(
    tmp_path: Path,
) -> None:
    env = {
        "PROCESSING_LEASE_SECONDS": str(LEASE_SECONDS),
        "PROCESSING_HEARTBEAT_SECONDS": "1",
    }
    run = crash_and_recover(tmp_path / "data", documents=8, held=4, env=env, timeout=BOUND_SECONDS)
    host = run.host
    try:
        assert run.held_at_kill >= 4
        assert run.seconds_after_restart < BOUND_SECONDS
        records = [host.get_json(f"/api/documents/{i}") for i in run.ids]
        assert [r["status"] for r in records] == ["completed"] * len(run.ids), records
        outcomes = [
            e["subject"]
            for kind in (DOCUMENT_COMPLETED, DOCUMENT_FAILED)
            for e in host.events(kind)
        ]
        assert sorted(outcomes) == sorted(f"documents/{i}" for i in run.ids)
    finally:
        host.stop()
