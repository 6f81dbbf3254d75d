"""Webhook settings: parsing, defaults, and the start-up warning for the allow-list."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from kernel.errors import SettingsError
from notifications.settings import (
    DEFAULT_WEBHOOK_RETRY_SCHEDULE,
    LOGIC_APP_URL,
    OPTIONAL,
    WEBHOOK_ALLOWED_CIDRS,
    WEBHOOK_DELIVERIES_TABLE,
    WEBHOOK_QUEUE,
    WEBHOOK_RETRY_SCHEDULE,
    WEBHOOK_SUBSCRIPTIONS_TABLE,
    NotificationSettings,
)

SAMPLE = Path(__file__).resolve().parents[2] / "local.settings.sample.json"
WEBHOOK_SETTINGS = [
    LOGIC_APP_URL,
    WEBHOOK_QUEUE,
    WEBHOOK_RETRY_SCHEDULE,
    WEBHOOK_ALLOWED_CIDRS,
    WEBHOOK_SUBSCRIPTIONS_TABLE,
    WEBHOOK_DELIVERIES_TABLE,
]


def test_defaults() -> None:
    settings = NotificationSettings.from_env({})
    assert settings.webhook_queue == "webhook-deliveries"
    assert settings.webhook_retry_schedule == DEFAULT_WEBHOOK_RETRY_SCHEDULE
    assert settings.webhook_allowed_cidrs == ()
    assert settings.logic_app_urls == ()
    assert settings.allow_list_warning() is None


def test_values_are_read() -> None:
    settings = NotificationSettings.from_env(
        {
            WEBHOOK_RETRY_SCHEDULE: "0.05, 0.1",
            WEBHOOK_ALLOWED_CIDRS: "127.0.0.0/8, ::1",
            LOGIC_APP_URL: "https://a.example/x?sig=1, https://b.example/y?sig=2",
            WEBHOOK_QUEUE: "hooks",
        }
    )
    assert settings.webhook_retry_schedule == (0.05, 0.1)
    assert settings.webhook_allowed_cidrs == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert settings.logic_app_urls == ("https://a.example/x?sig=1", "https://b.example/y?sig=2")
    assert settings.webhook_queue == "hooks"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (WEBHOOK_RETRY_SCHEDULE, "5,,10"),
        (WEBHOOK_RETRY_SCHEDULE, "5,soon"),
        (WEBHOOK_RETRY_SCHEDULE, "0"),
        (WEBHOOK_RETRY_SCHEDULE, "-1"),
        (WEBHOOK_RETRY_SCHEDULE, "nan"),
        (WEBHOOK_RETRY_SCHEDULE, "700000"),
        (WEBHOOK_ALLOWED_CIDRS, "127.0.0.1/8"),
        (WEBHOOK_ALLOWED_CIDRS, "localhost"),
    ],
)
def test_bad_values_are_refused_at_start(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        NotificationSettings.from_env({name: value})


def test_the_warning_names_the_open_ranges() -> None:
    warning = NotificationSettings.from_env(
        {WEBHOOK_ALLOWED_CIDRS: "127.0.0.0/8"}
    ).allow_list_warning()
    assert warning is not None
    assert "WEBHOOK_ALLOWED_CIDRS" in warning and "127.0.0.0/8" in warning


def test_every_webhook_setting_is_in_the_sample_with_a_safe_value() -> None:
    values = json.loads(SAMPLE.read_text())["Values"]
    for name in WEBHOOK_SETTINGS:
        assert name in values
    assert values[WEBHOOK_ALLOWED_CIDRS] == ""
    assert values[LOGIC_APP_URL] == ""
    NotificationSettings.from_env({k: str(v) for k, v in values.items()})


def test_only_the_queue_name_is_required() -> None:
    """The queue trigger binds %WEBHOOK_QUEUE%, so a deployment must set it."""
    assert WEBHOOK_QUEUE not in OPTIONAL
    assert set(WEBHOOK_SETTINGS) - {WEBHOOK_QUEUE} <= OPTIONAL


def test_a_malformed_logic_app_url_stops_start_up_without_leaking_its_sas(
    tmp_path: Path,
) -> None:
    from kernel.platform import Platform
    from kernel.settings import PlatformSettings, StorageSettings
    from notifications.runtime import build_notifications

    settings = NotificationSettings(logic_app_urls=("ftp://logic.example/x?sig=SECRETSIG",))
    shared = Platform(PlatformSettings(storage=StorageSettings(data_dir=tmp_path)))
    with pytest.raises(SettingsError, match="LOGIC_APP_URL") as caught:
        build_notifications(settings, shared)
    assert "SECRETSIG" not in str(caught.value)
