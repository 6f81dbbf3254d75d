"""Timer triggers: each runs on its NCRONTAB schedule (UTC, as Azure's
default), never overlapping itself; ``runOnStartup`` fires once at start."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter

from tools.devhost.context import InvocationContext
from tools.devhost.functions import HostedFunction, call_function, resolve_setting
from tools.devhost.ncrontab import Schedule, parse_schedule

log = logging.getLogger(__name__)

#: An occurrence handled later than this counts as past due.
PAST_DUE_SECONDS = 1.0
_NEVER = "0001-01-01T00:00:00"


class TimerRunner:
    def __init__(self, function: HostedFunction) -> None:
        self._function = function
        self.schedule: Schedule = parse_schedule(resolve_setting(str(function.trigger["schedule"])))
        self._run_on_startup = bool(function.trigger.get("runOnStartup"))
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"devhost-timer-{function.name}", daemon=True
        )
        self._last: datetime | None = None

    @property
    def name(self) -> str:
        return self._function.name

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        if self._run_on_startup:
            self.fire(datetime.now(UTC))
        scheduled = self.schedule.next_after(datetime.now(UTC))
        while not self._stopping.wait(max(0.0, (scheduled - datetime.now(UTC)).total_seconds())):
            self.fire(scheduled)
            scheduled = self.schedule.next_after(max(scheduled, datetime.now(UTC)))

    def fire(self, scheduled: datetime) -> None:
        now = datetime.now(UTC)
        upcoming = self.schedule.next_after(now)
        payload = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": {
                "Last": self._last.isoformat() if self._last else _NEVER,
                "Next": upcoming.isoformat(),
                "LastUpdated": now.isoformat(),
            },
            "IsPastDue": (now - scheduled).total_seconds() > PAST_DUE_SECONDS,
        }
        request = TimerRequestConverter.decode(
            Datum(type="json", value=json.dumps(payload)), trigger_metadata={}
        )
        context = InvocationContext(
            function_name=self._function.name, function_directory=self._function.directory
        )
        try:
            call_function(self._function, request, context)
        except Exception:
            log.exception("timer function %s failed", self._function.name)
        else:
            log.info("timer %s ran", self._function.name, extra={"function": self._function.name})
        self._last = now
