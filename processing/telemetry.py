"""Telemetry start-up: Azure Monitor through OpenTelemetry, only when configured.

The Python worker configures Azure Monitor itself when
``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY`` is true (what infra sets);
otherwise, with a connection string present, the app does it. Locally neither
is set and nothing is imported, which keeps cold start cheap.
"""

from __future__ import annotations

import os

APPLICATIONINSIGHTS_CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
WORKER_MANAGED = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"


def configure() -> bool:
    """Start exporting logs and traces if a connection string is set; returns whether it did."""
    if not os.environ.get(APPLICATIONINSIGHTS_CONNECTION_STRING):
        return False
    if os.environ.get(WORKER_MANAGED, "").lower() == "true":
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor()
    return True
