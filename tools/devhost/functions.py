"""The app's functions as the host sees them: the trigger binding from the
decorators, and a call that passes arguments the way the Python worker does."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tools.devhost.context import InvocationContext, set_invocation_id

log = logging.getLogger(__name__)

HTTP_TRIGGER = "httpTrigger"
EVENT_GRID_TRIGGER = "eventGridTrigger"
QUEUE_TRIGGER = "queueTrigger"
TIMER_TRIGGER = "timerTrigger"
SUPPORTED_TRIGGERS = frozenset({HTTP_TRIGGER, EVENT_GRID_TRIGGER, QUEUE_TRIGGER, TIMER_TRIGGER})

_SETTING_REFERENCE = re.compile(r"^%([^%]+)%$")


class IndexingError(ValueError):
    """The app defines something the local host cannot run faithfully."""


class FunctionLike(Protocol):
    def get_function_name(self) -> str | None: ...

    def get_raw_bindings(self) -> list[str]: ...

    def get_user_function(self) -> Callable[..., Any]: ...


class FunctionAppLike(Protocol):
    """``azure.functions.FunctionApp`` (or anything with its ``get_functions``)."""

    def get_functions(self) -> Sequence[FunctionLike]: ...


@dataclass(frozen=True, slots=True)
class HostedFunction:
    name: str
    trigger: Mapping[str, Any]
    user_function: Callable[..., Any]
    wants_context: bool
    #: The folder of the function's source file: the worker's function_directory.
    directory: str

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    @property
    def argument_name(self) -> str:
        return str(self.trigger["name"])


_indexed: weakref.WeakKeyDictionary[Any, Sequence[FunctionLike]] = weakref.WeakKeyDictionary()
_indexing = threading.Lock()


def app_functions(app: FunctionAppLike) -> Sequence[FunctionLike]:
    """The app's indexed functions, indexed once per app (shared by the host and tests)."""
    # FunctionApp.get_functions() raises "not a unique function name" when
    # called twice (it remembers the names it has seen), so index each app once.
    with _indexing:
        if app not in _indexed:
            _indexed[app] = app.get_functions()
        return _indexed[app]


def index_functions(app: FunctionAppLike) -> list[HostedFunction]:
    """The app's functions with supported triggers; others are logged and skipped."""
    hosted: list[HostedFunction] = []
    for function in app_functions(app):
        user_function = function.get_user_function()
        name = function.get_function_name() or user_function.__name__
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        triggers = [b for b in bindings if str(b.get("type", "")).endswith("Trigger")]
        if len(triggers) != 1:
            raise IndexingError(f"function {name} has {len(triggers)} triggers, expected one")
        trigger = triggers[0]
        extra = [
            b
            for b in bindings
            if b is not trigger and not (b.get("type") == "http" and b.get("name") == "$return")
        ]
        if trigger["type"] not in SUPPORTED_TRIGGERS or extra:
            log.warning(
                "function %s skipped: the dev host supports %s triggers without other bindings",
                name,
                ", ".join(sorted(SUPPORTED_TRIGGERS)),
                extra={"function": name, "trigger": trigger["type"]},
            )
            continue
        hosted.append(
            HostedFunction(
                name=name,
                trigger=trigger,
                user_function=user_function,
                wants_context="context" in _worker_parameters(name, user_function),
                directory=str(Path(inspect.getfile(user_function)).parent),
            )
        )
    return hosted


def _worker_parameters(name: str, user_function: Callable[..., Any]) -> set[str]:
    """The parameters the Python worker sees: like it, follow ``__wrapped__``.

    A ``functools.wraps`` wrapper whose own signature differs is called with the
    wrapped function's parameters only; warn when that leaves out a required one."""
    seen = set(inspect.signature(user_function).parameters)
    own = inspect.signature(user_function, follow_wrapped=False).parameters
    hidden = [
        p
        for p in own.values()
        if p.name not in seen
        and p.default is p.empty
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if hidden:
        log.warning(
            "function %s: its signature, read through __wrapped__ as the Python worker reads"
            " it, lacks required parameter(s) %s, so the worker (and this host) will not pass"
            " them; drop functools.wraps or set the wrapper's __signature__",
            name,
            ", ".join(p.name for p in hidden),
            extra={"function": name},
        )
    return seen


def call_function(function: HostedFunction, argument: object, context: InvocationContext) -> Any:
    """Call the user function with its trigger argument (and ``context`` if it
    declares one); coroutine functions run to completion on a fresh event loop."""
    kwargs: dict[str, Any] = {function.argument_name: argument}
    if function.wants_context:
        kwargs["context"] = context
    set_invocation_id(context.invocation_id)
    result = function.user_function(**kwargs)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return result


def resolve_setting(value: str, environ: Mapping[str, str] | None = None) -> str:
    """Binding values written as ``%NAME%`` name an app setting, as in Azure."""
    match = _SETTING_REFERENCE.match(value)
    if not match:
        return value
    env = os.environ if environ is None else environ
    resolved = env.get(match.group(1))
    if resolved is None:
        raise IndexingError(f"binding refers to app setting {match.group(1)}, which is not set")
    return resolved
