"""The key ring behind ``SECRETS_KEY``: AES-GCM sealing bound to its context,
rotation by key id, and settings refused without echoing key material."""

from __future__ import annotations

import base64

import pytest

from kernel.errors import SettingsError, UnsealError
from kernel.sealing import DEV_KEY_ID, Keyring, Sealed, new_key_entry

# Fixed keys: test ids (xdist compares them across workers) must not vary.
K1 = "k1:" + base64.b64encode(bytes(range(32))).decode()
K2 = "k2:" + base64.b64encode(bytes(range(32, 64))).decode()


def test_a_sealed_value_opens_with_its_context_and_is_not_the_plaintext() -> None:
    ring = Keyring.parse(K1)
    sealed = ring.seal("whsec_abc", context="sub/1/secret")
    assert sealed.key_id == "k1"
    assert "whsec_abc" not in sealed.token
    assert base64.urlsafe_b64decode(sealed.token + "==")  # url-safe text
    assert ring.open(sealed, context="sub/1/secret") == "whsec_abc"
    # Fresh nonce each time: equal plaintexts do not give equal ciphertexts.
    assert ring.seal("whsec_abc", context="sub/1/secret").token != sealed.token


def test_a_value_moved_to_another_context_or_altered_does_not_open() -> None:
    ring = Keyring.parse(K1)
    sealed = ring.seal("whsec_abc", context="sub/1/secret")
    with pytest.raises(UnsealError):
        ring.open(sealed, context="sub/2/secret")
    flipped = sealed.token[:-2] + ("A" if sealed.token[-2] != "A" else "B") + sealed.token[-1]
    with pytest.raises(UnsealError):
        ring.open(Sealed("k1", flipped), context="sub/1/secret")
    with pytest.raises(UnsealError):
        ring.open(Sealed("k1", "!!not base64!!"), context="sub/1/secret")


def test_rotation_seals_with_the_first_key_and_opens_with_every_key() -> None:
    old = Keyring.parse(K1).seal("s", context="c")
    rotated = Keyring.parse(f"{K2}, {K1}")
    assert rotated.current == "k2" and rotated.key_ids == ("k2", "k1")
    assert rotated.open(old, context="c") == "s"
    assert rotated.seal("s", context="c").key_id == "k2"
    with pytest.raises(UnsealError, match="no key 'k1'"):
        Keyring.parse(K2).open(old, context="c")


@pytest.mark.parametrize(
    "raw",
    [
        "k1",  # no material
        "k1:" + base64.b64encode(b"short").decode(),
        "bad id:" + K1.partition(":")[2],
        f"{K1},{K1}",  # duplicate id
        " , ",
    ],
)
def test_malformed_rings_are_refused_without_repeating_the_material(raw: str) -> None:
    with pytest.raises(SettingsError, match="SECRETS_KEY") as caught:
        Keyring.parse(raw)
    material = raw.partition(":")[2]
    if len(material) > 8:
        assert material not in caught.value.message


def test_new_entries_parse_into_a_ring_of_fresh_keys() -> None:
    first, second = new_key_entry("k9"), new_key_entry("k9")
    assert first != second and first.startswith("k9:")
    assert Keyring.parse(first).current == "k9"


def test_url_safe_base64_material_is_accepted() -> None:
    key = bytes(range(256))[-32:]
    ring = Keyring.parse("u:" + base64.urlsafe_b64encode(key).decode().rstrip("="))
    assert ring.open(ring.seal("x", context="c"), context="c") == "x"


def test_unset_key_is_required_in_azure_and_the_development_key_elsewhere() -> None:
    with pytest.raises(SettingsError, match="required in Azure"):
        Keyring.from_env({"WEBSITE_INSTANCE_ID": "abc"})
    assert Keyring.from_env({}).current == DEV_KEY_ID
    assert Keyring.from_env({"SECRETS_KEY": K1}).current == "k1"
