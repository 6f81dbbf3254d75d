"""Parsing untrusted bytes in confined, single-use worker processes.

PDF and ZIP/XML parsers have a long record of hangs, memory blow-ups and
memory-safety bugs on crafted input that no size cap prevents. Each document
therefore runs in its own worker process, forked from a warm, clean fork
server (the zygote) that never touches a document, and confined before it
reads one (:mod:`~.confine`): resource limits, no privileges, Landlock and
seccomp where the platform has them, and an environment holding no secret.
What comes back is JSON with a size cap, checked field by field, never
pickle. See :mod:`~.pool` (host side) and :mod:`~.zygote`.
"""

from __future__ import annotations

from processing.extraction.isolation.pool import IsolatedPipeline

__all__ = ["IsolatedPipeline"]
