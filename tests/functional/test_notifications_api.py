"""The notification functions as the app registers them (``function_app.app``),
called the way the Functions worker calls them, with the services built from
environment settings over the embedded store and real receivers on loopback."""

from __future__ import annotations

import functools
import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.meta import Datum
from azure.functions.queue import QueueMessageInConverter
from standardwebhooks.webhooks import Webhook

from notifications.errors import TARGET_NOT_ALLOWED
from notifications.records import logic_app_id
from notifications.runtime import notifications
from notifications.settings import notification_settings
from tests.support.app import reset_runtime
from tests.support.webhooks import (
    Reply,
    completion_event,
    fresh_app,
    receiving,
)
from tests.unit.test_notifications_addresses import FORBIDDEN_HOSTS

Handler = Callable[..., Any]

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"


@functools.cache
def _components() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(SPEC.read_text())["components"]  # type: ignore[no-any-return]


def conforms(document: Any, schema: str) -> None:
    """Fail unless ``document`` matches ``#/components/schemas/{schema}`` in openapi.yaml."""
    import jsonschema

    jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": _components()}
    ).validate(document)


class Context:
    """The parts of ``func.Context`` the triggers read."""

    def __init__(self, name: str) -> None:
        self.invocation_id = "11111111-2222-3333-4444-555555555555"
        self.function_name = name
        self.trace_context = None


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings as a deployment would set them; services rebuilt for the test."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv("WEBHOOK_QUEUE", "webhook-deliveries")
    monkeypatch.setenv("WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8")
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "0.05,0.1")
    monkeypatch.setenv("LOGIC_APP_URL", "")
    reload_settings()
    yield data_dir
    reload_settings()


def reload_settings() -> None:
    """Read the environment again on the next use (closing the stores built so far)."""
    if notifications.cache_info().currsize:
        notifications().platform.stores.close()
    reset_runtime()


@functools.cache
def _indexed() -> dict[str, Handler]:
    return {f.get_function_name(): f.get_user_function() for f in fresh_app().get_functions()}


@pytest.fixture
def functions() -> dict[str, Handler]:
    """The functions as the worker indexes them from the app's blueprints."""
    return _indexed()


