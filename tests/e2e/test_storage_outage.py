"""Storage goes away while documents are in flight: nothing accepted is lost,
and each accepted document ends with exactly one completion event."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from processing.events import DOCUMENT_COMPLETED, DOCUMENT_FAILED
from tests.azurite import Azurite
from tests.e2e.apphost import AppHost, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.azurite]


def test_every_accepted_document_reaches_a_terminal_status_after_an_azurite_outage(
    tmp_path: Path, make_azurite: Callable[..., Azurite]
) -> None:
    azurite = make_azurite(persistent=True)
    host = AppHost(
        tmp_path / "data",
        env={
            "AzureWebJobsStorage": azurite.connection_string,
            # A dead worker's claim must expire within the test, and Event Grid
            # (the local host) must keep retrying through the outage.
            "PROCESSING_LEASE_SECONDS": "3",
            "PROCESSING_HEARTBEAT_SECONDS": "1",
            "DEVHOST_MAX_DELIVERY_ATTEMPTS": "60",
            "DEVHOST_RETRY_MAX_SECONDS": "2",
        },
    ).start()
    try:
        accepted: list[str] = []
        for index in range(6):
            # Large enough that processing takes a while, so the outage hits work in flight.
            sentence = f"Report {index} says the board met on 14 March 2026 about the budget. "
            body = (sentence * 6000).encode()
            status, _, reply = host.request(
                "POST", f"/api/documents?filename=report-{index}.txt", body=body
            )
            assert status == 202, reply
            accepted.append(json.loads(reply)["id"])

        statuses = [host.get_json(f"/api/documents/{d}")["status"] for d in accepted]
        azurite.stop()  # storage disappears with documents queued and processing
        assert {"queued", "processing"} & set(statuses), statuses
        status, headers, reply = host.request(
            "POST", "/api/documents?filename=late.txt", body=b"Uploaded during the outage."
        )
        assert status == 503  # refused, not accepted: the client knows to retry
        assert headers["retry-after"]
        assert json.loads(reply)["code"] == "service_unavailable"
        # Let deliveries fail against the missing storage before it returns.
        wait_for(
            lambda: any(d["attempts"] > 1 for d in host.get_json("/devhost/deliveries")),
            60,
            host=host,
        )
        azurite.start()

        for document_id in accepted:
            done = host.wait_for_status(document_id, {"completed", "failed"}, timeout=180)
            assert done["status"] == "completed", done

        def outcomes() -> dict[str, int]:
            counts = dict.fromkeys(accepted, 0)
            for event_type in (DOCUMENT_COMPLETED, DOCUMENT_FAILED):
                for event in host.events(event_type):
                    document_id = event["subject"].removeprefix("documents/")
                    if document_id in counts:
                        counts[document_id] += 1
            return counts

        wait_for(lambda: set(outcomes().values()) == {1}, 30, host=host)
        host.wait_for_quiet_deliveries()  # retries still in flight must not add a second event
        assert set(outcomes().values()) == {1}
    finally:
        host.stop()
