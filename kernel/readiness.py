"""Readiness: whether the services the app cannot work without answer now.

``/api/health`` is liveness (the process serves requests; it touches
nothing). Readiness asks each dependency once, in parallel, with a short
timeout and no retries: blob, table and queue storage and the event topic,
through the ``ping`` of their ports. A load balancer (Front Door's health
probe) takes an instance out of rotation while one of them does not answer.
What a failing check reports is its name and ``unavailable`` or ``timeout``,
never the error's text: that can name accounts, hosts and endpoints.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kernel.http.problems import Problem

log = logging.getLogger(__name__)

#: How long each dependency has to answer; the whole check takes about as long.
DEFAULT_TIMEOUT_SECONDS = 2.0
#: Beyond the timeout, how long the check waits for a dependency's own timeout to fire.
_GRACE_SECONDS = 0.5
#: How long one check's report answers further probes (:class:`ReadinessProbe`).
CACHE_SECONDS = 5.0

Ping = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class DependencyCheck:
    name: str
    #: ``ok``, ``unavailable`` (it answered with an error, or refused) or ``timeout``.
    status: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    checks: tuple[DependencyCheck, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]

    def to_api(self) -> dict[str, Any]:
        """The 200 body of a report that is ready."""
        return {"status": "ready", "dependencies": self._dependencies()}

    def _dependencies(self) -> list[dict[str, Any]]:
        return [
            {"name": c.name, "status": c.status, "duration_ms": c.duration_ms} for c in self.checks
        ]

    def problem(self) -> Problem:
        """The 503 for a report that is not ready: which dependencies, never why in detail."""
        return Problem(
            503,
            "dependency_unavailable",
            f"not ready: {', '.join(self.failing)} did not answer",
            headers={"Retry-After": "10", "Cache-Control": "no-store"},
            extensions={"dependencies": self._dependencies()},
        )


def check_readiness(
    pings: Mapping[str, Ping], timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> ReadinessReport:
    """Ping every dependency at once; each has ``timeout`` seconds to answer."""
    results: dict[str, DependencyCheck] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def run(name: str, ping: Ping) -> None:
        try:
            ping(timeout)
            status = "ok"
        except Exception as exc:  # any failure means "not ready"; the type is logged
            log.warning(
                "readiness.dependency_failed",
                extra={"dependency": name, "error_type": type(exc).__name__},
            )
            status = "unavailable"
        with lock:
            results[name] = DependencyCheck(name, status, _ms_since(started))

    threads = [
        threading.Thread(target=run, args=(name, ping), name=f"ready-{name}", daemon=True)
        for name, ping in pings.items()
    ]
    for thread in threads:
        thread.start()
    deadline = started + timeout + _GRACE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        checks = tuple(
            results.get(name) or DependencyCheck(name, "timeout", _ms_since(started))
            for name in pings
        )
    for check in checks:
        if check.status == "timeout":
            log.warning("readiness.dependency_timeout", extra={"dependency": check.name})
    return ReadinessReport(checks)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class ReadinessProbe:
    """:func:`check_readiness`, answered from the last report for ``ttl`` seconds.

    Front Door probes from every edge location, about as often each as its
    probe interval: one check (four requests) then serves all the probes that
    arrive within ``ttl``, and concurrent probes wait for the one check in
    flight rather than starting their own. A report is at most ``ttl`` old.
    """

    def __init__(
        self,
        pings: Callable[[], Mapping[str, Ping]],
        *,
        ttl: float = CACHE_SECONDS,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pings = pings
        self._ttl = ttl
        self._timeout = timeout
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last: tuple[float, ReadinessReport] | None = None

    def report(self) -> ReadinessReport:
        with self._lock:
            now = self._monotonic()
            if self._last is not None and now - self._last[0] < self._ttl:
                return self._last[1]
            report = check_readiness(self._pings(), self._timeout)
            self._last = (self._monotonic(), report)
            return report
