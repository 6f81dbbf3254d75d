"""Entity recognition (to be implemented)."""

from __future__ import annotations

from processing.models import Entity


def recognize_entities(text: str, *, max_entities: int) -> tuple[Entity, ...]:
    raise NotImplementedError
