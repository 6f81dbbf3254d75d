"""Secrets sealed at rest: AES-256-GCM under a key ring named by ``SECRETS_KEY``.

``SECRETS_KEY`` holds comma-separated ``<key id>:<base64 of 32 bytes>``
entries. The first seals; every entry opens, so a key is rotated by putting a
new entry first, resealing what is stored (``python -m notifications reseal``)
and only then dropping the old entry. In Azure the setting is a Key Vault
reference the platform resolves; it is required there. Elsewhere an unset
``SECRETS_KEY`` falls back to a fixed, public development key (``dev``), with
a start-up warning: the local host generates a real one instead.

A sealed value is the key id that sealed it and ``base64url(nonce ||
ciphertext || tag)``. The caller's ``context`` (which record and field) is
authenticated with it, so a ciphertext copied into another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kernel.env import Env, as_env
from kernel.errors import SettingsError, UnsealError

log = logging.getLogger(__name__)

SECRETS_KEY = "SECRETS_KEY"

KEY_BYTES = 32
NONCE_BYTES = 12
DEV_KEY_ID = "dev"
# Public on purpose: it only keeps local rows from holding plaintext.
_DEV_KEY = b"docflow local development key 32"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    token: str


class Keyring:
    """The keys of ``SECRETS_KEY``: the first seals, all of them open."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs a key")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = next(iter(keys))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def seal(self, plaintext: str, *, context: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[self.current].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        token = base64.urlsafe_b64encode(nonce + ciphertext).decode("ascii").rstrip("=")
        return Sealed(self.current, token)

    def open(self, sealed: Sealed, *, context: str) -> str:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise UnsealError(f"no key {sealed.key_id!r} in {SECRETS_KEY}")
        try:
            raw = base64.urlsafe_b64decode(sealed.token + "=" * (-len(sealed.token) % 4))
            plaintext = cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8")
            )
        except (binascii.Error, ValueError, InvalidTag):
            raise UnsealError(
                f"a value sealed under key {sealed.key_id!r} does not open (altered or misplaced)"
            ) from None
        return plaintext.decode("utf-8")

    @classmethod
    def parse(cls, raw: str) -> Keyring:
        """The ring in ``"k2:<base64>,k1:<base64>"``; SettingsError when malformed
        (the message never repeats key material)."""
        keys: dict[str, bytes] = {}
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            key_id, colon, material = item.partition(":")
            if not colon or not _KEY_ID.match(key_id):
                raise SettingsError(
                    f"{SECRETS_KEY}: each entry is <key id>:<base64 of {KEY_BYTES} bytes>,"
                    " the id of letters, digits, '-' or '_'"
                )
            if key_id in keys:
                raise SettingsError(f"{SECRETS_KEY}: key id {key_id!r} appears twice")
            keys[key_id] = _key_bytes(key_id, material.strip())
        if not keys:
            raise SettingsError(f"{SECRETS_KEY} names no key")
        return cls(keys)

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> Keyring:
        env = as_env(source)
        raw = env.raw(SECRETS_KEY)
        if raw:
            return cls.parse(raw)
        if env.in_azure:
            raise SettingsError(
                f"{SECRETS_KEY} is required in Azure (a Key Vault reference to the key ring)"
            )
        log.warning("secrets.development_key", extra={"setting": SECRETS_KEY})
        return development_keyring()


def development_keyring() -> Keyring:
    """The fixed development ring used where ``SECRETS_KEY`` is unset outside Azure."""
    return Keyring({DEV_KEY_ID: _DEV_KEY})


def new_key_entry(key_id: str) -> str:
    """A fresh ``<key id>:<base64>`` entry for ``SECRETS_KEY``."""
    if not _KEY_ID.match(key_id):
        raise ValueError(f"{key_id!r} is not a key id")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode('ascii')}"


def _key_bytes(key_id: str, material: str) -> bytes:
    try:
        key = base64.b64decode(material + "=" * (-len(material) % 4), altchars=b"-_")
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SettingsError(f"{SECRETS_KEY}: key {key_id!r} is not the base64 of {KEY_BYTES} bytes")
    return key
