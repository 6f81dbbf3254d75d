"""Per-invocation log context: fields bound once, added to every log record.

Triggers bind ``invocation_id``, ``traceparent`` and ``document_id``; every
log line written while they are bound carries them as record attributes,
which the Azure Monitor exporter turns into custom dimensions. A field that is
bound must not also be passed in ``extra`` (logging refuses to overwrite it).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

# An immutable default: contextvars share defaults between contexts.
_FIELDS: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "log_fields", default=MappingProxyType({})
)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Bind ``fields`` to the log context for the duration of the block."""
    token = _FIELDS.set({**_FIELDS.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def bind(**fields: Any) -> None:
    """Add ``fields`` to the current context (until the enclosing :func:`bound` ends)."""
    _FIELDS.set({**_FIELDS.get(), **{k: v for k, v in fields.items() if v is not None}})


def install() -> None:
    """Make every log record carry the bound fields (idempotent).

    A record factory rather than a handler filter: it applies to every logger
    and to handlers added later (the Functions worker's, Azure Monitor's).
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_adds_log_context", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for key, value in _FIELDS.get().items():
            setattr(record, key, value)
        return record

    factory._adds_log_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
