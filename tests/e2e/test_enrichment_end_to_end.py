"""Language enrichment through the local host: board minutes longer than one Azure AI
Language window, analysed by the real SDK against the loopback stand-in, and
summarised by its abstractive summarization job (SUMMARY_PROVIDER=azure-language)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.e2e.apphost import ROOT, AppHost
from tests.support.board_minutes import GAZETTEER, ORGANISATIONS, PEOPLE, PLACES, board_minutes
from tools.standins.language import LanguageStandIn
from tools.standins.language_jobs import JOBS_PATH

pytestmark = pytest.mark.e2e

KEY = "e2e-language-key"
RESULT_SCHEMA = json.loads((ROOT / "processing/extraction/schema/result.schema.json").read_text())


@pytest.fixture
def language() -> Iterator[LanguageStandIn]:
    with LanguageStandIn(key=KEY, gazetteer=GAZETTEER) as server:
        yield server


def _host(tmp_path: Path, language: LanguageStandIn, **env: str) -> Iterator[AppHost]:
    app = AppHost(
        tmp_path / "data",
        env={"LANGUAGE_ENDPOINT": language.endpoint, "LANGUAGE_KEY": KEY, **env},
    ).start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def host(tmp_path: Path, language: LanguageStandIn) -> Iterator[AppHost]:
    yield from _host(tmp_path, language, PII_REDACTION="true")


@pytest.fixture
def summary_host(tmp_path: Path, language: LanguageStandIn) -> Iterator[AppHost]:
    """The host with SUMMARY_PROVIDER=azure-language."""
    yield from _host(tmp_path, language, SUMMARY_PROVIDER="azure-language")


def test_board_minutes_yield_people_organisations_and_places(
    host: AppHost, language: LanguageStandIn
) -> None:
    """Upload to result: person, organisation and location entities from Azure AI
    Language with offsets into the document text (entities in every window, none
    cut at a window edge), the pattern entities kept, the language detected, and
    redacted_text masking every PII span with the offsets unchanged."""
    text = board_minutes()
    assert len(text) > 2 * 5_120
    record = host.upload(text.encode(), "board-minutes.txt")
    done = host.wait_for_status(record["id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    result = host.get_json(f"/api/documents/{record['id']}/result")
    jsonschema.validate(result, RESULT_SCHEMA)
    assert result["schema_version"] == "1.2"

    document = result["text"]
    cloud = [e for e in result["entities"] if e["source"] == "azure-language"]
    found = {(e["type"], e["text"]) for e in cloud}
    assert {("person", name) for name in PEOPLE} <= found
    assert {("organization", name) for name in ORGANISATIONS} <= found
    assert {("location", name) for name in PLACES} <= found
    for entity in result["entities"]:
        assert document[entity["start"] : entity["end"]] == entity["text"]
    # Mentions in the second and third windows are there, whole.
    tallinn = [e for e in cloud if e["text"] == PLACES[1]]
    assert tallinn and tallinn[0]["start"] > 5_120 - 200
    assert [e["start"] for e in cloud if e["text"] == PEOPLE[0]][-1] > 10_240
    assert {e["type"] for e in result["entities"] if e["source"] == "pattern"} >= {"email", "date"}
    assert result["metadata"]["language"] == "en"

    redacted = result["redacted_text"]
    assert len(redacted) == len(document)
    for name in PEOPLE:
        assert name not in redacted
    assert "secretary@hollerith.example" not in redacted
    assert redacted[:20] == document[:20]
    kinds = {r.body["kind"] for r in language.requests}
    assert kinds == {
        "LanguageDetection",
        "EntityRecognition",
        "PiiEntityRecognition",
        "KeyPhraseExtraction",
    }


def processed(host: AppHost, text: str, name: str) -> dict[str, Any]:
    record = host.upload(text.encode(), name)
    done = host.wait_for_status(record["id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    result: dict[str, Any] = host.get_json(f"/api/documents/{record['id']}/result")
    jsonschema.validate(result, RESULT_SCHEMA)
    return result


def test_board_minutes_get_an_abstractive_summary(
    summary_host: AppHost, language: LanguageStandIn
) -> None:
    """Upload to result: the summary's text is the service's, its source azure-language,
    the extractive sentences (with offsets into the text) stay, and the job was sent
    the document's text."""
    text = board_minutes()
    result = processed(summary_host, text, "board-minutes.txt")
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
    summary_host: AppHost, language: LanguageStandIn
) -> None:
    """The job ends failed: the document still completes, with the extractive summary
    and a summary_unavailable warning."""
    language.jobs.fail_next_job("InternalServerError", "The job failed.")
    result = processed(summary_host, board_minutes(), "minutes-failed.txt")
    summary = result["summary"]
    assert summary["source"] == "extractive"
    assert summary["text"] == " ".join(s["text"] for s in summary["sentences"])
    assert "summary_unavailable" in {w["code"] for w in result["warnings"]}
