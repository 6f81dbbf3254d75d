"""Bearer-token authentication, app roles and owners, through the real decorated
functions with real RS256 tokens from a loopback issuer (its JWKS found through
its OpenID discovery document, as for Microsoft Entra ID)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import jwt
import pytest

from kernel.auth import tokens
from kernel.auth.settings import AuthSettings
from kernel.errors import SettingsError
from processing import runtime
from tests.support.app import RecordingPublisher, embedded_services, reset_runtime
from tests.support.issuer import AUDIENCE, Issuer, app_settings_for, new_key, serving_issuer

Handler = Callable[..., func.HttpResponse]
#: Open without a token: liveness, readiness, the API description, and the
#: console's static page and assets (they hold no data; the page's API calls
#: carry the user's token).
PUBLIC = {"health", "health_ready", "get_openapi", "get_console", "get_console_asset"}
TXT = b"Quarterly dividend report for Contoso, 12 March 2026, contact ops@example.com.\n"


class Context:
    def __init__(self, name: str) -> None:
        self.invocation_id = "test-invocation"
        self.function_name = name
        self.trace_context = None


def all_http_functions() -> dict[str, tuple[Handler, list[str], str]]:
    """Every HTTP function of the app: handler, methods and route."""
    from console.triggers import bp as console_bp
    from notifications.triggers import bp as notifications_bp
    from processing.triggers import bp as processing_bp
    from search.triggers import bp as search_bp
    from webingest.triggers import bp as webingest_bp

    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    for blueprint in (processing_bp, notifications_bp, search_bp, webingest_bp, console_bp):
        app.register_functions(blueprint)
    found = {}
    for function in app.get_functions():
        trigger = function.get_trigger()
        if trigger.get_binding_name() == "httpTrigger":
            methods = [str(getattr(m, "value", m)) for m in trigger.methods or ["GET"]]
            found[function.get_function_name()] = (
                function.get_user_function(),
                methods,
                str(trigger.route),
            )
    return found


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Issuer]:
    with serving_issuer() as served:
        for name, value in app_settings_for(served, tmp_path / "data").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PROCESSING_ISOLATION", "false")
        reset_runtime()
        built = embedded_services(tmp_path / "data", RecordingPublisher())
        original = runtime.services
        monkeypatch.setattr(runtime, "services", lambda: built)
        yield served
        built.platform.stores.close()
        monkeypatch.setattr(runtime, "services", original)
        reset_runtime()


@pytest.fixture(scope="module")
def functions() -> dict[str, tuple[Handler, list[str], str]]:
    return all_http_functions()


def call(
    functions: dict[str, tuple[Handler, list[str], str]],
    name: str,
    token: str | None,
    *,
    method: str | None = None,
    body: bytes = b"",
    route: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    handler, methods, path = functions[name]
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    request = func.HttpRequest(
        method=method or methods[0],
        url=f"http://127.0.0.1:7071/api/{path}",
        headers=sent,
        params=params or {},
        route_params=route or {},
        body=body,
    )
    takes_context = "context" in inspect.signature(handler).parameters
    response = (
        handler(req=request, context=Context(name)) if takes_context else handler(req=request)
    )
    text = response.get_body()
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = text
    return response.status_code, dict(response.headers), payload


def upload(functions: Any, token: str, data: bytes = TXT, name: str = "report.txt") -> str:
    status, _, body = call(
        functions,
        "upload_document",
        token,
        body=data,
        params={"filename": name},
        headers={"content-type": "text/plain"},
    )
    assert status == 202, body
    return str(body["id"])


def subscribe(functions: Any, token: str) -> dict[str, Any]:
    status, _, created = call(
        functions,
        "create_subscription",
        token,
        body=json.dumps({"url": "http://127.0.0.1:9/hook"}).encode(),
        headers={"content-type": "application/json"},
    )
    assert status == 201, created
    return created  # type: ignore[no-any-return]


def test_every_route_but_the_public_ones_refuses_a_request_without_a_token(
    issuer: Issuer, functions: dict[str, tuple[Handler, list[str], str]]
) -> None:
    """401 ``unauthenticated`` with ``WWW-Authenticate: Bearer`` on every
    non-public HTTP function, before any work; the public ones answer."""
    assert set(functions) >= PUBLIC
    for name, (_, methods, _) in functions.items():
        if name in PUBLIC:
            continue
        for method in methods:
            status, headers, body = call(
                functions, name, None, method=method, route={"id": "x" * 24}
            )
            assert (status, body["code"]) == (401, "unauthenticated"), (name, method)
            assert headers.get("WWW-Authenticate") == "Bearer", name
    assert call(functions, "health", None)[0] == 200


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda i: i.token(audience="api://someone-else"), id="wrong-audience"),
        pytest.param(
            lambda i: i.token(issuer="https://login.example/other/v2.0"), id="wrong-issuer"
        ),
        pytest.param(lambda i: i.token(expires_in=-600), id="expired"),
        pytest.param(lambda i: i.token(key=new_key()), id="signed-by-another-key"),
        pytest.param(lambda i: i.token(kid="unknown-kid", key=new_key()), id="unknown-key-id"),
        pytest.param(
            lambda i: jwt.encode(
                {"iss": i.issuer, "aud": AUDIENCE, "exp": 9_999_999_999, "oid": "x", "tid": "t"},
                key=None,
                algorithm="none",
            ),
            id="unsigned-alg-none",
        ),
        pytest.param(
            lambda i: jwt.encode(
                {"iss": i.issuer, "aud": AUDIENCE, "exp": 9_999_999_999, "oid": "x", "tid": "t"},
                "a-shared-secret-of-thirty-two-bytes!",
                algorithm="HS256",
                headers={"kid": next(iter(i.keys))},
            ),
            id="hmac-with-a-known-kid",
        ),
        pytest.param(lambda i: "not.a.jwt", id="garbage"),
    ],
)
def test_tokens_the_app_cannot_trust_get_401(
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    make_token: Callable[[Issuer], str],
) -> None:
    """Wrong audience or issuer, expired, unsigned, signed by an unknown key or
    with HMAC: 401, and nothing is listed."""
    status, headers, body = call(functions, "list_documents", make_token(issuer))
    assert (status, body["code"]) == (401, "unauthenticated")
    assert headers.get("WWW-Authenticate") == "Bearer"


def test_a_token_without_the_role_gets_403(
    issuer: Issuer, functions: dict[str, tuple[Handler, list[str], str]]
) -> None:
    """A valid token whose roles lack the route's role: 403 ``forbidden``."""
    reader = issuer.token(roles=("Documents.Read",))
    assert call(functions, "list_documents", reader)[0] == 200
    status, _, body = call(
        functions, "upload_document", reader, body=TXT, params={"filename": "a.txt"}
    )
    assert (status, body["code"]) == (403, "forbidden")
    status, _, body = call(functions, "list_subscriptions", reader)
    assert (status, body["code"]) == (403, "forbidden")


