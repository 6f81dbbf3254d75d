"""Bearer tokens: validated with PyJWT against the issuer's published keys.

The keys come from ``AUTH_JWKS_URL`` or, when it is unset, from the
``jwks_uri`` of the issuer's OpenID discovery document; PyJWT's
:class:`jwt.PyJWKClient` caches them and fetches the set again when a token
names a key id it does not know (the issuer rotated its keys), at most once
per cooldown. Only RSA
signatures are accepted (what Microsoft Entra ID issues), so ``alg: none``
and HMAC tokens signed with a public key never validate. ``exp``, ``iss`` and
``aud`` are required; ``exp`` and ``nbf`` are checked with a small leeway.

Claims to caller: the owner is ``<tid>:<oid>`` (Entra's tenant and object id
of the user or application), ``sub`` when either is missing, or the tenant
alone with ``AUTH_OWNER_SCOPE=tenant``; the app roles are the ``roles`` claim.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from typing import Any

import jwt

from kernel.auth.errors import UnauthenticatedError
from kernel.auth.settings import AuthSettings, OwnerScope, is_trusted_url
from kernel.errors import DependencyError
from kernel.identity import Caller

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
FETCH_TIMEOUT_SECONDS = 5.0
#: How long a fetched key set is trusted before it is fetched again.
KEYS_LIFESPAN_SECONDS = 3600
#: The least time between two fetches for an unknown key id: tokens naming
#: made-up key ids cannot make the app hammer the issuer.
KEYS_REFRESH_COOLDOWN_SECONDS = 30.0
_OWNER = re.compile(r"^[A-Za-z0-9._:-]{1,256}$")


class TokenValidator:
    """Validates bearer tokens for one issuer and audience (thread-safe)."""

    def __init__(self, settings: AuthSettings) -> None:
        if not settings.issuer or not settings.audience:
            raise ValueError("a token validator needs an issuer and an audience")
        self._settings = settings
        self._lock = threading.Lock()
        self._keys: jwt.PyJWKClient | None = None

    def caller(self, token: str) -> Caller:
        """The caller a valid token names; :class:`UnauthenticatedError` otherwise."""
        settings = self._settings
        try:
            key = self._key_client().get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError:
            raise DependencyError("the token issuer's keys could not be fetched") from None
        except jwt.ExpiredSignatureError:
            raise UnauthenticatedError("the bearer token has expired") from None
        except jwt.InvalidAudienceError:
            raise UnauthenticatedError("the bearer token is not for this API") from None
        except jwt.InvalidIssuerError:
            raise UnauthenticatedError("the bearer token is from another issuer") from None
        except (jwt.PyJWTError, ValueError):
            raise UnauthenticatedError("the bearer token is not valid") from None
        return self._caller_from(claims)

    def _caller_from(self, claims: dict[str, Any]) -> Caller:
        tenant, object_id = claims.get("tid"), claims.get("oid")
        owner: Any
        if self._settings.owner_scope is OwnerScope.TENANT and isinstance(tenant, str):
            owner = tenant
        elif isinstance(tenant, str) and isinstance(object_id, str):
            owner = f"{tenant}:{object_id}"
        else:
            owner = claims.get("sub")
        if not isinstance(owner, str) or not _OWNER.match(owner):
            raise UnauthenticatedError("the bearer token names no usable subject")
        roles = claims.get("roles") or []
        if not isinstance(roles, list):
            roles = []
        return Caller(
            owner=owner,
            roles=frozenset(role for role in roles if isinstance(role, str)),
            tenant=tenant if isinstance(tenant, str) else None,
        )

    def _key_client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._keys is None:
                url = self._settings.jwks_url or _discover_jwks_url(str(self._settings.issuer))
                self._keys = jwt.PyJWKClient(
                    url,
                    cache_keys=True,
                    lifespan=KEYS_LIFESPAN_SECONDS,
                    timeout=FETCH_TIMEOUT_SECONDS,
                    cooldown_duration=KEYS_REFRESH_COOLDOWN_SECONDS,
                )
            return self._keys


def _discover_jwks_url(issuer: str) -> str:
    """``jwks_uri`` of the issuer's OpenID discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 - https or loopback only (settings)
            document = json.loads(response.read(1_000_000))
    except (OSError, ValueError):
        raise DependencyError("the token issuer's discovery document could not be read") from None
    jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
    if not isinstance(jwks_uri, str) or not is_trusted_url(jwks_uri):
        raise DependencyError("the token issuer's discovery document names no usable jwks_uri")
    return jwks_uri
