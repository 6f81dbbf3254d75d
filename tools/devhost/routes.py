"""ASP.NET-style route templates, as the Functions host matches them.

``{name}``, optional ``{name?}``, defaults ``{name=value}``, catch-all
``{*rest}`` and constraints ``{id:int}``/``{id:guid}``/``{n:min(1)}`` (several
may be chained; unknown ones are ignored). Literals match case-insensitively;
a more specific route wins (literal > complex segment > constrained
parameter > parameter > catch-all, segment by segment), as in ASP.NET.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")

_PARAMETER = re.compile(r"\{([^{}]*)\}")


class RouteError(ValueError):
    """A route template the host cannot parse."""


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    optional: bool
    catch_all: bool
    default: str | None
    constraints: tuple[Callable[[str], bool], ...]


@dataclass(frozen=True, slots=True)
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[_Parameter, ...]
    precedence: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for ``path`` (percent-encoded, starting with "/"), or None."""
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        values: dict[str, str] = {}
        for index, parameter in enumerate(self.parameters):
            raw = found.group(f"p{index}")
            if raw is None or raw == "":
                if parameter.default is not None:
                    values[parameter.name] = parameter.default
                continue
            value = unquote(raw)
            if not all(check(value) for check in parameter.constraints):
                return None
            values[parameter.name] = value
        return values


def parse_template(template: str) -> RouteTemplate:
    segments = [s for s in template.strip().strip("/").split("/")] if template.strip("/") else []
    regex: list[str] = []
    parameters: list[_Parameter] = []
    precedence: list[int] = []
    for position, segment in enumerate(segments):
        if not segment:
            raise RouteError(f"route {template!r} has an empty segment")
        parts = _split_segment(segment)
        last = position == len(segments) - 1
        if len(parts) == 1 and isinstance(parts[0], _Parameter):
            parameter = parts[0]
            if parameter.catch_all and not last:
                raise RouteError(f"catch-all parameter must be last in {template!r}")
            group = f"(?P<p{len(parameters)}>{'.*' if parameter.catch_all else '[^/]+'})"
            optional = parameter.optional or parameter.default is not None or parameter.catch_all
            regex.append(f"(?:/{group})?" if optional else f"/{group}")
            parameters.append(parameter)
            precedence.append(5 if parameter.catch_all else 3 if parameter.constraints else 4)
            continue
        pieces: list[str] = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(re.escape(part))
            else:
                if part.catch_all:
                    raise RouteError(f"catch-all must be a whole segment in {template!r}")
                quantifier = "*" if part.optional else "+"
                pieces.append(f"(?P<p{len(parameters)}>[^/]{quantifier}?)")
                parameters.append(part)
        regex.append("/" + "".join(pieces))
        precedence.append(1 if all(isinstance(p, str) for p in parts) else 2)
    names = [p.name.lower() for p in parameters]
    if len(set(names)) != len(names):
        raise RouteError(f"route {template!r} repeats a parameter name")
    pattern = re.compile("".join(regex) + "/?", re.IGNORECASE)
    return RouteTemplate(template, pattern, tuple(parameters), tuple(precedence))


def _split_segment(segment: str) -> list[str | _Parameter]:
    parts: list[str | _Parameter] = []
    position = 0
    for found in _PARAMETER.finditer(segment):
        if found.start() > position:
            parts.append(segment[position : found.start()])
        parts.append(_parse_parameter(found.group(1)))
        position = found.end()
    if position < len(segment):
        parts.append(segment[position:])
    for text in parts:
        if isinstance(text, str) and ("{" in text or "}" in text):
            raise RouteError(f"unbalanced braces in route segment {segment!r}")
    return parts


def _parse_parameter(spec: str) -> _Parameter:
    catch_all = spec.startswith("*")
    spec = spec.lstrip("*")
    default: str | None = None
    if "=" in spec:
        spec, default = spec.split("=", 1)
    optional = spec.endswith("?")
    spec = spec.rstrip("?")
    name, *constraint_specs = _split_constraints(spec)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise RouteError(f"invalid route parameter name {name!r}")
    constraints = tuple(c for c in (_constraint(s) for s in constraint_specs) if c is not None)
    return _Parameter(name, optional, catch_all, default, constraints)


def _split_constraints(spec: str) -> list[str]:
    """Split ``name:c1:c2(args)`` on colons outside parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in spec:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == ":" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _is_int(value: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", value) is not None


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


_SIMPLE: Mapping[str, Callable[[str], bool]] = {
    "int": lambda v: _is_int(v) and -(2**31) <= int(v) < 2**31,
    "long": lambda v: _is_int(v) and -(2**63) <= int(v) < 2**63,
    "bool": lambda v: v.lower() in {"true", "false"},
    "guid": _is_guid,
    "alpha": lambda v: re.fullmatch(r"[A-Za-z]+", v) is not None,
    "decimal": _is_number,
    "double": _is_number,
    "float": _is_number,
    "datetime": _is_datetime,
}


def _constraint(spec: str) -> Callable[[str], bool] | None:  # noqa: PLR0911 - one per kind
    """The check for one constraint; None for constraints this host ignores."""
    name, _, args = spec.partition("(")
    name = name.strip().lower()
    args = args[:-1] if args.endswith(")") else args
    if not args:
        return _SIMPLE.get(name)
    if name == "regex":
        pattern = re.compile(args, re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    try:
        numbers = [int(a) for a in args.split(",")]
    except ValueError:
        return None
    if name == "min" and len(numbers) == 1:
        return lambda v: _is_int(v) and int(v) >= numbers[0]
    if name == "max" and len(numbers) == 1:
        return lambda v: _is_int(v) and int(v) <= numbers[0]
    if name == "range" and len(numbers) == 2:
        return lambda v: _is_int(v) and numbers[0] <= int(v) <= numbers[1]
    if name == "minlength" and len(numbers) == 1:
        return lambda v: len(v) >= numbers[0]
    if name == "maxlength" and len(numbers) == 1:
        return lambda v: len(v) <= numbers[0]
    if name == "length" and len(numbers) == 1:
        return lambda v: len(v) == numbers[0]
    if name == "length" and len(numbers) == 2:
        return lambda v: numbers[0] <= len(v) <= numbers[1]
    return None


@dataclass(frozen=True, slots=True)
class Route(Generic[T]):
    template: RouteTemplate
    methods: frozenset[str] | None  # None: every method
    target: T


@dataclass(frozen=True, slots=True)
class RouteMatch(Generic[T]):
    target: T
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class MethodNotAllowed:
    allowed: frozenset[str]


@dataclass(slots=True)
class RouteTable(Generic[T]):
    _routes: list[Route[T]] = field(default_factory=list)

    def add(self, template: str, methods: Iterable[str] | None, target: T) -> None:
        allowed = None if methods is None else frozenset(m.upper() for m in methods)
        self._routes.append(Route(parse_template(template), allowed, target))
        self._routes.sort(key=lambda r: (r.template.precedence, r.template.template.lower()))

    @property
    def routes(self) -> Sequence[Route[T]]:
        return tuple(self._routes)

    def resolve(self, method: str, path: str) -> RouteMatch[T] | MethodNotAllowed | None:
        """The most specific route for ``path`` accepting ``method``; MethodNotAllowed
        when routes match the path but none accepts the method; None when none match."""
        allowed: set[str] = set()
        for route in self._routes:
            values = route.template.match(path)
            if values is None:
                continue
            if route.methods is None or method.upper() in route.methods:
                return RouteMatch(route.target, values)
            allowed |= route.methods
        return MethodNotAllowed(frozenset(allowed)) if allowed else None
