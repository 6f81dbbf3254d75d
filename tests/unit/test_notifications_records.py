"""Subscription ids: valid, and ordered as they were made."""

from __future__ import annotations

from datetime import UTC, datetime

from notifications.records import is_subscription_id, new_subscription_id


def test_ids_made_in_one_millisecond_sort_in_creation_order() -> None:
    """Under a frozen clock (or many registrations in one millisecond) each id
    still sorts after the one made before it, so listings page in creation order."""
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    ids = [new_subscription_id(now) for _ in range(200)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(is_subscription_id(value) for value in ids)


def test_a_clock_stepping_back_does_not_reorder_ids() -> None:
    """An id made after a clock step backwards still sorts after the earlier ones."""
    later = new_subscription_id(datetime(2026, 12, 3, 12, 0, 1, tzinfo=UTC))
    earlier_clock = new_subscription_id(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    assert earlier_clock > later
