"""A token issuer on loopback: an RSA key, its JWKS and OpenID discovery
document over real HTTP, and RS256 tokens minted with it (Entra ID v2 claims)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "api://docflow-tests"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Issuer:
    base: str
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    #: How many times each path was fetched.
    fetches: dict[str, int] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return f"{self.base}/tenant/v2.0"

    def jwks(self) -> dict[str, Any]:
        found = []
        for kid, key in self.keys.items():
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            found.append({**public, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": found}

    def token(
        self,
        *,
        tenant: str = "tenant-a",
        oid: str = "user-1",
        roles: tuple[str, ...] = ("Documents.Read", "Documents.Write", "Subscriptions.Manage"),
        audience: str = AUDIENCE,
        issuer: str | None = None,
        expires_in: int = 600,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        **claims: Any,
    ) -> str:
        kid = kid or next(iter(self.keys))
        now = int(time.time())
        payload = {
            "iss": issuer or self.issuer,
            "aud": audience,
            "tid": tenant,
            "oid": oid,
            "sub": f"sub-{oid}",
            "roles": list(roles),
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            **claims,
        }
        signer = key or self.keys[kid]
        return jwt.encode(payload, signer, algorithm="RS256", headers={"kid": kid})

    def rotate(self) -> str:
        """A new signing key, published beside the old ones; its key id."""
        kid = uuid.uuid4().hex
        self.keys[kid] = new_key()
        return kid


@contextmanager
def serving_issuer() -> Iterator[Issuer]:
    holder: list[Issuer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer = holder[0]
            issuer.fetches[self.path] = issuer.fetches.get(self.path, 0) + 1
            if self.path == "/tenant/v2.0/.well-known/openid-configuration":
                body = {"issuer": issuer.issuer, "jwks_uri": f"{issuer.base}/tenant/keys"}
            elif self.path == "/tenant/keys":
                body = issuer.jwks()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = Issuer(f"http://127.0.0.1:{server.server_address[1]}")
    issuer.rotate()
    holder.append(issuer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()


def app_settings_for(issuer: Issuer, data_dir: Path) -> dict[str, str]:
    """Settings that run the app on the embedded store in ``data_dir`` with
    tokens from ``issuer`` and webhooks allowed to loopback receivers."""
    return {
        "DATA_DIR": str(data_dir),
        "AzureWebJobsStorage": "",
        "WEBHOOK_QUEUE": "webhook-deliveries",
        "WEBHOOK_ALLOWED_CIDRS": "127.0.0.0/8",
        "LOGIC_APP_URL": "",
        "AUTH_MODE": "jwt",
        "AUTH_ISSUER": issuer.issuer,
        "AUTH_AUDIENCE": AUDIENCE,
    }
