"""The real function app, with the isolated parser swapped for the one
``TEST_PARSER_TARGET`` names (``module:function``, e.g.
``tests.support.hostile_work:misbehave``) when that variable is set.

Started by the local host as ``--app tests.support.slow_app:app``, so a test can
hold documents mid-processing with certainty (a ``HANG`` document never
finishes in that parser) and then start the same host again with the real one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import cache

from function_app import app
from kernel.platform import platform
from processing import runtime
from processing.settings import processing_settings

__all__ = ["app"]

PARSER_TARGET = "TEST_PARSER_TARGET"


@cache
def _services() -> runtime.Services:
    settings = processing_settings()
    target = os.environ.get(PARSER_TARGET)
    if target:
        settings = replace(
            settings, isolation_limits=replace(settings.isolation_limits, target=target)
        )
    return runtime.build_services(settings, platform())


# processing.triggers looks the services up here on every invocation.
runtime.services = _services
