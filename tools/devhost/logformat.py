"""Console log lines with the structured fields a record carries.

Azure Monitor turns a record's extra attributes into custom dimensions; on the
console this formatter shows them as ``key=value`` after the event name, so a
developer sees the same fields (document_id, invocation_id, traceparent, ...).
"""

from __future__ import annotations

import logging

# Attributes every LogRecord has; anything else came from `extra` or the log context.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class FieldsFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(
            f"{key}={value}"
            for key, value in sorted(vars(record).items())
            if key not in _STANDARD and not key.startswith("_")
        )
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # keep tracebacks below the fields
        return f"{head} {fields}{newline}{rest}"
