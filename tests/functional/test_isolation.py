"""Parsing in confined single-use worker processes: a runaway document fails
alone, and a compromised parser reaches no secret, no process and no host code."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from processing.extraction.errors import DocumentError
from processing.extraction.isolation import IsolatedPipeline
from processing.extraction.isolation.pool import worker_environment
from processing.extraction.limits import MIB, IsolationLimits, Limits

TEXT = b"A normal document about the 14 March 2026 budget meeting of the board.\n"
SECRET = "s3cret-value-the-parser-must-never-see"


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[IsolatedPipeline]:
    # Secrets of the kind the Functions host holds, in the host's environment.
    monkeypatch.setenv("IDENTITY_HEADER", SECRET)
    monkeypatch.setenv("LOGIC_APP_URL", f"https://logic.example/x?sig={SECRET}")
    pipeline = IsolatedPipeline(
        IsolationLimits(
            memory_bytes=768 * MIB,
            cpu_seconds=2,
            workers=2,
            target="tests.support.hostile_work:compromised",
        )
    )
    pipeline.warm()
    yield pipeline
    pipeline.close()


def run(pool: IsolatedPipeline, data: bytes, timeout: float = 3.0, name: str = "x.txt") -> str:
    """The outcome: "ok" or the error code."""
    try:
        pool(data, name, Limits(timeout_seconds=timeout))
    except DocumentError as exc:
        return exc.code
    return "ok"


def report(pool: IsolatedPipeline) -> str:
    """What a compromised parser could find out, as it reported it."""
    return pool(b"SNOOP\n", str(os.getpid()), Limits(timeout_seconds=10)).text


def test_each_document_gets_a_fresh_worker_from_one_warm_zygote(pool: IsolatedPipeline) -> None:
    """No worker sees a second document: each is forked anew from the same zygote."""
    zygote = pool.zygote_pid()
    first, second = report(pool), report(pool)
    assert first.split("\n", 1)[0] != second.split("\n", 1)[0]  # "pid N" differs
    assert pool.zygote_pid() == zygote
    assert "budget" in pool(TEXT, "memo.txt", Limits()).text


def test_the_worker_environment_is_an_allow_list_without_secrets(pool: IsolatedPipeline) -> None:
    assert SECRET not in " ".join(worker_environment().values())
    assert set(worker_environment()) <= {
        "PATH",
        "LANG",
        "PYTHONPATH",
        "PYTHONNOUSERSITE",
        "PYTHONDONTWRITEBYTECODE",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    }
    found = report(pool)
    assert SECRET not in found
    assert "IDENTITY_HEADER" not in found


def test_a_compromised_parser_cannot_read_the_hosts_environment(pool: IsolatedPipeline) -> None:
    """/proc/<host>/environ (where the Functions host's identity header lives) is refused."""
    found = report(pool)
    assert f"refused /proc/{os.getpid()}/environ" in found
    assert f"read /proc/{os.getpid()}/environ" not in found


def test_a_compromised_parser_cannot_fork_and_leaves_no_process(pool: IsolatedPipeline) -> None:
    found = report(pool)
    assert "fork blocked" in found
    worker = int(found.split("\n", 1)[0].removeprefix("pid "))
    with pytest.raises(ProcessLookupError):
        os.killpg(worker, 0)  # its process group is empty: nothing survived it


def test_a_pickled_reply_is_refused_and_never_loaded(
    pool: IsolatedPipeline, tmp_path: Path
) -> None:
    """A worker answering with a pickle gets its document failed; the host runs no code."""
    marker = tmp_path / "pwned"
    assert run(pool, b"PICKLE\n", name=str(marker)) == "corrupt"
    assert not marker.exists()
    assert run(pool, TEXT) == "ok"


def test_document_errors_cross_the_process_boundary_with_their_code(
    pool: IsolatedPipeline,
) -> None:
    assert run(pool, b"MZ\x90\x00" + bytes(range(256)) * 4) == "unsupported_type"


def test_a_hanging_parser_is_killed_at_the_wall_clock_limit(pool: IsolatedPipeline) -> None:
    assert run(pool, b"HANG\n", timeout=1.0) == "timeout"
    assert run(pool, TEXT) == "ok"  # the next document gets a fresh worker


def test_a_cpu_bound_parser_is_stopped_by_the_cpu_limit(pool: IsolatedPipeline) -> None:
    assert run(pool, b"SPIN\n", timeout=30.0) == "timeout"
    assert run(pool, TEXT) == "ok"


def test_unbounded_allocation_hits_the_memory_limit(pool: IsolatedPipeline) -> None:
    assert run(pool, b"BALLOON\n", timeout=30.0) == "limits_exceeded"
    assert run(pool, TEXT) == "ok"


def test_a_crashing_parser_fails_its_document_only(pool: IsolatedPipeline) -> None:
    assert run(pool, b"CRASH\n") == "limits_exceeded"
    assert run(pool, TEXT) == "ok"


def test_a_hanging_document_does_not_hold_up_another(pool: IsolatedPipeline) -> None:
    outcomes: dict[str, str] = {}
    hang = threading.Thread(target=lambda: outcomes.update(hang=run(pool, b"HANG\n", 3.0)))
    hang.start()
    time.sleep(0.2)  # let the hang take its worker
    outcomes["normal"] = run(pool, TEXT)
    assert hang.is_alive()  # the other document finished while the hang was still running
    hang.join()
    assert outcomes == {"hang": "timeout", "normal": "ok"}


def test_a_lost_zygote_is_replaced(pool: IsolatedPipeline) -> None:
    zygote = pool.zygote_pid()
    assert zygote is not None
    os.kill(zygote, 9)
    assert run(pool, TEXT) == "ok"
    assert pool.zygote_pid() not in (None, zygote)
