"""Webhook egress cannot be turned on the app itself or on other services:
self-loops, other ports, slow DNS and unbounded registrations are refused, and
URL secrets in paths never reach a listing or a log line."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from kernel.egress.addresses import (
    AddressPolicy,
    OwnEndpointError,
    PortNotAllowedError,
    UnresolvableHostError,
    timed_resolver,
)
from kernel.env import parse_cidrs
from kernel.settings import PlatformSettings
from notifications.errors import SubscriptionQuotaError, TargetNotAllowedError
from tests.support.webhooks import FixedResolver, Reply, make_harness, receiving

PUBLIC = "93.184.215.14"
APP_ADDRESS = "20.50.2.10"


def policy(**kwargs: object) -> AddressPolicy:
    resolver = FixedResolver(
        {
            "hooks.example.test": [PUBLIC],
            "docflow.azurewebsites.net": [APP_ADDRESS],
            "alias.example.test": [APP_ADDRESS],
        }
    )
    own = PlatformSettings.from_env({"WEBSITE_HOSTNAME": "docflow.azurewebsites.net"}).own_endpoints
    return AddressPolicy((), resolver, ports=(443, 8443), own_endpoints=own, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "https://docflow.azurewebsites.net/api/documents?code=KEY",
        "https://DOCFLOW.azurewebsites.net./api/documents",
        "https://alias.example.test/api/documents",  # another name for the app's address
        f"https://{APP_ADDRESS}/api/documents",
    ],
)
def test_the_app_itself_is_never_a_target(url: str) -> None:
    """The reviewed finding: a subscription to the app's own upload route turned
    every notice into a new upload."""
    with pytest.raises(OwnEndpointError):
        policy().vet(url)


def test_the_apps_name_on_another_port_is_not_the_app() -> None:
    # The app listens on 443 only; 8443 on its address is someone else's service.
    assert policy().vet(f"https://{APP_ADDRESS}:8443/hook").addresses


@pytest.mark.parametrize("port", [22, 25, 80, 6379, 9200])
def test_ports_other_than_443_and_8443_are_refused(port: int) -> None:
    with pytest.raises(PortNotAllowedError):
        policy().vet(f"https://hooks.example.test:{port}/hook")
    assert policy().vet("https://hooks.example.test:8443/hook").url.port == 8443


def test_the_allow_list_lifts_the_port_rule_for_its_addresses_only() -> None:
    local = AddressPolicy(parse_cidrs("127.0.0.0/8"), ports=(443,))
    assert local.vet("http://127.0.0.1:9000/hook").url.port == 9000
    with pytest.raises(PortNotAllowedError):
        AddressPolicy((), FixedResolver({"h.test": [PUBLIC]}), ports=(443,)).vet(
            "https://h.test:9000/"
        )


def test_a_resolver_that_hangs_is_cut_off() -> None:
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(10)
        return [PUBLIC]

    resolve = timed_resolver(hanging, 0.1)
    try:
        with pytest.raises(UnresolvableHostError, match="did not resolve within"):
            resolve("slow.example.test", 443)
    finally:
        release.set()


def test_the_local_hosts_own_port_is_refused_but_a_receiver_beside_it_is_not(
    tmp_path: Path,
) -> None:
    """Locally the app is http://127.0.0.1:7071: a receiver on another loopback
    port is fine, the app's own port is not."""
    harness = make_harness(tmp_path)
    service = harness.notifications.subscriptions
    assert service.register("http://127.0.0.1:9000/hook").url.endswith(":9000/hook")
    with pytest.raises(TargetNotAllowedError):
        service.register("http://127.0.0.1:7071/api/documents")
    with pytest.raises(TargetNotAllowedError):
        service.register("http://localhost:7071/api/documents")


def test_registrations_are_capped(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, max_subscriptions=2)
    service = harness.notifications.subscriptions
    service.register("http://127.0.0.1:9000/a")
    service.register("http://127.0.0.1:9000/b")
    with pytest.raises(SubscriptionQuotaError):
        service.register("http://127.0.0.1:9000/c")


SLACK_TOKEN = "XyZ9abcDEF0123ghiJKL4567"


def test_path_tokens_stay_out_of_listings_deliveries_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The reviewed finding: GET /api/subscriptions returned every URL whole,
    and path tokens (Slack, Discord, Teams) survived log redaction."""
    harness = make_harness(tmp_path)
    slack_url = f"https://hooks.slack.com/services/T0123ABCD/B0456EFGH/{SLACK_TOKEN}"
    with receiving(Reply(500, body=f"bad request to {slack_url}".encode())) as receiver:
        url = receiver.url(f"/services/T0123ABCD/B0456EFGH/{SLACK_TOKEN}")
        with caplog.at_level(logging.DEBUG):
            created = harness.notifications.subscriptions.register(url)
            assert created.to_api(with_secret=True)["url"] == url  # the owner's own answer
            harness.notifications.fanout.fan_out(
                {
                    "specversion": "1.0",
                    "id": "e1",
                    "source": "/d",
                    "type": "document.processing.completed",
                    "data": {},
                }
            )
            harness.drain(settle=0.2)
    listed = [s.to_api() for s in harness.notifications.subscriptions.page(after=None, limit=10)]
    attempts = harness.notifications.replay.attempts(created.id, after=None, limit=10)
    shown = repr(listed) + repr([a.to_api() for _, a in attempts]) + caplog.text
    assert SLACK_TOKEN not in shown
    assert "/services/T0123ABCD/B0456EFGH/redacted" in repr(listed)
