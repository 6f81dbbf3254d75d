"""Notifications: forwarding completion events to webhooks and Logic Apps.

Importing the package is cheap; the services are built on first use
(:func:`notifications.runtime.notifications`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from processing.settings import Settings


def settings_warning(settings: Settings | None = None) -> str | None:
    """The warning a host logs at start-up while ``WEBHOOK_ALLOWED_CIDRS``
    opens the SSRF policy (None while the allow-list is empty). Reads the
    process's settings unless given some."""
    from processing.settings import WEBHOOK_ALLOWED_CIDRS, get_settings

    networks = (settings or get_settings()).webhook_allowed_cidrs
    if not networks:
        return None
    shown = ", ".join(str(n) for n in networks)
    return (
        f"{WEBHOOK_ALLOWED_CIDRS} is set ({shown}): webhooks may target these addresses,"
        " bypassing the SSRF policy, and plain http is accepted towards them."
        " Leave it empty outside local development."
    )
