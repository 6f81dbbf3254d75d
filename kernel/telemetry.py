"""Telemetry and log levels at start-up.

The Python worker configures Azure Monitor itself when
``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY`` is true (what infra sets);
otherwise, with a connection string present, the app does it. Locally neither
is set and nothing is imported, which keeps cold start cheap.

``LOG_LEVEL`` sets the level of the app's own loggers (the kernel and every
capability); the SDKs' loggers keep theirs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from kernel.env import Env, as_env
from kernel.errors import SettingsError

APPLICATIONINSIGHTS_CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
WORKER_MANAGED = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"
LOG_LEVEL = "LOG_LEVEL"

OPTIONAL = frozenset({APPLICATIONINSIGHTS_CONNECTION_STRING, WORKER_MANAGED, LOG_LEVEL})
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def configure(loggers: Sequence[str] = (), source: Env | Mapping[str, str] | None = None) -> bool:
    """Set the level of ``loggers`` from ``LOG_LEVEL``, and start exporting logs
    and traces if a connection string is set; returns whether it did."""
    env = as_env(source)
    level = env.text(LOG_LEVEL, "INFO").upper()
    if level not in _LEVELS:
        raise SettingsError(f"{LOG_LEVEL} must be one of {', '.join(_LEVELS)}, not {level!r}")
    for name in loggers:
        logging.getLogger(name).setLevel(level)
    worker_managed = env.raw(WORKER_MANAGED).lower() == "true"
    if not env.optional(APPLICATIONINSIGHTS_CONNECTION_STRING) or worker_managed:
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor()
    return True
