"""Whose a document is, for indexing: the one place that decides.

Records and completion events carry no owner yet; until identity (issue 11)
puts one on them, a document belongs to the local owner of
:mod:`kernel.identity`. When records and events carry ``owner``, it is used
as is: rewire :data:`FALLBACK_OWNER` or :func:`document_owner` here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kernel.identity import LOCAL_CALLER

#: The owner of documents whose record and event name none.
FALLBACK_OWNER = LOCAL_CALLER.owner


def document_owner(*sources: Mapping[str, Any] | None) -> str:
    """The first non-empty ``owner`` of ``sources`` (the record, then the event), else
    :data:`FALLBACK_OWNER`."""
    for source in sources:
        value = source.get("owner") if source else None
        if isinstance(value, str) and value:
            return value
    return FALLBACK_OWNER
