"""Hostile files end as declared, inside the worker's limits, and leave the pool usable.

Every case in :mod:`tests.hostile.cases` is generated here and run through the
isolated pool with production limits (1 GiB address space, 60 s CPU) and a
short wall-clock budget per case. ``python -m tests.hostile.measure`` runs the
same cases one per fresh process to report their time and peak memory.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator

import pytest

from processing.extraction.errors import LimitsExceededError
from processing.extraction.isolation import IsolatedPipeline
from processing.extraction.limits import MIB, IsolationLimits, Limits
from processing.extraction.pipeline import run_pipeline
from tests.builders.docx_files import docx_package, paragraph
from tests.hostile.cases import CASES, HostileCase, problems, run_case

# What the pool adds to a document's own timeout (pickling and the pipe), plus
# scheduling noise on a busy two-core machine.
_POOL_TRANSFER_SECONDS = 2.0
_SLACK_SECONDS = 3.0
_NORMAL = b"A normal memo about the 14 March 2026 budget meeting of the board.\n"


@pytest.fixture(scope="module")
def pool() -> Iterator[IsolatedPipeline]:
    pipeline = IsolatedPipeline(IsolationLimits(memory_bytes=1024 * MIB, cpu_seconds=60, workers=2))
    pipeline.warm()
    yield pipeline
    pipeline.close()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_file_ends_as_declared_within_limits_and_the_pool_recovers(
    pool: IsolatedPipeline, case: HostileCase, record_property: Callable[[str, object], None]
) -> None:
    data = case.build()

    outcome = run_case(case, data, pool)

    record_property("outcome", outcome.outcome)
    record_property("seconds", round(outcome.seconds, 3))
    assert problems(case, outcome) == [], case.why
    assert outcome.seconds <= case.timeout_seconds + _POOL_TRANSFER_SECONDS + _SLACK_SECONDS
    after = pool(_NORMAL, "memo.txt", Limits(timeout_seconds=30))
    assert "budget meeting" in after.text


def test_case_names_are_unique() -> None:
    assert len({case.name for case in CASES}) == len(CASES)


def test_zip_entry_limit_is_checked_before_any_zip_directory_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = docx_package(paragraph("text"), parts={f"x/{index}": b"" for index in range(30)})

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("zipfile.ZipFile was reached")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(LimitsExceededError):
        run_pipeline(data, "entries.docx", limits=Limits(max_zip_entries=20))
