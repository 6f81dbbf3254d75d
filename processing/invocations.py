"""What every trigger does around its work: bind the log context, map errors
to problem responses, write JSON.

Imported when the function app is indexed, so it imports nothing beyond
``azure.functions``; error types and problem details load on the first request.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import azure.functions as func

from processing import logcontext

if TYPE_CHECKING:
    from processing.webapi import Problem

log = logging.getLogger(__name__)

HttpHandler = Callable[[func.HttpRequest], func.HttpResponse]


def http_endpoint(handler: HttpHandler) -> Callable[[func.HttpRequest, func.Context], Any]:
    """Bind the log context and turn typed errors into problem responses."""

    @functools.wraps(handler, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    def endpoint(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        from processing.extraction.errors import ProcessingError
        from processing.webapi import Problem, problem_for

        with invocation(context, req.headers.get("traceparent")):
            try:
                return handler(req)
            except ProcessingError as exc:
                return problem_response(problem_for(exc), req)
            except Exception:
                log.exception("http.unhandled_error")
                return problem_response(
                    Problem(500, "internal_error", "an unexpected error occurred"), req
                )

    # The worker binds arguments by inspect.signature(), which follows
    # __wrapped__: without this it would see (req) and never pass context.
    del endpoint.__wrapped__
    return endpoint


def json_response(status: int, body: Any, **headers: str) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/json", headers=headers
    )


def problem_response(problem: Problem, req: func.HttpRequest) -> func.HttpResponse:
    from urllib.parse import urlsplit

    from processing.webapi import PROBLEM_JSON

    return func.HttpResponse(
        problem.body(instance=urlsplit(req.url).path),
        status_code=problem.status,
        mimetype=PROBLEM_JSON,
        headers=dict(problem.headers or {}),
    )


@contextmanager
def invocation(context: func.Context, traceparent: str | None, **fields: Any) -> Iterator[None]:
    """Bind the invocation's id, function name and trace context to its log lines."""
    logcontext.install()
    with logcontext.bound(
        invocation_id=context.invocation_id,
        function_name=context.function_name,
        traceparent=traceparent or _context_traceparent(context),
        **fields,
    ):
        yield


def _context_traceparent(context: func.Context) -> str | None:
    trace_context = getattr(context, "trace_context", None)
    return getattr(trace_context, "trace_parent", None) if trace_context else None
