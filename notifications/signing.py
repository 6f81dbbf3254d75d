"""Standard Webhooks signatures (https://www.standardwebhooks.com).

``webhook-signature`` is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))
where ``key`` is the base64-decoded part of the ``whsec_`` secret. During a
secret rotation the header holds one signature per live secret, separated by
spaces, and receivers accept the request if any one verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
#: Standard Webhooks asks for 24 to 64 bytes; 32 matches the HMAC-SHA256 block strength.
SECRET_BYTES = 32

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


class InvalidSecretError(ValueError):
    """A stored secret is not ``whsec_`` + base64."""


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside ``secret``."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecretError("a signing secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise InvalidSecretError("a signing secret is base64 after whsec_") from None
    if not key:
        raise InvalidSecretError("a signing secret is empty")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,`` signature of ``body`` for ``message_id`` at ``timestamp``."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(
    signing_secrets: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one signature per secret, space-separated."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in signing_secrets)


def webhook_headers(
    message_id: str, timestamp: int, body: bytes, signing_secrets: Iterable[str] = ()
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and, when there is a secret, ``webhook-signature``."""
    headers = {HEADER_ID: message_id, HEADER_TIMESTAMP: str(timestamp)}
    signature = signature_header(signing_secrets, message_id, timestamp, body)
    if signature:
        headers[HEADER_SIGNATURE] = signature
    return headers
