"""Completion notices reach only the document owner's subscriptions: two
owners register webhooks with real bearer tokens (a loopback issuer's RS256
keys) through the app's functions, and each receiver gets only its owner's
notices, signed with its own secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from standardwebhooks.webhooks import Webhook

from tests.functional.test_notifications_api import (
    Context,
    Handler,
    notify,
    reload_settings,
    run_queue,
)
from tests.support.issuer import Issuer, app_settings_for, serving_issuer
from tests.support.webhooks import Reply, completion_event, fresh_app, receiving


@pytest.fixture(scope="module")
def functions() -> dict[str, Handler]:
    """The functions as the worker indexes them from the app's blueprints."""
    return {f.get_function_name(): f.get_user_function() for f in fresh_app().get_functions()}


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Issuer]:
    with serving_issuer() as served:
        for name, value in app_settings_for(served, tmp_path / "data").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "0.05")
        reload_settings()
        yield served
        reload_settings()


def register(functions: dict[str, Handler], token: str, url: str) -> dict[str, Any]:
    request = func.HttpRequest(
        method="POST",
        url="http://127.0.0.1:7071/api/subscriptions",
        headers={"content-type": "application/json", "Authorization": f"Bearer {token}"},
        params={},
        route_params={},
        body=json.dumps({"url": url}).encode(),
    )
    response = functions["create_subscription"](req=request, context=Context("create_subscription"))
    assert response.status_code == 201, response.get_body()
    return json.loads(response.get_body())  # type: ignore[no-any-return]


def owned_completion(event_id: str, owner: str) -> dict[str, Any]:
    event = completion_event(event_id)
    return {**event, "data": {**event["data"], "owner": owner}}


def test_each_owners_subscriptions_receive_only_that_owners_notices(
    issuer: Issuer, functions: dict[str, Handler]
) -> None:
    alice = issuer.token(tenant="tenant-a", oid="alice", roles=("Subscriptions.Manage",))
    bob = issuer.token(tenant="tenant-b", oid="bob", roles=("Subscriptions.Manage",))
    with receiving() as alices_receiver, receiving() as bobs_receiver:
        alices = register(functions, alice, alices_receiver.url("/a"))
        bobs = register(functions, bob, bobs_receiver.url("/b"))
        notify(functions, owned_completion("evt-alice", "tenant-a:alice"))
        notify(functions, owned_completion("evt-bob", "tenant-b:bob"))
        notify(functions, owned_completion("evt-nobody", "tenant-c:carol"))
        run_queue(functions)

    def received(receiver: Any, secret: str) -> list[str]:
        return [Webhook(secret).verify(r.body, r.headers)["id"] for r in receiver.requests]

    assert received(alices_receiver, alices["secret"]) == ["evt-alice"]
    assert received(bobs_receiver, bobs["secret"]) == ["evt-bob"]


def dead_letters(functions: dict[str, Handler], token: str) -> list[str]:
    request = func.HttpRequest(
        method="GET",
        url="http://127.0.0.1:7071/api/dead-letters",
        headers={"Authorization": f"Bearer {token}"},
        params={},
        route_params={},
        body=b"",
    )
    response = functions["list_dead_letters"](req=request, context=Context("list_dead_letters"))
    assert response.status_code == 200, response.get_body()
    return [item["event_id"] for item in json.loads(response.get_body())["items"]]


def test_dead_letters_are_listed_only_within_the_callers_reach(
    issuer: Issuer, functions: dict[str, Handler]
) -> None:
    """Each owner lists only its own subscriptions' dead letters; an Admin lists
    those of every owner of its tenant, never another tenant's."""
    alice = issuer.token(tenant="tenant-a", oid="alice", roles=("Subscriptions.Manage",))
    bob = issuer.token(tenant="tenant-b", oid="bob", roles=("Subscriptions.Manage",))
    with receiving(Reply(500)) as alices_receiver, receiving(Reply(500)) as bobs_receiver:
        register(functions, alice, alices_receiver.url("/a"))
        register(functions, bob, bobs_receiver.url("/b"))
        notify(functions, owned_completion("evt-alice", "tenant-a:alice"))
        notify(functions, owned_completion("evt-bob", "tenant-b:bob"))
        run_queue(functions)
    assert dead_letters(functions, alice) == ["evt-alice"]
    assert dead_letters(functions, bob) == ["evt-bob"]
    admin_a = issuer.token(tenant="tenant-a", oid="root", roles=("Admin",))
    assert dead_letters(functions, admin_a) == ["evt-alice"]
    carol = issuer.token(tenant="tenant-a", oid="carol", roles=("Subscriptions.Manage",))
    assert dead_letters(functions, carol) == []
