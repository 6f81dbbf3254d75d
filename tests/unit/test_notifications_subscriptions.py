"""Registering, reading, rotating and deleting subscriptions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kernel.egress.addresses import InsecureSchemeError
from kernel.errors import NotFoundError
from notifications.errors import (
    TARGET_NOT_ALLOWED,
    TargetNotAllowedError,
    UnsupportedEventTypeError,
)
from notifications.records import SubscriptionStatus
from tests.support.clock import FakeClock
from tests.support.webhooks import make_harness


def test_registration_defaults_to_both_completion_types_and_stores_the_secret(
    tmp_path: Path,
) -> None:
    service = make_harness(tmp_path).notifications.subscriptions
    created = service.register("http://127.0.0.1:9/hook")
    stored = service.get(created.id)
    assert stored.event_types == (
        "document.processing.completed",
        "document.processing.failed",
    )
    assert stored.status is SubscriptionStatus.ACTIVE
    assert stored.secret == created.secret
    assert "secret" not in stored.to_api()
    assert stored.to_api(with_secret=True)["secret"] == created.secret


def test_event_types_are_deduplicated_and_checked(tmp_path: Path) -> None:
    service = make_harness(tmp_path).notifications.subscriptions
    types = ["document.processing.failed", "document.processing.failed"]
    assert service.register("http://127.0.0.1:9/", types).event_types == (
        "document.processing.failed",
    )
    with pytest.raises(UnsupportedEventTypeError) as caught:
        service.register("http://127.0.0.1:9/", ["document.uploaded"])
    assert caught.value.code == "unsupported_event_type"


def test_registration_applies_the_ssrf_policy(tmp_path: Path) -> None:
    """Where a URL leads is refused with one generic error whatever the reason."""
    service = make_harness(tmp_path, allowed="").notifications.subscriptions
    refusals = []
    for url in ("https://127.0.0.1/hook", "https://8.8.8.8:22/hook", "https://nowhere.invalid/"):
        with pytest.raises(TargetNotAllowedError) as refused:
            service.register(url)
        refusals.append(refused.value.message)
    assert refusals == [TARGET_NOT_ALLOWED] * 3
    with pytest.raises(InsecureSchemeError):
        service.register("http://8.8.8.8/hook")
    assert service.page(after=None, limit=10) == []


def test_a_second_rotation_drops_the_oldest_secret(tmp_path: Path) -> None:
    clock = FakeClock()
    service = make_harness(tmp_path, clock=clock).notifications.subscriptions
    first = service.register("http://127.0.0.1:9/")
    second = service.rotate_secret(first.id)
    clock.advance(hours=1)
    third = service.rotate_secret(first.id)
    assert third.signing_secrets(clock.now) == (third.secret, second.secret)
    assert first.secret not in third.signing_secrets(clock.now)
    assert third.previous_secret_expires_at == clock.now + timedelta(hours=24)
    assert third.signing_secrets(clock.now + timedelta(hours=24)) == (third.secret,)


def test_unknown_and_malformed_ids_are_not_found(tmp_path: Path) -> None:
    service = make_harness(tmp_path).notifications.subscriptions
    for unknown in ("sub_00000000000000000000", "sub_x", "", "a/b"):
        with pytest.raises(NotFoundError):
            service.get(unknown)
        with pytest.raises(NotFoundError):
            service.delete(unknown)
        with pytest.raises(NotFoundError):
            service.rotate_secret(unknown)


def test_listing_is_in_creation_order_and_pages(tmp_path: Path) -> None:
    clock = FakeClock()
    service = make_harness(tmp_path, clock=clock).notifications.subscriptions
    ids = []
    for n in range(3):
        ids.append(service.register(f"http://127.0.0.1:9/{n}").id)
        clock.advance(milliseconds=5)
    assert [s.id for s in service.page(after=None, limit=2)] == ids[:2]
    assert [s.id for s in service.page(after=ids[1], limit=2)] == ids[2:]
