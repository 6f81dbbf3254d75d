"""SUMMARY_PROVIDER=azure-language through the local host: the board minutes get an
abstractive summary from Azure AI Language's summarization job (the real SDK against
the loopback stand-in); a failed job leaves the extractive summary and a warning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.apphost import AppHost
from tests.support.board_minutes import GAZETTEER, board_minutes
from tools.standins.language import LanguageStandIn
from tools.standins.language_jobs import JOBS_PATH

pytestmark = pytest.mark.e2e

KEY = "e2e-language-key"


@pytest.fixture
def language() -> Iterator[LanguageStandIn]:
    with LanguageStandIn(key=KEY, gazetteer=GAZETTEER) as server:
        yield server


@pytest.fixture
def host(tmp_path: Path, language: LanguageStandIn) -> Iterator[AppHost]:
    app = AppHost(
        tmp_path / "data",
        env={
            "LANGUAGE_ENDPOINT": language.endpoint,
            "LANGUAGE_KEY": KEY,
            "SUMMARY_PROVIDER": "azure-language",
        },
    ).start()
    try:
        yield app
    finally:
        app.stop()


def processed(host: AppHost, text: str, name: str) -> dict[str, Any]:
    record = host.upload(text.encode(), name)
    done = host.wait_for_status(record["id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    result: dict[str, Any] = host.get_json(f"/api/documents/{record['id']}/result")
    return result


def test_board_minutes_get_an_abstractive_summary(host: AppHost, language: LanguageStandIn) -> None:
    """Upload to result: the summary's text is the service's, its source azure-language,
    the extractive sentences (with offsets into the text) stay, and the job was sent
    the document's text."""
    text = board_minutes()
    result = processed(host, text, "board-minutes.txt")
    summary = result["summary"]
    assert summary["source"] == "azure-language"
    assert summary["text"].startswith("Part 1 is about ")
    assert summary["sentences"]
    for sentence in summary["sentences"]:
        assert result["text"][sentence["start"] : sentence["end"]] == sentence["text"]
    jobs = [r for r in language.requests if r.path == JOBS_PATH and r.status == 202]
    [job] = jobs
    assert job.body["analysisInput"]["documents"][0]["text"] == result["text"].strip()
    assert "summary_unavailable" not in {w["code"] for w in result["warnings"]}


def test_a_failed_job_keeps_the_extractive_summary(
    host: AppHost, language: LanguageStandIn
) -> None:
    """The job ends failed: the document still completes, with the extractive summary
    and a summary_unavailable warning."""
    language.jobs.fail_next_job("InternalServerError", "The job failed.")
    result = processed(host, board_minutes(), "minutes-failed.txt")
    summary = result["summary"]
    assert summary["source"] == "extractive"
    assert summary["text"] == " ".join(s["text"] for s in summary["sentences"])
    assert "summary_unavailable" in {w["code"] for w in result["warnings"]}
