"""The local host's development issuer (``make run AUTH_MODE=jwt``): tokens
minted at ``POST /devhost/token`` are validated by the app through discovery
and JWKS on the same loopback origin, as Entra ID's are in Azure; the host
keeps one generated SECRETS_KEY across restarts."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.apphost import AppHost

pytestmark = pytest.mark.e2e


def mint(host: AppHost, **claims: Any) -> str:
    status, _, body = host.request(
        "POST", "/devhost/token", body=json.dumps(claims).encode() if claims else None
    )
    assert status == 200, body
    answer = json.loads(body)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] > 0
    return str(answer["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_minted_tokens_authenticate_and_authorize_through_the_app(tmp_path: Path) -> None:
    host = AppHost(tmp_path / "data", env={"AUTH_MODE": "jwt"}).start()
    try:
        assert host.request("GET", "/api/documents")[0] == 401
        token = mint(host)
        status, _, body = host.request(
            "POST",
            "/api/documents?filename=memo.txt",
            body=b"Board memo, 3 December 2026.",
            headers={**bearer(token), "Content-Type": "text/plain"},
        )
        assert status == 202, body
        document = json.loads(body)["id"]
        status, _, body = host.request("GET", "/api/documents", headers=bearer(token))
        assert [d["id"] for d in json.loads(body)["items"]] == [document]

        # Another owner: sees nothing, and the document is 404 for it.
        other = mint(host, oid="someone-else", tid="another-tenant")
        assert json.loads(host.request("GET", "/api/documents", headers=bearer(other))[2]) == {
            "items": [],
            "next": None,
        }
        assert host.request("GET", f"/api/documents/{document}", headers=bearer(other))[0] == 404
        # Without the role: 403; tampered signature: 401.
        reader = mint(host, roles=["Documents.Read"])
        status, _, body = host.request(
            "DELETE", f"/api/documents/{document}", headers=bearer(reader)
        )
        assert (status, json.loads(body)["code"]) == (403, "forbidden")
        head, payload, signature = token.split(".")
        forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
        forged["roles"] = ["Admin"]
        forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        tampered = f"{head}.{forged_payload.rstrip('=')}.{signature}"
        status, headers, body = host.request("GET", "/api/documents", headers=bearer(tampered))
        assert (status, json.loads(body)["code"]) == (401, "unauthenticated")
        assert headers["www-authenticate"] == "Bearer"

        discovery = json.loads(host.request("GET", "/devhost/.well-known/openid-configuration")[2])
        assert discovery["issuer"] == f"{host.base_url}/devhost"
        assert json.loads(host.request("GET", "/devhost/keys")[2])["keys"][0]["kty"] == "RSA"
        status, _, body = host.request("POST", "/devhost/token", body=b'{"expires_in": -5}')
        assert (status, json.loads(body)["error"]) == (400, "invalid_request")
    finally:
        host.stop()


def test_without_jwt_mode_there_is_no_token_route_and_the_secrets_key_is_kept(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    host = AppHost(data, env={"AUTH_MODE": "none", "SECRETS_KEY": ""}).start()
    try:
        assert host.request("POST", "/devhost/token")[0] == 404
        assert host.request("GET", "/devhost/keys")[0] == 404
        assert host.request("GET", "/api/documents")[0] == 200
    finally:
        host.stop()
    key_file = data / "secrets.key"
    first = key_file.read_text()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.startswith("local1:")
    AppHost(data, env={"AUTH_MODE": "none", "SECRETS_KEY": ""}).start().stop()
    assert key_file.read_text() == first
