"""What every trigger does around its work: bind the log context, map errors
to problem responses, write JSON.

Imported when the function app is indexed, so it imports nothing beyond
``azure.functions`` and the log context; problem details load on the first
error. This and the capabilities' ``triggers`` modules are the only modules
of the product that import ``azure.functions`` (an import contract).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import azure.functions as func

from kernel import logcontext

if TYPE_CHECKING:
    from kernel.http.problems import Problem, ProblemRegistry

log = logging.getLogger(__name__)

HttpHandler = Callable[[func.HttpRequest], func.HttpResponse]
Endpoint = Callable[[func.HttpRequest, func.Context], func.HttpResponse]


class HttpApi:
    """The HTTP endpoints of one capability and the errors it maps.

    ``problems`` returns the capability's :class:`ProblemRegistry`; it is
    called on the first error only, so the error types load late.
    """

    def __init__(self, problems: Callable[[], ProblemRegistry]) -> None:
        self._problems = problems

    def endpoint(self, handler: HttpHandler) -> Endpoint:
        """Bind the log context and turn errors into problem responses."""

        @functools.wraps(handler, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def endpoint(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
            with invocation(context, req.headers.get("traceparent")):
                try:
                    return handler(req)
                except Exception as exc:
                    return self._problem(exc, req)

        # The worker binds arguments by inspect.signature(), which follows
        # __wrapped__: without this it would see (req) and never pass context.
        del endpoint.__wrapped__
        return endpoint

    def _problem(self, error: Exception, req: func.HttpRequest) -> func.HttpResponse:
        from kernel.http.problems import INTERNAL_ERROR

        problem = self._problems().problem_for(error)
        if problem is None:
            log.error("http.unhandled_error", exc_info=error)
            problem = INTERNAL_ERROR
        return problem_response(problem, req)


def json_response(status: int, body: Any, **headers: str) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/json", headers=headers
    )


def problem_response(problem: Problem, req: func.HttpRequest) -> func.HttpResponse:
    from urllib.parse import urlsplit

    from kernel.http.problems import PROBLEM_JSON

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
