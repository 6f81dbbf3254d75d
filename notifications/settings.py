"""The notifications' settings, read once into a frozen object.

Every name read here is a constant below and appears in
``local.settings.sample.json`` and in the Bicep app settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from kernel.env import Env, IPNetwork, as_env
from kernel.errors import SettingsError
from kernel.sealing import SECRETS_KEY, Keyring, development_keyring

LOGIC_APP_URL = "LOGIC_APP_URL"
WEBHOOK_QUEUE = "WEBHOOK_QUEUE"
WEBHOOK_RETRY_SCHEDULE = "WEBHOOK_RETRY_SCHEDULE"
WEBHOOK_ALLOWED_CIDRS = "WEBHOOK_ALLOWED_CIDRS"
WEBHOOK_SUBSCRIPTIONS_TABLE = "WEBHOOK_SUBSCRIPTIONS_TABLE"
WEBHOOK_DELIVERIES_TABLE = "WEBHOOK_DELIVERIES_TABLE"
WEBHOOK_ALLOWED_PORTS = "WEBHOOK_ALLOWED_PORTS"
WEBHOOK_DNS_TIMEOUT_SECONDS = "WEBHOOK_DNS_TIMEOUT_SECONDS"
WEBHOOK_MAX_SUBSCRIPTIONS = "WEBHOOK_MAX_SUBSCRIPTIONS"

#: Seconds between delivery attempts: 8 attempts over about 27.6 hours.
DEFAULT_WEBHOOK_RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
#: Azure Storage queues hide a message for at most seven days.
_MAX_RETRY_DELAY_SECONDS = 7 * 24 * 3600

#: Settings with a default, which a deployment may leave out.
OPTIONAL = frozenset(
    {
        LOGIC_APP_URL,
        WEBHOOK_RETRY_SCHEDULE,
        WEBHOOK_ALLOWED_CIDRS,
        WEBHOOK_SUBSCRIPTIONS_TABLE,
        WEBHOOK_DELIVERIES_TABLE,
        WEBHOOK_ALLOWED_PORTS,
        WEBHOOK_DNS_TIMEOUT_SECONDS,
        WEBHOOK_MAX_SUBSCRIPTIONS,
        SECRETS_KEY,
        # Not WEBHOOK_QUEUE: the queue trigger's binding names it (%WEBHOOK_QUEUE%),
        # and the Functions host refuses to index a binding whose setting is unset.
    }
)


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    #: Logic App HTTP trigger URLs (with their SAS query) that get every completion.
    logic_app_urls: tuple[str, ...] = ()
    webhook_queue: str = "webhook-deliveries"
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    #: The only exception to the webhook SSRF policy; empty by default.
    webhook_allowed_cidrs: tuple[IPNetwork, ...] = ()
    webhook_subscriptions_table: str = "webhooksubscriptions"
    webhook_deliveries_table: str = "webhookdeliveries"
    #: Ports webhooks may target outside the allow-list.
    webhook_allowed_ports: tuple[int, ...] = (443, 8443)
    #: How long resolving a webhook's host may take.
    webhook_dns_timeout_seconds: int = 3
    #: Subscriptions one owner may have at once.
    webhook_max_subscriptions: int = 100
    #: Seals the signing secrets in the subscriptions table (``SECRETS_KEY``).
    keyring: Keyring = field(default_factory=development_keyring, compare=False)

    @classmethod
    def from_env(cls, source: Env | Mapping[str, str] | None = None) -> NotificationSettings:
        env = as_env(source)
        defaults = cls()
        return cls(
            logic_app_urls=env.items(LOGIC_APP_URL),
            webhook_queue=env.text(WEBHOOK_QUEUE, defaults.webhook_queue),
            webhook_retry_schedule=parse_retry_schedule(env.raw(WEBHOOK_RETRY_SCHEDULE))
            or defaults.webhook_retry_schedule,
            webhook_allowed_cidrs=env.cidrs(WEBHOOK_ALLOWED_CIDRS),
            webhook_subscriptions_table=env.text(
                WEBHOOK_SUBSCRIPTIONS_TABLE, defaults.webhook_subscriptions_table
            ),
            webhook_deliveries_table=env.text(
                WEBHOOK_DELIVERIES_TABLE, defaults.webhook_deliveries_table
            ),
            webhook_allowed_ports=_ports(env.items(WEBHOOK_ALLOWED_PORTS))
            or defaults.webhook_allowed_ports,
            webhook_dns_timeout_seconds=env.positive_int(
                WEBHOOK_DNS_TIMEOUT_SECONDS, defaults.webhook_dns_timeout_seconds
            ),
            webhook_max_subscriptions=env.positive_int(
                WEBHOOK_MAX_SUBSCRIPTIONS, defaults.webhook_max_subscriptions
            ),
            keyring=Keyring.from_env(env),
        )

    def allow_list_warning(self) -> str | None:
        """The warning a host logs at start-up while ``WEBHOOK_ALLOWED_CIDRS``
        opens the SSRF policy (None while the allow-list is empty)."""
        if not self.webhook_allowed_cidrs:
            return None
        shown = ", ".join(str(n) for n in self.webhook_allowed_cidrs)
        return (
            f"{WEBHOOK_ALLOWED_CIDRS} is set ({shown}): webhooks may target these addresses,"
            " bypassing the SSRF policy, and plain http is accepted towards them."
            " Leave it empty outside local development."
        )


def _ports(items: tuple[str, ...]) -> tuple[int, ...]:
    ports = []
    for item in items:
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise SettingsError(f"{WEBHOOK_ALLOWED_PORTS}: {item!r} is not a port number")
        ports.append(int(item))
    return tuple(ports)


def parse_retry_schedule(raw: str) -> tuple[float, ...]:
    """Delays in seconds from ``"5,300,1800"``; empty text gives ``()``."""
    if not raw.strip():
        return ()
    delays = []
    for item in raw.split(","):
        try:
            delay = float(item.strip())
        except ValueError:
            raise SettingsError(
                f"{WEBHOOK_RETRY_SCHEDULE} must be comma-separated seconds, not {raw!r}"
            ) from None
        if not 0 < delay <= _MAX_RETRY_DELAY_SECONDS:
            raise SettingsError(
                f"{WEBHOOK_RETRY_SCHEDULE}: each delay must be above 0 and at most"
                f" {_MAX_RETRY_DELAY_SECONDS} seconds (a queue message's longest hiding)"
            )
        delays.append(delay)
    return tuple(delays)


@cache
def notification_settings() -> NotificationSettings:
    """The process's notification settings, read from the environment on first use."""
    return NotificationSettings.from_env()