def test_a_rotated_signing_key_is_fetched_when_a_token_names_it(
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys are cached; a token with a new key id makes the app fetch the set
    again, but never more than once per cooldown (made-up key ids cannot make
    it hammer the issuer)."""
    for _ in range(3):
        status, _, _ = call(functions, "list_documents", issuer.token(kid="made-up", key=new_key()))
        assert status == 401
    assert issuer.fetches["/tenant/keys"] == 1
    monkeypatch.setattr(tokens, "KEYS_REFRESH_COOLDOWN_SECONDS", 0.0)
    from kernel.identity import reset

    reset()
    issuer.fetches.clear()
    assert call(functions, "list_documents", issuer.token())[0] == 200
    assert call(functions, "list_documents", issuer.token())[0] == 200
    assert issuer.fetches["/tenant/keys"] == 1
    assert issuer.fetches["/tenant/v2.0/.well-known/openid-configuration"] == 1
    new_kid = issuer.rotate()
    assert call(functions, "list_documents", issuer.token(kid=new_kid))[0] == 200
    assert issuer.fetches["/tenant/keys"] == 2


def test_team_b_sees_and_changes_nothing_of_team_a(
    issuer: Issuer, functions: dict[str, tuple[Handler, list[str], str]]
) -> None:
    """Two owners: B cannot list, get, read the result of or delete A's document,
    nor list, get, rotate, delete or read deliveries of A's subscription; each
    answer is the one for an unknown id."""
    alice = issuer.token(tenant="tenant-a", oid="alice")
    bob = issuer.token(tenant="tenant-b", oid="bob")
    document = upload(functions, alice)
    assert [d["id"] for d in call(functions, "list_documents", alice)[2]["items"]] == [document]
    assert call(functions, "list_documents", bob)[2]["items"] == []
    for name in ("get_document", "get_document_result"):
        status, _, body = call(functions, name, bob, route={"id": document})
        assert (status, body["code"]) == (404, "not_found"), name
    assert call(functions, "delete_document", bob, route={"id": document})[0] == 204
    assert call(functions, "get_document", alice, route={"id": document})[0] == 200

    subscription = subscribe(functions, alice)["id"]
    assert call(functions, "list_subscriptions", bob)[2]["items"] == []
    for name in (
        "get_subscription",
        "rotate_subscription_secret",
        "delete_subscription",
        "list_subscription_deliveries",
    ):
        status, _, body = call(functions, name, bob, route={"id": subscription})
        assert (status, body["code"]) == (404, "not_found"), name
    status, _, mine = call(functions, "get_subscription", alice, route={"id": subscription})
    assert status == 200
    assert mine["id"] == subscription


def test_principals_of_one_tenant_share_an_owner_with_tenant_scope(
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AUTH_OWNER_SCOPE=tenant: a colleague in the same tenant sees the document,
    a principal of another tenant does not."""
    monkeypatch.setenv("AUTH_OWNER_SCOPE", "tenant")
    from kernel.identity import reset

    reset()
    document = upload(functions, issuer.token(tenant="tenant-a", oid="alice"))
    colleague = issuer.token(tenant="tenant-a", oid="carol")
    assert call(functions, "get_document", colleague, route={"id": document})[0] == 200
    other = issuer.token(tenant="tenant-b", oid="carol")
    assert call(functions, "get_document", other, route={"id": document})[0] == 404


def test_auth_settings_refuse_what_cannot_be_safe() -> None:
    """No authentication in Azure; jwt without issuer or audience; JWKS over
    plain http anywhere but loopback."""
    azure = {"WEBSITE_INSTANCE_ID": "abc"}
    with pytest.raises(SettingsError, match="never in Azure"):
        AuthSettings.from_env({**azure, "AUTH_MODE": "none"})
    with pytest.raises(SettingsError, match="needs AUTH_ISSUER"):
        AuthSettings.from_env(azure)
    base = {"AUTH_MODE": "jwt", "AUTH_AUDIENCE": "api://x"}
    with pytest.raises(SettingsError, match="https"):
        AuthSettings.from_env({**base, "AUTH_ISSUER": "http://login.example/t/v2.0"})
    with pytest.raises(SettingsError, match="https"):
        AuthSettings.from_env(
            {**base, "AUTH_ISSUER": "https://login.example/", "AUTH_JWKS_URL": "http://10.0.0.1/k"}
        )
    local = AuthSettings.from_env({**base, "AUTH_ISSUER": "http://127.0.0.1:9/t/v2.0"})
    assert local.issuer == "http://127.0.0.1:9/t/v2.0"
    assert AuthSettings.from_env({}).mode.value == "none"


def test_admin_reaches_every_owner_of_its_own_tenant_and_no_other(
    issuer: Issuer, functions: dict[str, tuple[Handler, list[str], str]]
) -> None:
    """Admin lists, reads and deletes the documents and subscriptions of every
    owner of its tenant; an Admin of another tenant gets 404s and empty lists."""
    alice = issuer.token(tenant="tenant-a", oid="alice")
    document = upload(functions, alice)
    created = subscribe(functions, alice)
    admin = issuer.token(tenant="tenant-a", oid="root", roles=("Admin",))
    stranger = issuer.token(tenant="tenant-b", oid="root", roles=("Admin",))

    assert [d["id"] for d in call(functions, "list_documents", admin)[2]["items"]] == [document]
    assert call(functions, "get_document", admin, route={"id": document})[0] == 200
    assert [s["id"] for s in call(functions, "list_subscriptions", admin)[2]["items"]] == [
        created["id"]
    ]
    assert call(functions, "get_subscription", admin, route={"id": created["id"]})[0] == 200

    assert call(functions, "list_documents", stranger)[2]["items"] == []
    assert call(functions, "list_subscriptions", stranger)[2]["items"] == []
    for name, target in (("get_document", document), ("get_subscription", created["id"])):
        status, _, body = call(functions, name, stranger, route={"id": target})
        assert (status, body["code"]) == (404, "not_found"), name
    assert call(functions, "delete_document", stranger, route={"id": document})[0] == 204
    assert call(functions, "get_document", alice, route={"id": document})[0] == 200

    assert call(functions, "delete_document", admin, route={"id": document})[0] == 204
    assert call(functions, "get_document", alice, route={"id": document})[0] == 404


def test_an_owner_over_its_document_quota_gets_a_coded_403(
    issuer: Issuer,
    functions: dict[str, tuple[Handler, list[str], str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DOCUMENTS_MAX_PER_OWNER: the upload past the cap is 403 ``quota_exceeded``;
    another owner still uploads."""
    capped = embedded_services(tmp_path / "capped", RecordingPublisher(), max_documents_per_owner=1)
    monkeypatch.setattr(runtime, "services", lambda: capped)
    alice = issuer.token(tenant="tenant-a", oid="alice")
    upload(functions, alice)
    status, _, body = call(
        functions,
        "upload_document",
        alice,
        body=TXT,
        params={"filename": "second.txt"},
        headers={"content-type": "text/plain"},
    )
    assert (status, body["code"]) == (403, "quota_exceeded")
    assert "1 documents per owner" in body["detail"]
    upload(functions, issuer.token(tenant="tenant-a", oid="bob"))
    capped.platform.stores.close()
