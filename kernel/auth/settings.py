"""Authentication settings, read once into a frozen object.

``AUTH_MODE``: ``jwt`` (bearer tokens, the default when the app runs in Azure)
or ``none`` (one implicit owner with every role, the default elsewhere: local
development only, refused in Azure). In ``jwt`` mode ``AUTH_ISSUER`` and
``AUTH_AUDIENCE`` are required; keys come from ``AUTH_JWKS_URL`` or else the
issuer's OpenID discovery document. ``AUTH_OWNER_SCOPE``: ``principal`` (each
user or app its own owner, ``tid:oid``) or ``tenant`` (all principals of a
tenant share one owner).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TypeVar
from urllib.parse import urlsplit

from kernel.env import Env, as_env
from kernel.errors import SettingsError

AUTH_MODE = "AUTH_MODE"
AUTH_ISSUER = "AUTH_ISSUER"
AUTH_AUDIENCE = "AUTH_AUDIENCE"
AUTH_JWKS_URL = "AUTH_JWKS_URL"
AUTH_LEEWAY_SECONDS = "AUTH_LEEWAY_SECONDS"
AUTH_OWNER_SCOPE = "AUTH_OWNER_SCOPE"


_Choice = TypeVar("_Choice", bound=StrEnum)


class AuthMode(StrEnum):
    JWT = "jwt"
    NONE = "none"


class OwnerScope(StrEnum):
    PRINCIPAL = "principal"
    TENANT = "tenant"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    mode: AuthMode = AuthMode.NONE
    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = None
    leeway_seconds: int = 60
    owner_scope: OwnerScope = OwnerScope.PRINCIPAL

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> AuthSettings:
        env = as_env(source)
        in_azure = env.in_azure
        mode = _choice(env, AUTH_MODE, AuthMode, AuthMode.JWT if in_azure else AuthMode.NONE)
        if mode is AuthMode.NONE and in_azure:
            raise SettingsError(f"{AUTH_MODE}=none is for local development, never in Azure")
        settings = cls(
            mode=mode,
            issuer=env.optional(AUTH_ISSUER),
            audience=env.optional(AUTH_AUDIENCE),
            jwks_url=env.optional(AUTH_JWKS_URL),
            leeway_seconds=min(env.positive_int(AUTH_LEEWAY_SECONDS, 60), 300),
            owner_scope=_choice(env, AUTH_OWNER_SCOPE, OwnerScope, OwnerScope.PRINCIPAL),
        )
        if mode is AuthMode.JWT:
            if not settings.issuer or not settings.audience:
                raise SettingsError(f"{AUTH_MODE}=jwt needs {AUTH_ISSUER} and {AUTH_AUDIENCE}")
            for name, url in ((AUTH_ISSUER, settings.issuer), (AUTH_JWKS_URL, settings.jwks_url)):
                if url is not None and not is_trusted_url(url):
                    raise SettingsError(f"{name} must be https (plain http only on loopback)")
        return settings


def is_trusted_url(url: str) -> bool:
    """``https``, or plain ``http`` to a loopback host (local issuers and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _choice(env: Env, name: str, kind: type[_Choice], default: _Choice) -> _Choice:
    raw = env.raw(name).lower()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise SettingsError(f"{name} must be one of {allowed}, not {raw!r}") from None


@cache
def auth_settings() -> AuthSettings:
    return AuthSettings.from_env()
