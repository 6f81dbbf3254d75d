"""Standard Webhooks signing, checked against the independent standardwebhooks package."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifications.signing import (
    InvalidSecretError,
    new_secret,
    secret_key,
    sign,
    signature_header,
    webhook_headers,
)

BODY = '{"specversion":"1.0","id":"e1","data":{"name":"résumé"}}'.encode()


def test_new_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second


def test_a_signature_verifies_with_standardwebhooks() -> None:
    secret = new_secret()
    now = int(time.time())
    headers = webhook_headers("msg_1", now, BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == {
        "specversion": "1.0",
        "id": "e1",
        "data": {"name": "résumé"},
    }


def test_a_signature_fails_for_another_body_id_or_secret() -> None:
    secret = new_secret()
    now = int(time.time())
    headers = webhook_headers("msg_1", now, BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_2"})
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_two_secrets_give_two_signatures_each_verifying() -> None:
    old, new = new_secret(), new_secret()
    now = int(time.time())
    header = signature_header([new, old], "msg_1", now, BODY)
    assert header.count("v1,") == 2 and " " in header
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": header}
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


def test_signature_matches_the_spec_formula() -> None:
    """HMAC-SHA256 over "id.timestamp.body", keyed with the decoded secret."""
    import hashlib
    import hmac

    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    expected = hmac.new(b"k" * 32, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert sign(secret, "msg_1", 1700000000, BODY) == "v1," + base64.b64encode(expected).decode()


def test_without_a_secret_no_signature_header_is_sent() -> None:
    headers = webhook_headers("msg_1", 1700000000, BODY)
    assert headers == {"webhook-id": "msg_1", "webhook-timestamp": "1700000000"}


@pytest.mark.parametrize("secret", ["abc", "whsec_", "whsec_not base64!"])
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(InvalidSecretError):
        secret_key(secret)
