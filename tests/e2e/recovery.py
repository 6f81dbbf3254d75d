"""A crash while documents are mid-processing, and the recovery after it.

Shared by the SIGKILL recovery test (shortened timings) and ``make bench``
(default timings). The first host parses with a parser that never finishes a
``HANG`` document, so the documents it claimed are certainly mid-processing
when it is killed with SIGKILL; the same host then starts again on the same
data with the real parser, and the run ends when every accepted document is
terminal.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.apphost import AppHost, wait_for
from tests.support.slow_app import PARSER_TARGET

SLOW_APP = "tests.support.slow_app:app"
HANGING_PARSER = "tests.support.hostile_work:misbehave"
TERMINAL = {"completed", "failed"}


@dataclass(frozen=True)
class RecoveryRun:
    host: AppHost
    ids: list[str]
    #: Documents the killed host held claims on (``processing``) when it died.
    held_at_kill: int
    #: From the SIGKILL, and from the restarted host answering, to the last terminal document.
    seconds_after_kill: float
    seconds_after_restart: float


def held_document(index: int) -> bytes:
    """``HANG`` for the hanging parser; an ordinary memo for the real one."""
    return (
        f"HANG\nMemo {index}: the board met on 14 March 2026 and approved the budget.\n"
    ).encode()


def statuses(host: AppHost, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {i: host.get_json(f"/api/documents/{i}") for i in ids}


def crash_and_recover(
    data_dir: Path,
    *,
    documents: int,
    held: int,
    env: Mapping[str, str],
    timeout: float,
) -> RecoveryRun:
    """Upload ``documents`` documents, wait until ``held`` of them are claimed and
    their claims renewed by the heartbeat, SIGKILL the host, start it again and
    wait (up to ``timeout`` s) until every one of them is terminal."""
    host = AppHost(data_dir, env={**env, PARSER_TARGET: HANGING_PARSER}, app=SLOW_APP).start()
    ids = [host.upload(held_document(i), f"memo-{i}.txt")["id"] for i in range(documents)]

    def claimed() -> dict[str, dict[str, Any]] | None:
        found = {i: r for i, r in statuses(host, ids).items() if r["status"] == "processing"}
        return found if len(found) >= held else None

    first_seen: dict[str, dict[str, Any]] = wait_for(
        claimed, 60, what=f"{held} documents processing", host=host
    )
    # A renewal moves updated_at: the holder is alive and keeping its claims.
    wait_for(
        lambda: all(
            r["status"] == "processing" and r["updated_at"] != first_seen[i]["updated_at"]
            for i, r in statuses(host, list(first_seen)).items()
        ),
        60,
        what="a heartbeat on every claim",
        host=host,
    )
    held_at_kill = sum(r["status"] == "processing" for r in statuses(host, ids).values())
    host.kill()
    killed = time.monotonic()

    host.env = {k: v for k, v in host.env.items() if k != PARSER_TARGET}
    host.start()
    restarted = time.monotonic()
    wait_for(
        lambda: all(r["status"] in TERMINAL for r in statuses(host, ids).values()),
        timeout,
        what="every accepted document terminal",
        host=host,
        interval=0.25,
    )
    done = time.monotonic()
    return RecoveryRun(
        host=host,
        ids=ids,
        held_at_kill=held_at_kill,
        seconds_after_kill=done - killed,
        seconds_after_restart=done - restarted,
    )
