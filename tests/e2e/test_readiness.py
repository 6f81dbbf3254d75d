"""Readiness through the local host: ``/api/health/ready`` turns 503 naming the
storage services while Azurite is stopped, leaking no configuration, and 200
again once it is back; ``/api/health`` (liveness) stays 200 throughout."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.azurite import Azurite
from tests.e2e.apphost import TOPIC_KEY, AppHost, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.azurite]

STORAGE = {"blob_storage", "table_storage", "queue_storage"}


def ready(host: AppHost) -> tuple[int, dict[str, str], dict[str, Any]]:
    status, headers, body = host.request("GET", "/api/health/ready")
    return status, headers, json.loads(body)


def test_readiness_follows_storage_down_and_back_up(
    tmp_path: Path, make_azurite: Callable[..., Azurite]
) -> None:
    azurite = make_azurite(persistent=True)
    host = AppHost(
        tmp_path / "data", env={"AzureWebJobsStorage": azurite.connection_string}
    ).start()
    try:
        status, headers, body = ready(host)
        assert status == 200, body
        assert body["status"] == "ready"
        assert {d["name"] for d in body["dependencies"]} == STORAGE | {"event_topic"}
        assert headers["cache-control"] == "no-store"

        azurite.stop()
        status, headers, body = wait_for(
            lambda: (found := ready(host))[0] == 503 and found, 30, what="503", host=host
        )
        assert headers["content-type"].startswith("application/problem+json")
        assert body["code"] == "dependency_unavailable"
        assert headers["retry-after"]
        failing = {d["name"] for d in body["dependencies"] if d["status"] != "ok"}
        assert failing == STORAGE  # the topic still answers
        text = json.dumps(body)
        for secret in ("127.0.0.1", "devstoreaccount1", "AccountKey", "http", TOPIC_KEY):
            assert secret not in text, secret
        assert host.request("GET", "/api/health")[0] == 200  # liveness is not readiness

        azurite.start()
        wait_for(lambda: ready(host)[0] == 200, 30, what="200 again", host=host)
    finally:
        host.stop()
