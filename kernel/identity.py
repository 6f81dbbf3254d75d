"""Who is calling: the one seam between authentication and the capabilities.

Every HTTP trigger calls :func:`authorize` with the app role its route needs
(or :func:`caller_of` where any caller may proceed) and hands the
:class:`Caller`'s ``owner`` to its services, which store it on every record
they create and filter every read by it. With ``AUTH_MODE=jwt`` the caller
comes from the request's bearer token (:mod:`kernel.auth.tokens`); with
``AUTH_MODE=none`` (local development only) every request is the one local
owner holding every role.

App roles (the token's ``roles`` claim, defined on the Entra ID app
registration): ``Documents.Read`` (list, get, results, search, crawl and
batch status), ``Documents.Write`` (upload, delete, scrape, crawl and its
cancellation, batch), ``Subscriptions.Manage``
(webhook subscriptions, deliveries, replays) and ``Admin``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kernel.auth.tokens import TokenValidator

log = logging.getLogger(__name__)

DOCUMENTS_READ = "Documents.Read"
DOCUMENTS_WRITE = "Documents.Write"
SUBSCRIPTIONS_MANAGE = "Subscriptions.Manage"
ADMIN = "Admin"
ROLES = frozenset({DOCUMENTS_READ, DOCUMENTS_WRITE, SUBSCRIPTIONS_MANAGE, ADMIN})


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated principal: ``owner`` keys its data, ``roles`` its rights."""

    owner: str
    roles: frozenset[str] = field(default_factory=frozenset)
    #: The Entra ID tenant of the token (``tid``), if it named one.
    tenant: str | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles or ADMIN in self.roles

    @property
    def reach(self) -> Reach:
        """Whose records this caller may read and change: its own, or with the
        Admin role every owner's of its own tenant (never another tenant's)."""
        if ADMIN in self.roles and self.tenant:
            return Reach(owner=self.owner, tenant=self.tenant)
        return Reach(owner=self.owner)


def tenant_of(owner: str) -> str:
    """The tenant part of an owner id (``<tid>:<oid>``, or ``<tid>`` when a
    tenant is one owner); an owner without one is its own tenant."""
    return owner.partition(":")[0]


@dataclass(frozen=True, slots=True)
class Reach:
    """The records a caller may see: one owner's, or (``tenant`` set, for
    Admin) those of every owner of one tenant. Records store their owner's
    tenant beside the owner, so both are one equality filter in storage."""

    owner: str
    tenant: str | None = None

    def admits(self, owner: str) -> bool:
        return owner == self.owner or (self.tenant is not None and tenant_of(owner) == self.tenant)

    @property
    def where(self) -> dict[str, str]:
        """The storage filter (property equality) selecting what this reach admits."""
        return {"tenant": self.tenant} if self.tenant is not None else {"owner": self.owner}


#: The implicit owner of everything when authentication is off.
LOCAL_OWNER = "local"
LOCAL_CALLER = Caller(owner=LOCAL_OWNER, roles=ROLES)


def caller_of(headers: Mapping[str, str]) -> Caller:
    """The caller behind a request's headers (``UnauthenticatedError`` if none)."""
    from kernel.auth.errors import UnauthenticatedError
    from kernel.auth.settings import AuthMode, auth_settings

    if auth_settings().mode is AuthMode.NONE:
        return LOCAL_CALLER
    header = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("this API needs an 'Authorization: Bearer <token>' header")
    return _validator().caller(token.strip())


def authorize(headers: Mapping[str, str], role: str) -> Caller:
    """The caller, if it holds ``role`` (``ForbiddenError`` if it does not)."""
    from kernel.auth.errors import ForbiddenError

    caller = caller_of(headers)
    if not caller.has_role(role):
        raise ForbiddenError(f"this operation needs the app role {role!r}")
    return caller


@cache
def _validator() -> TokenValidator:
    from kernel.auth.settings import auth_settings
    from kernel.auth.tokens import TokenValidator

    return TokenValidator(auth_settings())


def reset() -> None:
    """Forget the settings and keys read so far (tests change the environment)."""
    from kernel.auth.settings import auth_settings

    auth_settings.cache_clear()
    _validator.cache_clear()


def warn_if_open() -> None:
    """Log, once at start-up, that authentication is off."""
    from kernel.auth.settings import AuthMode, auth_settings

    if auth_settings().mode is AuthMode.NONE:
        log.warning("auth.disabled", extra={"owner": LOCAL_OWNER})
