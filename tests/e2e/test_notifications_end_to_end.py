"""Upload to signed notice on the real app under the local host: the webhook
verifies with standardwebhooks, the Logic App gets its 202'd copy, and the
host's log holds no document body, secret or SAS signature."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from processing.events import DOCUMENT_COMPLETED
from tests.azurite import Azurite
from tests.e2e.apphost import AppHost, wait_for
from tests.support.webhooks import Receiver, Reply, receiving

pytestmark = pytest.mark.e2e

MARKER = "CONFIDENTIAL-MARKER-7431"
SAS_SIGNATURE = "TOPSECRETSIGNATURE"


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with receiving(Reply(200)) as webhook, receiving(Reply(202)) as logic_app:
        yield webhook, logic_app


@pytest.fixture(params=["embedded", pytest.param("two-accounts", marks=pytest.mark.azurite)])
def storage(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[dict[str, str], Azurite | None]]:
    """The embedded store, or the Azure layout on two Azurite servers: the
    app's data (and the webhook queue trigger) in DATA_STORAGE, the
    Functions host's connection in AzureWebJobsStorage. Yields the settings
    and the host account."""
    if request.param == "embedded":
        yield {}, None
        return
    make_azurite: Callable[..., Azurite] = request.getfixturevalue("make_azurite")
    data, host = make_azurite(), make_azurite()
    yield (
        {"DATA_STORAGE": data.connection_string, "AzureWebJobsStorage": host.connection_string},
        host,
    )


def assert_holds_nothing_of_the_app(account: Azurite) -> None:
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueServiceClient

    connection = account.connection_string
    with BlobServiceClient.from_connection_string(connection) as blobs:
        assert [c.name for c in blobs.list_containers()] == []
    with QueueServiceClient.from_connection_string(connection) as queues:
        assert [q.name for q in queues.list_queues()] == []
    with TableServiceClient.from_connection_string(connection) as tables:
        assert [t.name for t in tables.list_tables()] == []


def test_an_upload_ends_in_a_verified_webhook_and_a_logic_app_notice(
    tmp_path: Path,
    receivers: tuple[Receiver, Receiver],
    storage: tuple[dict[str, str], Azurite | None],
) -> None:
    webhook, logic_app = receivers
    settings, host_account = storage
    logic_app_url = logic_app.url("/workflows/run", query=f"sp=%2Fread&sv=1.0&sig={SAS_SIGNATURE}")
    host = AppHost(
        tmp_path / "data",
        env={
            **settings,
            "WEBHOOK_ALLOWED_CIDRS": "127.0.0.0/8",
            "WEBHOOK_RETRY_SCHEDULE": "0.2,0.5",
            "LOGIC_APP_URL": logic_app_url,
        },
    ).start()
    try:
        status, _, body = host.request(
            "POST",
            "/api/subscriptions",
            body=json.dumps({"url": webhook.url(), "description": "e2e"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 201, body
        secret = json.loads(body)["secret"]

        record = host.upload(
            f"{MARKER} The contract was signed on 14 March 2026.".encode(), "c.txt"
        )
        host.wait_for_status(record["id"], {"completed"})
        wait_for(lambda: webhook.requests and logic_app.requests, 30, host=host)

        [notice] = webhook.requests
        payload = Webhook(secret).verify(notice.body, notice.headers)
        assert payload["type"] == DOCUMENT_COMPLETED
        assert payload["data"]["document_id"] == record["id"]
        [logic_notice] = logic_app.requests
        assert json.loads(logic_notice.body)["id"] == payload["id"]
        assert SAS_SIGNATURE in logic_notice.query  # the signature reaches the Logic App...

        log = host.log()
        assert "document.accepted" in log and "webhook" in log
        for leaked in (MARKER, secret, SAS_SIGNATURE):  # ...and nothing else
            assert leaked not in log
        if host_account is not None:
            # Documents, records and the webhook queue all went to DATA_STORAGE.
            assert_holds_nothing_of_the_app(host_account)
    finally:
        host.stop()
