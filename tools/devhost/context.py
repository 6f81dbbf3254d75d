"""The ``context`` argument the Python worker passes to functions that declare one."""

from __future__ import annotations

import os
import threading
import uuid

from azure.functions import _abc as azf_abc

#: Shared like the worker's: user threads read ``invocation_id`` from it for logging.
_thread_local_storage = threading.local()


class TraceContext(azf_abc.TraceContext):
    def __init__(self, trace_parent: str, trace_state: str = "") -> None:
        self._trace_parent = trace_parent
        self._trace_state = trace_state

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class RpcException(azf_abc.RpcException):
    @property
    def source(self) -> str:
        return ""

    @property
    def stack_trace(self) -> str:
        return ""

    @property
    def message(self) -> str:
        return ""


class RetryContext(azf_abc.RetryContext):
    """Always zero: Event Grid and queue redeliveries are new invocations, not
    host-level retries, so Azure reports ``retry_count == 0`` for them too."""

    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> RpcException:
        return RpcException()


class InvocationContext(azf_abc.Context):
    def __init__(
        self,
        *,
        function_name: str,
        function_directory: str,
        trace_parent: str | None = None,
        trace_state: str = "",
    ) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace_context = TraceContext(trace_parent or new_trace_parent(), trace_state)
        self._retry_context = RetryContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> threading.local:  # type: ignore[override]
        # The abstract type says type[local]; the worker returns an instance, as here.
        return _thread_local_storage

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> RetryContext:
        return self._retry_context


def new_trace_parent() -> str:
    """A fresh W3C ``traceparent`` (version 00, sampled)."""
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def valid_trace_parent(value: str | None) -> str | None:
    """``value`` if it is a well-formed W3C traceparent, else None."""
    if not value:
        return None
    parts = value.strip().split("-")
    if len(parts) < 4 or [len(p) for p in parts[:4]] != [2, 32, 16, 2]:
        return None
    try:
        for part in parts[:4]:
            int(part, 16)
    except ValueError:
        return None
    if parts[1] == "0" * 32 or parts[2] == "0" * 16:
        return None
    return value.strip()


def set_invocation_id(invocation_id: str) -> None:
    _thread_local_storage.invocation_id = invocation_id
