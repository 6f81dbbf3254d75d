"""OData ``$filter`` expressions for Azure AI Search, built from typed values only.

Strings become string literals with every single quote doubled (the OData
escape), timestamps are formatted here in UTC; no caller text is ever pasted
into an expression as syntax.
"""

from __future__ import annotations

from datetime import UTC, datetime

from search.records import Filters


def string_literal(value: str) -> str:
    """``value`` as an OData string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + value.replace("'", "''") + "'"


def time_literal(value: datetime) -> str:
    """A ``DateTimeOffset`` literal in UTC (``2024-05-01T12:00:00.000000Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def equals(field: str, value: str) -> str:
    return f"{field} eq {string_literal(value)}"


def owner_filter(owner: str, filters: Filters) -> str:
    """The owner's chunks that meet ``filters``: the filter of every query."""
    clauses = [equals("owner", owner)]
    for field, value in (
        ("content_type", filters.content_type),
        ("filename", filters.filename),
        ("document_id", filters.document_id),
    ):
        if value is not None:
            clauses.append(equals(field, value))
    if filters.created_after is not None:
        clauses.append(f"created_at ge {time_literal(filters.created_after)}")
    if filters.created_before is not None:
        clauses.append(f"created_at lt {time_literal(filters.created_before)}")
    if filters.entity_type is not None:
        clauses.append(f"entity_types/any(t: t eq {string_literal(filters.entity_type)})")
    return " and ".join(clauses)
