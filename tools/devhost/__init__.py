"""A local stand-in for the Azure Functions host and Event Grid.

``python -m tools.devhost`` serves ``function_app:app`` like ``func start``; tests
start :class:`DevHost` in-process. See :mod:`devhost.host`.
"""

from __future__ import annotations

from tools.devhost.config import HostOptions
from tools.devhost.host import DevHost

__all__ = ["DevHost", "HostOptions"]
