"""A local stand-in for the Azure Functions host and Event Grid.

``python -m devhost`` serves ``function_app:app`` like ``func start``; tests
start :class:`DevHost` in-process. See :mod:`devhost.host`.
"""

from __future__ import annotations

from devhost.config import HostOptions
from devhost.host import DevHost

__all__ = ["DevHost", "HostOptions"]
