"""Who is calling: the seam between authentication and the capabilities.

Every HTTP trigger asks :func:`caller_of` for the :class:`Caller` behind a
request and hands its ``owner`` to the services, which store it on every
record they create and filter every read by it. Until token authentication
exists (``AUTH_MODE=jwt``, issue 11) every request is the one local owner,
which is what ``AUTH_MODE=none`` will mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated principal: ``owner`` keys its data, ``roles`` its rights."""

    owner: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, role: str) -> bool:
        return role in self.roles


#: The implicit owner of everything when authentication is off.
LOCAL_CALLER = Caller(owner="local")


def caller_of(headers: Mapping[str, str]) -> Caller:
    """The caller behind a request's headers."""
    del headers
    return LOCAL_CALLER