def call(
    functions: dict[str, Handler],
    name: str,
    method: str,
    url: str,
    *,
    body: Any = None,
    route: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    request = func.HttpRequest(
        method=method,
        url=f"http://127.0.0.1:7071{url}",
        headers={"content-type": "application/json"},
        params=params or {},
        route_params=route or {},
        body=data,
    )
    response = functions[name](req=request, context=Context(name))
    text = response.get_body()
    payload = json.loads(text) if text else None
    headers = {**dict(response.headers), "Content-Type": str(response.mimetype)}
    return response.status_code, headers, payload


def notify(functions: dict[str, Handler], event: dict[str, Any]) -> None:
    """Invoke notify_completion with the event decoded by the worker's converter."""
    decoded = EventGridEventInConverter.decode(
        Datum(type="json", value=json.dumps(event)), trigger_metadata={}
    )
    functions["notify_completion"](event=decoded, context=Context("notify_completion"))


def run_queue(functions: dict[str, Handler], *, settle: float = 0.3) -> int:
    """Invoke deliver_webhook for every job, decoded by the worker's converter."""
    import time

    queues = notifications().platform.stores.queues
    queue = notification_settings().webhook_queue
    ran, idle_since = 0, time.monotonic()
    while time.monotonic() - idle_since < settle:
        messages = queues.receive(queue, max_messages=1, visibility_timeout=60)
        if not messages:
            time.sleep(0.02)
            continue
        for message in messages:
            decoded = QueueMessageInConverter.decode(
                Datum(type="string", value=message.content),
                trigger_metadata={"Id": Datum(type="string", value=message.id)},
            )
            functions["deliver_webhook"](message=decoded, context=Context("deliver_webhook"))
            queues.delete(queue, message)
            ran += 1
        idle_since = time.monotonic()
    return ran


def register(functions: dict[str, Handler], url: str, **extra: Any) -> dict[str, Any]:
    status, headers, body = call(
        functions, "create_subscription", "POST", "/api/subscriptions", body={"url": url, **extra}
    )
    assert status == 201, body
    assert headers["Location"] == f"/api/subscriptions/{body['id']}"
    return body  # type: ignore[no-any-return]


def test_registration_answers_201_with_a_secret_shown_once(
    app_env: Path, functions: dict[str, Handler]
) -> None:
    with receiving() as receiver:
        created = register(functions, receiver.url(), description="ops")
    conforms(created, "SubscriptionWithSecret")
    assert re.fullmatch(r"sub_[0-9a-f]{20}", created["id"])
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", created["secret"])
    assert created["status"] == "active"
    assert created["event_types"] == [
        "document.processing.completed",
        "document.processing.failed",
    ]
    assert created["description"] == "ops"
    assert created["created_at"].endswith("Z")

    status, _, fetched = call(
        functions,
        "get_subscription",
        "GET",
        f"/api/subscriptions/{created['id']}",
        route={"id": created["id"]},
    )
    assert status == 200
    conforms(fetched, "Subscription")
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in created.items() if k != "secret"}


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
def test_registration_refuses_every_forbidden_address(
    app_env: Path, functions: dict[str, Handler], monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOWED_CIDRS", "")
    reload_settings()
    status, headers, problem = call(
        functions,
        "create_subscription",
        "POST",
        "/api/subscriptions",
        body={"url": f"https://{host}/hook"},
    )
    assert status == 422
    assert headers["Content-Type"].startswith("application/problem+json")
    conforms(problem, "Problem")
    # One code and one message for every refusal: registration maps no network.
    assert (problem["code"], problem["detail"]) == ("target_not_allowed", TARGET_NOT_ALLOWED)
    assert problem["instance"] == "/api/subscriptions"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.test/", "invalid_url"),
        ("https://user:pw@example.test/", "invalid_url"),
        ("https://1.2.3.256/", "invalid_url"),
        ("http://8.8.8.8/hook", "insecure_scheme"),
        ("https://nowhere.invalid/hook", "target_not_allowed"),
        ("https://8.8.8.8:6379/hook", "target_not_allowed"),
    ],
)
def test_registration_problems_carry_stable_codes(
    app_env: Path,
    functions: dict[str, Handler],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    code: str,
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    status, _, problem = call(
        functions, "create_subscription", "POST", "/api/subscriptions", body={"url": url}
    )
    assert (status, problem["code"]) == (422, code)
    assert problem["detail"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "bad_request"),
        ([], 400, "bad_request"),
        ({}, 400, "bad_request"),
        ({"url": 5}, 400, "bad_request"),
        ({"url": "http://127.0.0.1/", "event_types": []}, 400, "bad_request"),
        ({"url": "http://127.0.0.1/", "event_types": "x"}, 400, "bad_request"),
        ({"url": "http://127.0.0.1/", "description": "x" * 1001}, 400, "bad_request"),
        (
            {"url": "http://127.0.0.1/", "event_types": ["document.uploaded"]},
            422,
            "unsupported_event_type",
        ),
    ],
)
def test_malformed_registrations_are_refused(
    app_env: Path, functions: dict[str, Handler], body: Any, status: int, code: str
) -> None:
    got, _, problem = call(
        functions, "create_subscription", "POST", "/api/subscriptions", body=body
    )
    assert (got, problem["code"]) == (status, code)


def test_list_get_rotate_and_delete(app_env: Path, functions: dict[str, Handler]) -> None:
    first = register(functions, "http://127.0.0.1:9/a")
    second = register(functions, "http://127.0.0.1:9/b", event_types=["document.processing.failed"])

    status, _, page = call(
        functions, "list_subscriptions", "GET", "/api/subscriptions", params={"limit": "1"}
    )
    assert status == 200
    assert [s["id"] for s in page["items"]] == [first["id"]]
    assert page["next"] == f"/api/subscriptions?limit=1&after={first['id']}"
    _, _, rest = call(
        functions,
        "list_subscriptions",
        "GET",
        "/api/subscriptions",
        params={"limit": "1", "after": first["id"]},
    )
    assert [s["id"] for s in rest["items"]] == [second["id"]]
    assert all("secret" not in s for s in page["items"] + rest["items"])

    status, _, rotated = call(
        functions,
        "rotate_subscription_secret",
        "POST",
        f"/api/subscriptions/{first['id']}/rotate-secret",
        route={"id": first["id"]},
    )
    assert status == 200
    conforms(rotated, "SubscriptionWithSecret")
    assert rotated["secret"] != first["secret"] and rotated["secret"].startswith("whsec_")
    assert rotated["previous_secret_expires_at"] is not None

    route = {"id": first["id"]}
    path = f"/api/subscriptions/{first['id']}"
    assert call(functions, "delete_subscription", "DELETE", path, route=route)[0] == 204
    status, _, problem = call(functions, "get_subscription", "GET", path, route=route)
    assert (status, problem["code"]) == (404, "not_found")
    assert call(functions, "delete_subscription", "DELETE", path, route=route)[0] == 404
    for unknown in ("sub_0000", "../../etc", "logicapp-0000000000000000"):
        assert call(functions, "get_subscription", "GET", "/x", route={"id": unknown})[0] == 404


