"""Readiness: every dependency is asked at once with a timeout; a failure or a
hang is reported by name and kind only, never with the error's text."""

from __future__ import annotations

import json
import threading
import time

from kernel.errors import DependencyError
from kernel.readiness import ReadinessProbe, check_readiness


def answers(timeout: float) -> None:
    return None


def refuses(timeout: float) -> None:
    raise DependencyError("connect to https://acct.blob.core.windows.net failed (AccountKey=abc)")


def test_all_answering_is_ready() -> None:
    report = check_readiness({"blob_storage": answers, "event_topic": answers}, timeout=1.0)
    assert report.ready
    body = report.to_api()
    assert body["status"] == "ready"
    assert [(d["name"], d["status"]) for d in body["dependencies"]] == [
        ("blob_storage", "ok"),
        ("event_topic", "ok"),
    ]


def test_a_failing_dependency_is_named_without_its_error_text() -> None:
    report = check_readiness({"blob_storage": refuses, "event_topic": answers}, timeout=1.0)
    assert not report.ready
    assert report.failing == ["blob_storage"]
    problem = report.problem()
    body = json.loads(problem.body("/api/health/ready"))
    assert (body["status"], body["code"]) == (503, "dependency_unavailable")
    assert "blob_storage" in body["detail"]
    assert {d["name"]: d["status"] for d in body["dependencies"]} == {
        "blob_storage": "unavailable",
        "event_topic": "ok",
    }
    text = json.dumps(body)
    for secret in ("acct", "core.windows.net", "AccountKey", "https://"):
        assert secret not in text
    assert problem.headers is not None and problem.headers["Retry-After"] == "10"


def test_a_hanging_dependency_times_out_and_the_others_are_asked_meanwhile() -> None:
    release = threading.Event()

    def hangs(timeout: float) -> None:
        release.wait(30)

    started = time.monotonic()
    report = check_readiness(
        {"queue_storage": hangs, "table_storage": answers, "event_topic": refuses}, timeout=0.3
    )
    elapsed = time.monotonic() - started
    release.set()
    assert elapsed < 2.0
    assert [(c.name, c.status) for c in report.checks] == [
        ("queue_storage", "timeout"),
        ("table_storage", "ok"),
        ("event_topic", "unavailable"),
    ]


def test_the_probe_answers_from_its_last_report_for_a_few_seconds() -> None:
    """One check serves the probes of many Front Door edge locations, a failing one too."""
    calls: list[str] = []
    state = {"fail": True, "now": 100.0}

    def blob(timeout: float) -> None:
        calls.append("blob")
        if state["fail"]:
            raise DependencyError("down")

    probe = ReadinessProbe(lambda: {"blob_storage": blob}, ttl=5.0, monotonic=lambda: state["now"])
    assert not probe.report().ready
    state["fail"] = False
    state["now"] += 4.9
    assert not probe.report().ready  # still the cached report
    assert calls == ["blob"]
    state["now"] += 0.2
    assert probe.report().ready
    assert calls == ["blob", "blob"]
