"""Azure Storage's naming and size rules, checked before any I/O.

Both adapters apply them, so the embedded store refuses what Azure would
refuse (with the same error) instead of letting code pass locally and fail
in the cloud; in the embedded store they also keep names from escaping its
folder.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from kernel.errors import InvalidNameError, InvalidValueError

# Containers and queues: 3-63 lowercase letters, digits and single hyphens.
_CONTAINER = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")
_TABLE = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
_KEY_FORBIDDEN = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")

MAX_BLOB_NAME = 1024
#: Row properties Azure Tables sets itself, or that reads add.
RESERVED_PROPERTIES = frozenset({"PartitionKey", "RowKey", "Timestamp", "etag"})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_STRING_UTF16 = 64 * 1024
#: Queue messages are base64-encoded (for the Functions trigger) and capped at 64 KiB.
MAX_MESSAGE_BYTES = 48 * 1024
MAX_VISIBILITY_TIMEOUT = 7 * 24 * 3600
MAX_RECEIVE = 32


def check_container_name(name: str) -> str:
    """``name`` if it is a valid blob container name."""
    if not _CONTAINER.fullmatch(name):
        raise InvalidNameError(f"invalid container name {name!r}")
    return name


def check_queue_name(name: str) -> str:
    """``name`` if it is a valid queue name (same rules as containers)."""
    if not _CONTAINER.fullmatch(name):
        raise InvalidNameError(f"invalid queue name {name!r}")
    return name


def check_table_name(name: str) -> str:
    """``name`` if it is a valid table name."""
    if not _TABLE.fullmatch(name) or name.lower() == "tables":
        raise InvalidNameError(f"invalid table name {name!r}")
    return name


def check_blob_name(name: str) -> str:
    """``name`` if it is a non-empty blob name of at most 1024 characters."""
    if not name or len(name) > MAX_BLOB_NAME:
        raise InvalidNameError("a blob name must have 1 to 1024 characters")
    return name


def split_blob_path(name: str) -> list[str]:
    """The folder segments a blob name maps to in the embedded store.

    Refuses what could leave the container folder or collide with the
    filesystem's own entries: absolute names, backslashes, control
    characters, empty segments and segments starting with a dot (``.``,
    ``..`` and hidden files such as ``.DS_Store``, which listings skip).
    """
    check_blob_name(name)
    if "\\" in name or _CONTROL.search(name):
        raise InvalidNameError(f"blob name {name!r} has a backslash or control character")
    segments = name.split("/")
    if any(not segment or segment.startswith(".") for segment in segments):
        raise InvalidNameError(
            f"blob name {name!r} is absolute, has an empty segment or one starting with '.'"
        )
    return segments


def check_key(kind: str, value: object) -> str:
    """A PartitionKey or RowKey if Azure Tables accepts it."""
    if not isinstance(value, str):
        raise InvalidNameError(f"{kind} must be a string")
    if _KEY_FORBIDDEN.search(value):
        raise InvalidNameError(f"{kind} {value!r} contains '/', '\\', '#', '?' or a control char")
    return value


def check_property_name(name: str) -> str:
    """``name`` if it can name a row property or blob metadata item."""
    if not _IDENTIFIER.fullmatch(name):
        raise InvalidNameError(f"invalid property name {name!r}")
    return name


def normalize_row(row: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """``(partition_key, row_key, properties)`` from a row to write.

    The ``etag`` a read added is dropped, so a read row can be written
    back; properties set to ``None`` are dropped, as Azure Tables has no
    null (reads return them absent).
    """
    if "PartitionKey" not in row or "RowKey" not in row:
        raise InvalidNameError("a row needs a PartitionKey and a RowKey")
    partition_key = check_key("PartitionKey", row["PartitionKey"])
    row_key = check_key("RowKey", row["RowKey"])
    properties: dict[str, Any] = {}
    for name, value in row.items():
        if name in ("PartitionKey", "RowKey", "etag") or value is None:
            continue
        if name == "Timestamp":
            raise InvalidNameError("Timestamp is set by the table service")
        check_property_name(name)
        properties[name] = check_property_value(name, value)
    return partition_key, row_key, properties


def check_property_value(name: str, value: object) -> str | int | float | bool:
    """``value`` if it is a scalar Azure Tables can store."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise InvalidValueError(f"property {name!r} is outside the 64-bit integer range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            # JSON, and so the embedded store, has no NaN or infinity.
            raise InvalidValueError(f"property {name!r} is not a finite number")
        return value
    if isinstance(value, str):
        # UTF-16 takes 2 to 4 bytes a character: encode only when it could matter.
        if len(value) * 4 > _MAX_STRING_UTF16 and len(value.encode("utf-16-le")) > (
            _MAX_STRING_UTF16
        ):
            raise InvalidValueError(f"property {name!r} is longer than 64 KiB")
        return value
    raise InvalidValueError(
        f"property {name!r} is a {type(value).__name__}; use str, int, float, bool or None"
    )


def check_equals(equals: Mapping[str, str | int | bool] | None) -> dict[str, str | int | bool]:
    """The property filters of a query, with names checked."""
    checked: dict[str, str | int | bool] = {}
    for name, value in (equals or {}).items():
        if name in RESERVED_PROPERTIES:
            raise InvalidNameError(f"cannot filter on {name!r}; use the key arguments")
        check_property_name(name)
        if isinstance(value, float) or not isinstance(value, str | int):
            raise InvalidValueError(f"filter on {name!r} must be a str, int or bool")
        checked[name] = check_property_value(name, value)  # type: ignore[assignment]
    return checked


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Blob metadata: identifier names, printable ASCII values (they travel as headers)."""
    checked: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        check_property_name(name)
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise InvalidValueError(f"metadata {name!r} must be printable ASCII")
        checked[name] = value
    return checked


def check_message(content: str) -> str:
    """Queue message text that fits Azure's 64 KiB once base64-encoded."""
    if len(content.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise InvalidValueError("a queue message may hold at most 48 KiB of UTF-8 text")
    return content


def check_visibility(seconds: int, *, minimum: int) -> int:
    """A visibility timeout within Azure's range."""
    if not minimum <= seconds <= MAX_VISIBILITY_TIMEOUT:
        raise InvalidValueError(
            f"visibility_timeout must be {minimum} to {MAX_VISIBILITY_TIMEOUT} seconds"
        )
    return seconds


def check_max_messages(count: int) -> int:
    """A receive batch size within Azure's 1 to 32."""
    if not 1 <= count <= MAX_RECEIVE:
        raise InvalidValueError(f"max_messages must be 1 to {MAX_RECEIVE}")
    return count