def test_a_completion_event_reaches_a_subscriber_through_both_triggers(
    app_env: Path, functions: dict[str, Handler]
) -> None:
    with receiving(Reply(500), Reply(204)) as receiver:
        created = register(functions, receiver.url("/hook", "token=abc"))
        event = completion_event("evt-42")
        notify(functions, event)
        notify(functions, event)  # Event Grid delivers at least once
        run_queue(functions)

    assert len(receiver.requests) == 2
    for request in receiver.requests:
        delivered = Webhook(created["secret"]).verify(request.body, request.headers)
        assert delivered["id"] == "evt-42"
        assert delivered["data"] == event["data"]
        assert delivered["traceparent"] == event["traceparent"]

    sub_id = created["id"]
    status, _, page = call(
        functions,
        "list_subscription_deliveries",
        "GET",
        f"/api/subscriptions/{sub_id}/deliveries",
        route={"id": sub_id},
    )
    assert status == 200
    for item in page["items"]:
        conforms(item, "DeliveryAttempt")
    newest, oldest = page["items"]
    assert (newest["attempt"], newest["status_code"], newest["outcome"]) == (2, 204, "delivered")
    assert (oldest["attempt"], oldest["status_code"], oldest["outcome"]) == (
        1,
        500,
        "retry_scheduled",
    )
    assert oldest["next_attempt_at"] is not None and oldest["error"] == "HTTP 500"
    assert newest["url"] == receiver.url("/hook") + "?redacted"

    notice = newest["delivery_id"]
    status, _, replay = call(
        functions,
        "redeliver_notification",
        "POST",
        f"/api/deliveries/{notice}/redeliver",
        route={"id": notice},
    )
    assert (status, replay["status"], replay["id"]) == (202, "pending", notice)
    conforms(replay, "Delivery")
    status, _, problem = call(
        functions, "redeliver_notification", "POST", "/x", route={"id": notice}
    )
    assert (status, problem["code"]) == (409, "delivery_in_progress")
    status, _, problem = call(
        functions, "redeliver_notification", "POST", "/x", route={"id": "nope"}
    )
    assert (status, problem["code"]) == (404, "not_found")


