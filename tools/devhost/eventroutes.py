"""The Event Grid subscription map shared with infra
(``infra/event-subscriptions.json``) and Event Grid's filter semantics.

Filters follow Event Grid: event types, subject prefix/suffix and advanced
filters compare strings case-insensitively; an advanced filter on a missing
key does not match (except the ``IsNullOrUndefined`` family).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOPIC = "topic"
STORAGE = "storage"

_INBOX_SUBJECT = re.compile(r"^(/blobServices/default/containers/)[^/]+(/.*)?$")

#: The repository's map; the dev host sits beside infra/ in the checkout.
DEFAULT_EVENT_SUBSCRIPTIONS_FILE = (
    Path(__file__).resolve().parents[2] / "infra" / "event-subscriptions.json"
)


class EventSubscriptionError(ValueError):
    """The subscription map is malformed or uses a filter the host lacks."""


@dataclass(frozen=True, slots=True)
class AdvancedFilter:
    operator: str
    key: str
    values: tuple[Any, ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        found, value = _lookup(event, self.key)
        test = _OPERATORS[self.operator.lower()]
        return test(found, value, self.values)


@dataclass(frozen=True, slots=True)
class EventSubscription:
    name: str
    source: str
    function: str
    included_event_types: tuple[str, ...] | None
    subject_begins_with: str = ""
    subject_ends_with: str = ""
    advanced_filters: tuple[AdvancedFilter, ...] = ()

    def matches(self, event: Mapping[str, Any]) -> bool:
        event_type = str(event.get("type", event.get("eventType", "")))
        subject = str(event.get("subject") or "")
        if self.included_event_types is not None and event_type.lower() not in {
            t.lower() for t in self.included_event_types
        }:
            return False
        if not subject.lower().startswith(self.subject_begins_with.lower()):
            return False
        if not subject.lower().endswith(self.subject_ends_with.lower()):
            return False
        return all(f.matches(event) for f in self.advanced_filters)


@dataclass(frozen=True, slots=True)
class EventSubscriptionMap:
    subscriptions: tuple[EventSubscription, ...]
    max_delivery_attempts: int = 30
    event_ttl_minutes: int = 1440

    def route(self, event: Mapping[str, Any], source: str) -> list[EventSubscription]:
        return [s for s in self.subscriptions if s.source == source and s.matches(event)]


def load_event_subscriptions(path: Path, *, inbox_container: str = "inbox") -> EventSubscriptionMap:
    """Read the map; storage subscriptions' ``subjectBeginsWith`` container
    segment is replaced by ``inbox_container`` (the watcher's container)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EventSubscriptionError(f"cannot read {path}: {exc}") from None
    retry = doc.get("retryPolicy") or {}
    subscriptions = []
    for entry in doc.get("subscriptions") or []:
        subscriptions.append(_parse_subscription(entry, inbox_container))
    names = [s.name for s in subscriptions]
    if len(set(names)) != len(names):
        raise EventSubscriptionError(f"{path}: subscription names must be unique")
    return EventSubscriptionMap(
        subscriptions=tuple(subscriptions),
        max_delivery_attempts=_positive(retry, "maxDeliveryAttempts", 30),
        event_ttl_minutes=_positive(retry, "eventTimeToLiveInMinutes", 1440),
    )


def _parse_subscription(entry: Mapping[str, Any], inbox_container: str) -> EventSubscription:
    try:
        name, source, function = str(entry["name"]), str(entry["source"]), str(entry["function"])
    except KeyError as exc:
        raise EventSubscriptionError(f"subscription lacks {exc.args[0]!r}: {entry!r}") from None
    if source not in {TOPIC, STORAGE}:
        raise EventSubscriptionError(f"subscription {name}: source must be topic or storage")
    types = entry.get("includedEventTypes")
    begins = str(entry.get("subjectBeginsWith") or "")
    if source == STORAGE and begins:
        begins = _INBOX_SUBJECT.sub(
            lambda m: m.group(1) + inbox_container + (m.group(2) or ""), begins
        )
    filters = []
    for spec in entry.get("advancedFilters") or []:
        operator = str(spec.get("operatorType", ""))
        if operator.lower() not in _OPERATORS:
            raise EventSubscriptionError(f"subscription {name}: unsupported filter {operator!r}")
        values = spec.get("values", [spec["value"]] if "value" in spec else [])
        filters.append(AdvancedFilter(operator, str(spec.get("key", "")), tuple(values)))
    return EventSubscription(
        name=name,
        source=source,
        function=function,
        included_event_types=None if types is None else tuple(str(t) for t in types),
        subject_begins_with=begins,
        subject_ends_with=str(entry.get("subjectEndsWith") or ""),
        advanced_filters=tuple(filters),
    )


def _positive(doc: Mapping[str, Any], key: str, default: int) -> int:
    value = doc.get(key, default)
    if not isinstance(value, int) or value < 1:
        raise EventSubscriptionError(f"retryPolicy.{key} must be a positive integer")
    return value


def _lookup(event: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """Event Grid keys: a top-level field or a dotted path such as ``data.api``."""
    current: Any = event
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v).lower() for v in items if v is not None]


def _numbers(value: Any) -> list[float]:
    items = value if isinstance(value, list) else [value]
    return [float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)]


def _string_test(test: Callable[[str, str], bool], negate: bool = False) -> _Operator:
    def run(found: bool, value: Any, values: Sequence[Any]) -> bool:
        if not found:
            return negate
        wanted = [str(v).lower() for v in values]
        hit = any(test(s, w) for s in _strings(value) for w in wanted)
        return not hit if negate else hit

    return run


def _number_test(test: Callable[[float, float], bool]) -> _Operator:
    def run(found: bool, value: Any, values: Sequence[Any]) -> bool:
        return found and any(test(n, float(v)) for n in _numbers(value) for v in values)

    return run


def _number_in(negate: bool) -> _Operator:
    def run(found: bool, value: Any, values: Sequence[Any]) -> bool:
        if not found:
            return negate
        hit = any(n == float(v) for n in _numbers(value) for v in values)
        return not hit if negate else hit

    return run


_Operator = Callable[[bool, Any, Sequence[Any]], bool]

_OPERATORS: dict[str, _Operator] = {
    "stringin": _string_test(lambda s, w: s == w),
    "stringnotin": _string_test(lambda s, w: s == w, negate=True),
    "stringbeginswith": _string_test(str.startswith),
    "stringnotbeginswith": _string_test(str.startswith, negate=True),
    "stringendswith": _string_test(str.endswith),
    "stringnotendswith": _string_test(str.endswith, negate=True),
    "stringcontains": _string_test(lambda s, w: w in s),
    "stringnotcontains": _string_test(lambda s, w: w in s, negate=True),
    "numberin": _number_in(negate=False),
    "numbernotin": _number_in(negate=True),
    "numberlessthan": _number_test(lambda n, v: n < v),
    "numberlessthanorequals": _number_test(lambda n, v: n <= v),
    "numbergreaterthan": _number_test(lambda n, v: n > v),
    "numbergreaterthanorequals": _number_test(lambda n, v: n >= v),
    "boolequals": lambda found, value, values: found and bool(values) and value is values[0],
    "isnullorundefined": lambda found, value, values: not found or value is None,
    "isnotnull": lambda found, value, values: found and value is not None,
}
