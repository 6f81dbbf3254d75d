"""W3C Trace Context: the ``traceparent`` that ties upload, processing and
notification into one trace.

When OpenTelemetry has an active span (Azure Monitor configured), its context
is used; otherwise a child of the inbound ``traceparent`` is derived, keeping
the trace id, so the chain holds even without a tracer.
"""

from __future__ import annotations

import re
import secrets

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_INVALID_TRACE = "0" * 32
_INVALID_SPAN = "0" * 16


def parse_traceparent(value: str | None) -> tuple[str, str, str] | None:
    """``(trace_id, parent_id, flags)`` of a valid version-00 header, else ``None``."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if not match:
        return None
    trace_id, parent_id, flags = match.groups()
    if trace_id == _INVALID_TRACE or parent_id == _INVALID_SPAN:
        return None
    return trace_id, parent_id, flags


def child_traceparent(parent: str | None) -> str:
    """A traceparent for work caused by ``parent`` (a new trace if there is none)."""
    active = _active_span_traceparent()
    if active is not None:
        return active
    parsed = parse_traceparent(parent)
    trace_id, flags = (parsed[0], parsed[2]) if parsed else (secrets.token_hex(16), "01")
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def _active_span_traceparent() -> str | None:
    try:
        from opentelemetry import trace
    except ImportError:  # telemetry is optional for the core and the CLI
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
