"""Parsing in limited worker processes: a runaway document fails alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from processing.extraction.errors import DocumentError
from processing.extraction.isolation import IsolatedPipeline
from processing.extraction.limits import MIB, IsolationLimits, Limits

TEXT = b"A normal document about the 14 March 2026 budget meeting of the board.\n"


@pytest.fixture
def pool() -> Iterator[IsolatedPipeline]:
    pipeline = IsolatedPipeline(
        IsolationLimits(
            memory_bytes=768 * MIB,
            cpu_seconds=2,
            workers=2,
            target="tests.support.hostile_work:misbehave",
        )
    )
    pipeline.warm()
    yield pipeline
    pipeline.close()


def run(pool: IsolatedPipeline, data: bytes, timeout: float = 3.0) -> str:
    """The outcome: "ok" or the error code."""
    try:
        pool(data, "x.txt", Limits(timeout_seconds=timeout))
    except DocumentError as exc:
        return exc.code
    return "ok"


def test_normal_documents_are_processed_by_the_same_warm_workers(pool: IsolatedPipeline) -> None:
    workers_before = pool.worker_ids()
    result = pool(TEXT, "memo.txt", Limits())
    assert "budget" in result.text
    for _ in range(5):
        assert run(pool, TEXT) == "ok"
    assert pool.worker_ids() == workers_before


def test_document_errors_cross_the_process_boundary_with_their_code(
    pool: IsolatedPipeline,
) -> None:
    assert run(pool, b"MZ\x90\x00" + bytes(range(256)) * 4) == "unsupported_type"


def test_a_hanging_parser_is_killed_at_the_wall_clock_limit(pool: IsolatedPipeline) -> None:
    workers_before = pool.worker_ids()
    assert run(pool, b"HANG\n", timeout=1.0) == "timeout"
    assert len(pool.worker_ids() & workers_before) == 1  # the hung worker was killed
    assert run(pool, TEXT) == "ok"  # a replacement worker takes the next document


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
    hang = threading.Thread(target=lambda: outcomes.update(hang=run(pool, b"HANG\n", 20.0)))
    hang.start()
    time.sleep(0.2)  # let the hang take its worker
    outcomes["normal"] = run(pool, TEXT)
    assert hang.is_alive()  # the other document finished while the hang was still running
    hang.join()
    assert outcomes == {"hang": "timeout", "normal": "ok"}
