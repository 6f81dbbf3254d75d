"""A development token issuer inside the local host, for trying ``AUTH_MODE=jwt``.

With ``AUTH_MODE=jwt`` and no ``AUTH_ISSUER``, ``make run`` serves, on its
own loopback origin, what the app needs from Entra ID and what a developer
needs to get a token:

- ``GET /devhost/.well-known/openid-configuration``: the discovery document
  (issuer ``<origin>/devhost``, ``jwks_uri``);
- ``GET /devhost/keys``: the JWKS (one RSA key, generated at start, never stored);
- ``POST /devhost/token``: an RS256 access token with Entra ID v2 claims; an
  optional JSON body ``{"oid", "tid", "roles", "expires_in"}`` overrides the
  defaults (the development tenant and owner, every app role, one hour).

The app validates these tokens through the same code as in Azure (discovery,
JWKS over loopback ``http``, which ``kernel.auth`` allows for loopback only).
The host starts the issuer only when it listens on loopback: anyone who can
reach the token route can act as anyone.
"""

from __future__ import annotations

import json
import time
import uuid
from http import HTTPStatus
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from kernel.identity import ROLES
from tools.devhost.server import Request, Response

PREFIX = "/devhost"
DISCOVERY_PATH = f"{PREFIX}/.well-known/openid-configuration"
KEYS_PATH = f"{PREFIX}/keys"
TOKEN_PATH = f"{PREFIX}/token"

DEV_AUDIENCE = "api://docflow-local"
DEV_TENANT = "00000000-0000-0000-0000-000000000001"
DEV_OWNER = "00000000-0000-0000-0000-0000000000aa"
DEFAULT_LIFETIME_SECONDS = 3600
MAX_LIFETIME_SECONDS = 24 * 3600
_MAX_CLAIM_CHARS = 128


class DevIssuer:
    """An RSA key, its discovery document and JWKS, and a token route."""

    def __init__(self, origin: str, *, audience: str = DEV_AUDIENCE) -> None:
        self.origin = origin.rstrip("/")
        self.audience = audience
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = uuid.uuid4().hex

    @property
    def issuer(self) -> str:
        return self.origin + PREFIX

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self._kid, "use": "sig", "alg": "RS256"}]}

    def mint(
        self,
        *,
        oid: str = DEV_OWNER,
        tid: str = DEV_TENANT,
        roles: list[str] | None = None,
        expires_in: int = DEFAULT_LIFETIME_SECONDS,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "tid": tid,
            "oid": oid,
            "sub": oid,
            "roles": sorted(ROLES) if roles is None else roles,
            "ver": "2.0",
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})

    def handle(self, request: Request) -> Response | None:
        """The answer for the issuer's paths; None for any other path."""
        if request.path == DISCOVERY_PATH and request.method == "GET":
            return _json(
                HTTPStatus.OK,
                {
                    "issuer": self.issuer,
                    "jwks_uri": self.origin + KEYS_PATH,
                    "token_endpoint": self.origin + TOKEN_PATH,
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        if request.path == KEYS_PATH and request.method == "GET":
            return _json(HTTPStatus.OK, self.jwks())
        if request.path == TOKEN_PATH:
            if request.method != "POST":
                return Response.text(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed")
            return self._token(request.body)
        return None

    def _token(self, body: bytes) -> Response:
        try:
            asked = json.loads(body) if body.strip() else {}
        except ValueError:
            asked = None
        problem = _invalid(asked)
        if problem:
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request", "detail": problem})
        assert isinstance(asked, dict)
        expires_in = int(asked.get("expires_in", DEFAULT_LIFETIME_SECONDS))
        token = self.mint(
            oid=str(asked.get("oid") or asked.get("sub") or DEV_OWNER),
            tid=str(asked.get("tid") or DEV_TENANT),
            roles=asked.get("roles"),
            expires_in=expires_in,
        )
        return _json(
            HTTPStatus.OK,
            {"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
        )


def _invalid(asked: object) -> str | None:
    """Why a token request body cannot be honoured (None when it can)."""
    if not isinstance(asked, dict):
        return "the body is a JSON object (or empty)"
    for name in ("oid", "sub", "tid"):
        value = asked.get(name)
        if value is not None and (
            not isinstance(value, str) or not 0 < len(value) <= _MAX_CLAIM_CHARS
        ):
            return f"{name} is a string of 1 to {_MAX_CLAIM_CHARS} characters"
    roles = asked.get("roles")
    if roles is not None and (
        not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)
    ):
        return "roles is a list of strings"
    expires_in = asked.get("expires_in", DEFAULT_LIFETIME_SECONDS)
    if (
        not isinstance(expires_in, int)
        or isinstance(expires_in, bool)
        or not 0 < expires_in <= MAX_LIFETIME_SECONDS
    ):
        return f"expires_in is a whole number of seconds, 1 to {MAX_LIFETIME_SECONDS}"
    return None


def _json(status: int, payload: object) -> Response:
    return Response.json(status, json.dumps(payload).encode())
