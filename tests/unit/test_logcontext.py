"""Bound log fields reach every record, nest, and end with their block."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import MappingProxyType

import pytest

from kernel import logcontext
from tools.devhost.logformat import FieldsFormatter


@pytest.fixture(autouse=True)
def empty_log_context() -> Iterator[None]:
    """Start from no bound fields, whatever earlier tests in this thread bound."""
    token = logcontext._FIELDS.set(MappingProxyType({}))
    yield
    logcontext._FIELDS.reset(token)


def test_bound_fields_reach_records_of_any_logger_and_are_unbound_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logcontext.install()
    log = logging.getLogger("processing.test")
    with caplog.at_level(logging.INFO):
        with logcontext.bound(invocation_id="inv-1"):
            with logcontext.bound(document_id="doc-1"):
                log.info("inner")
            log.info("outer")
        log.info("after")
    inner, outer, after = caplog.records
    assert (inner.invocation_id, inner.document_id) == ("inv-1", "doc-1")  # type: ignore[attr-defined]
    assert outer.invocation_id == "inv-1" and not hasattr(outer, "document_id")  # type: ignore[attr-defined]
    assert not hasattr(after, "invocation_id")


def test_bind_adds_to_the_enclosing_block_only(caplog: pytest.LogCaptureFixture) -> None:
    logcontext.install()
    log = logging.getLogger("processing.test")
    with caplog.at_level(logging.INFO):
        with logcontext.bound():
            logcontext.bind(document_id="doc-2")
            log.info("inside")
        log.info("outside")
    inside, outside = caplog.records
    assert inside.document_id == "doc-2"  # type: ignore[attr-defined]
    assert not hasattr(outside, "document_id")


def test_console_formatter_shows_fields_after_the_event_name() -> None:
    record = logging.LogRecord(
        "processing.x", logging.INFO, "f.py", 1, "document.accepted", None, None
    )
    record.document_id = "abc"
    record.size_bytes = 10
    assert (
        FieldsFormatter("%(message)s").format(record)
        == "document.accepted document_id=abc size_bytes=10"
    )