def test_dead_letters_are_listed_and_logic_app_deliveries_too(
    app_env: Path, functions: dict[str, Handler], monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiving(Reply(500)) as receiver:
        logic_app = receiver.url("/workflows/w/triggers/manual/paths/invoke", "sig=SAS")
        monkeypatch.setenv("LOGIC_APP_URL", logic_app)
        reload_settings()
        notify(functions, completion_event("evt-7"))
        run_queue(functions)
    assert len(receiver.requests) == 3

    status, _, dead = call(functions, "list_dead_letters", "GET", "/api/dead-letters")
    assert status == 200
    (item,) = dead["items"]
    conforms(item, "DeadLetter")
    target = logic_app_id(logic_app)
    assert item["delivery_id"].startswith(target + ".")
    assert (item["reason"], item["attempts"], item["last_status_code"]) == (
        "attempts_exhausted",
        3,
        500,
    )
    status, _, page = call(
        functions,
        "list_subscription_deliveries",
        "GET",
        f"/api/subscriptions/{target}/deliveries",
        route={"id": target},
        params={"limit": "2"},
    )
    assert status == 200 and len(page["items"]) == 2 and page["next"]
    assert "SAS" not in json.dumps(page)
    after = page["next"].split("after=")[1]
    _, _, rest = call(
        functions,
        "list_subscription_deliveries",
        "GET",
        "/x",
        route={"id": target},
        params={"limit": "2", "after": after},
    )
    assert [a["attempt"] for a in page["items"] + rest["items"]] == [3, 2, 1]


def _raw_subscription(subscription_id: str) -> dict[str, Any]:
    tables = notifications().platform.stores.tables
    return tables.get(notification_settings().webhook_subscriptions_table, "sub", subscription_id)


def test_signing_secrets_are_sealed_in_the_table_and_survive_a_key_rotation(
    app_env: Path, functions: dict[str, Handler], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kernel.sealing import new_key_entry
    from notifications.__main__ import main as notifications_cli

    k1, k2 = new_key_entry("k1"), new_key_entry("k2")
    monkeypatch.setenv("SECRETS_KEY", k1)
    reload_settings()
    with receiving(Reply(204), Reply(204)) as receiver:
        created = register(functions, receiver.url())
        _, _, rotated = call(
            functions,
            "rotate_subscription_secret",
            "POST",
            "/x",
            route={"id": created["id"]},
        )
        row = _raw_subscription(created["id"])
        stored = json.dumps(row)
        # Neither secret, nor its HMAC key, appears in the stored row.
        for secret in (created["secret"], rotated["secret"]):
            assert secret not in stored
            assert secret.removeprefix("whsec_") not in stored
        assert "secret" not in row and "previous_secret" not in row
        assert row["secrets_key_id"] == "k1"
        assert row["secret_sealed"] and row["previous_secret_sealed"]

        # A new key goes first; subscriptions sealed under the old one still sign.
        monkeypatch.setenv("SECRETS_KEY", f"{k2},{k1}")
        reload_settings()
        notify(functions, completion_event("evt-rotated-1"))
        run_queue(functions)
        assert notifications_cli(["reseal"]) == 0
        assert _raw_subscription(created["id"])["secrets_key_id"] == "k2"

        # Resealed, the old key can go.
        monkeypatch.setenv("SECRETS_KEY", k2)
        reload_settings()
        notify(functions, completion_event("evt-rotated-2"))
        run_queue(functions)

    assert [r.body and json.loads(r.body)["id"] for r in receiver.requests] == [
        "evt-rotated-1",
        "evt-rotated-2",
    ]
    for request in receiver.requests:
        Webhook(rotated["secret"]).verify(request.body, request.headers)
        Webhook(created["secret"]).verify(request.body, request.headers)  # still in overlap


def test_a_subscription_row_from_before_sealing_is_read_and_sealed_by_reseal(
    app_env: Path, functions: dict[str, Handler]
) -> None:
    from notifications.__main__ import main as notifications_cli

    with receiving() as receiver:
        created = register(functions, receiver.url())
    tables = notifications().platform.stores.tables
    table = notification_settings().webhook_subscriptions_table
    legacy = {k: v for k, v in _raw_subscription(created["id"]).items() if k != "etag"}
    for name in ("secret_sealed", "previous_secret_sealed", "secrets_key_id"):
        legacy.pop(name, None)
    legacy["secret"] = created["secret"]
    tables.upsert(table, legacy)

    status, _, fetched = call(
        functions, "get_subscription", "GET", "/x", route={"id": created["id"]}
    )
    assert status == 200 and fetched["id"] == created["id"]
    assert notifications_cli(["reseal"]) == 0
    row = _raw_subscription(created["id"])
    assert "secret" not in row and created["secret"] not in json.dumps(row)
    assert notifications().subscriptions.get(created["id"]).secret == created["secret"]


def test_a_sealed_secret_copied_into_another_subscription_does_not_open(
    app_env: Path, functions: dict[str, Handler]
) -> None:
    with receiving() as receiver:
        first = register(functions, receiver.url())
        second = register(functions, receiver.url("/other"))
    tables = notifications().platform.stores.tables
    table = notification_settings().webhook_subscriptions_table
    row = {k: v for k, v in _raw_subscription(second["id"]).items() if k != "etag"}
    row["secret_sealed"] = _raw_subscription(first["id"])["secret_sealed"]
    tables.upsert(table, row)
    status, _, problem = call(
        functions, "get_subscription", "GET", "/x", route={"id": second["id"]}
    )
    assert (status, problem["code"]) == (500, "secret_unreadable")
