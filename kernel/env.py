"""Typed reads of settings from the environment, remembering what was read.

Kept apart from :mod:`kernel.settings` (and its dataclasses) because
:mod:`kernel.telemetry` reads ``LOG_LEVEL`` when the function app is indexed,
where every millisecond of import is cold start.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

from kernel.errors import SettingsError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Set by the Azure Functions platform on every instance; never set locally.
WEBSITE_INSTANCE_ID = "WEBSITE_INSTANCE_ID"


class Env:
    """Typed reads of settings from a mapping (``os.environ`` by default).

    Blank values count as unset. Every name asked for is remembered in
    :attr:`read`, so tests can tell which settings the code really reads.
    """

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = os.environ if values is None else values
        self.read: set[str] = set()

    def raw(self, name: str) -> str:
        self.read.add(name)
        return self._values.get(name, "").strip()

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def optional(self, name: str) -> str | None:
        return self.raw(name) or None

    def flag(self, name: str, *, default: bool) -> bool:
        raw = self.raw(name).lower()
        if not raw:
            return default
        if raw in {"true", "1", "yes"}:
            return True
        if raw in {"false", "0", "no"}:
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")

    def positive_int(self, name: str, default: int) -> int:
        return self._whole(name, default, minimum=1, meaning="positive")

    def count(self, name: str, default: int) -> int:
        """A whole number of zero or more (``0`` usually meaning "no limit")."""
        return self._whole(name, default, minimum=0, meaning="zero or more")

    def _whole(self, name: str, default: int, *, minimum: int, meaning: str) -> int:
        raw = self.raw(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{name} must be {meaning}, not {value}")
        return value

    @property
    def in_azure(self) -> bool:
        """Whether the app runs on the Azure Functions platform."""
        return self.optional(WEBSITE_INSTANCE_ID) is not None

    def items(self, name: str) -> tuple[str, ...]:
        """Comma-separated values, blanks dropped."""
        return split_items(self.raw(name))

    def cidrs(self, name: str) -> tuple[IPNetwork, ...]:
        """Networks from ``"127.0.0.0/8, ::1/128"``; a bare address is a one-address network."""
        return parse_cidrs(self.raw(name), setting=name)


def split_items(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_cidrs(raw: str, *, setting: str = "the allow-list") -> tuple[IPNetwork, ...]:
    """Networks from ``"127.0.0.0/8, ::1/128"``; SettingsError naming ``setting``."""
    networks = []
    for item in split_items(raw):
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise SettingsError(f"{setting}: {item!r} is not a CIDR: {exc}") from None
    return tuple(networks)


def as_env(source: Env | Mapping[str, str] | None) -> Env:
    return source if isinstance(source, Env) else Env(source)
