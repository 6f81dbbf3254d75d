"""HTTP-triggered functions: routes from the decorators' bindings under the
host's route prefix, ``func.HttpRequest`` in, the worker's response mapping out.

Access is anonymous whatever ``authLevel`` says, like ``func start``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func
from azure.functions.http import HttpResponseConverter

from tools.devhost.context import InvocationContext, valid_trace_parent
from tools.devhost.functions import HostedFunction, call_function
from tools.devhost.routes import MethodNotAllowed, RouteTable
from tools.devhost.server import Request, Response

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HttpRoute:
    function: HostedFunction
    template: str  # the full path template, prefix included
    methods: tuple[str, ...] | None


class HttpFunctions:
    def __init__(self, functions: Sequence[HostedFunction], *, route_prefix: str) -> None:
        self._prefix = "/" + route_prefix.strip("/") if route_prefix.strip("/") else ""
        self._table: RouteTable[HttpRoute] = RouteTable()
        self.routes: list[HttpRoute] = []
        for function in functions:
            route = str(function.trigger.get("route") or function.name).strip("/")
            raw_methods = function.trigger.get("methods")
            methods = tuple(str(m).upper() for m in raw_methods) if raw_methods else None
            entry = HttpRoute(function, f"{self._prefix}/{route}", methods)
            self._table.add(route, methods, entry)
            self.routes.append(entry)

    def handle(self, request: Request) -> Response | None:
        """The function's response, or None when no route has this path."""
        if self._prefix:
            if not request.path.lower().startswith(self._prefix.lower()):
                return None
            path = request.path[len(self._prefix) :]
            if path and not path.startswith("/"):
                return None
        else:
            path = request.path
        resolved = self._table.resolve(request.method, path)
        if resolved is None:
            return None
        if isinstance(resolved, MethodNotAllowed):
            allow = ", ".join(sorted(resolved.allowed))
            response = Response.text(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed")
            response.headers.append(("Allow", allow))
            return response
        return self._invoke(resolved.target.function, request, resolved.values)

    def _invoke(
        self, function: HostedFunction, request: Request, route_params: dict[str, str]
    ) -> Response:
        http_request = func.HttpRequest(
            method=request.method,
            url=request.url,
            headers=_joined(request.headers),
            params=_joined(parse_qsl(request.query, keep_blank_values=True), separator=","),
            route_params=route_params,
            body=request.body,
        )
        context = InvocationContext(
            function_name=function.name,
            function_directory=function.directory,
            trace_parent=valid_trace_parent(request.header("traceparent")),
            trace_state=request.header("tracestate") or "",
        )
        try:
            result = call_function(function, http_request, context)
            return to_response(result)
        except Exception:
            log.exception(
                "function %s failed",
                function.name,
                extra={"function": function.name, "invocation_id": context.invocation_id},
            )
            return Response.text(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")


def _joined(pairs: Sequence[tuple[str, str]], separator: str = ", ") -> dict[str, str]:
    """Repeated names joined, as the host flattens headers and query values."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name if separator == "," else name.lower()
        joined[key] = f"{joined[key]}{separator}{value}" if key in joined else value
    return joined


def to_response(result: Any) -> Response:
    """Map a function's return value like the worker's HttpResponseConverter;
    returning None gives 204, like Functions 2.x and later."""
    if result is None:
        return Response(HTTPStatus.NO_CONTENT)
    datum = HttpResponseConverter.encode(result, expected_type=None)
    if datum.type == "string":
        return Response.text(HTTPStatus.OK, str(datum.value))
    value = datum.value
    headers = [(name, str(header.value)) for name, header in value["headers"].items()]
    for cookie in value.get("cookies") or []:
        headers.extend(("Set-Cookie", morsel.OutputString()) for morsel in cookie.values())
    body = value["body"].value
    return Response(int(value["status_code"].value), bytes(body or b""), headers)
