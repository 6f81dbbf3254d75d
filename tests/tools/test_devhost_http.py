"""The dev host's HTTP side: routes from the decorators, func.HttpRequest in,
the worker's response mapping out, context, errors and large bodies."""

from __future__ import annotations

import functools
import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests

from tools.devhost.host import DevHost

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
seen: dict[str, Any] = {}


def _echo(req: func.HttpRequest, label: str) -> func.HttpResponse:
    body = {
        "label": label,
        "method": req.method,
        "url": req.url,
        "route": dict(req.route_params),
        "params": dict(req.params),
        "headers": {k: v for k, v in req.headers.items() if k.startswith("x-")},
        "body": req.get_body().decode("latin-1"),
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="documents/{id:guid}", methods=["GET"])
def get_document(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "get_document")


@app.route(route="documents/latest", methods=["GET"])
def latest_document(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "latest_document")


@app.route(route="documents/{name}", methods=["GET", "DELETE"])
def named_document(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "named_document")


@app.route(route="documents", methods=["POST"])
def upload_document(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"size": len(req.get_body())}), status_code=201, mimetype="application/json"
    )


@app.route(route="items/{id:int}/{part?}", methods=["GET"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "item")


@app.route(route="files/{*path}", methods=["GET"])
def files(req: func.HttpRequest) -> func.HttpResponse:
    return _echo(req, "files")


@app.route()  # no route: the function's name; no methods: all of them
def ping(req: func.HttpRequest) -> str:
    return f"pong {req.method}"


@app.route(route="teapot", methods=["GET"])
def teapot(req: func.HttpRequest) -> func.HttpResponse:
    response = func.HttpResponse(
        "<p>short and stout</p>",
        status_code=418,
        headers={"X-Brew": "earl grey", "Set-Cookie": "cup=1; Path=/"},
        mimetype="text/html",
        charset="iso-8859-1",
    )
    response.headers.add("Set-Cookie", "saucer=2")
    return response


@app.route(route="binary", methods=["GET"])
def binary(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(b"\x00\x01\x02", mimetype="application/octet-stream")


@app.route(route="nothing", methods=["POST"])
def nothing(req: func.HttpRequest) -> None:
    return None


@app.route(route="context", methods=["GET"])
def with_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    payload = {
        "invocation_id": context.invocation_id,
        "function_name": context.function_name,
        "function_directory": context.function_directory,
        "trace_parent": context.trace_context.trace_parent,
        "trace_state": context.trace_context.trace_state,
        "retry_count": context.retry_context.retry_count,
        "thread_local": context.thread_local_storage.invocation_id,
    }
    return func.HttpResponse(json.dumps(payload), mimetype="application/json")


@app.route(route="boom", methods=["GET"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret internal detail")


@app.route(route="async", methods=["GET"])
async def asynchronous(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("awaited")


@app.route(route="rendezvous", methods=["GET"])
def rendezvous(req: func.HttpRequest) -> func.HttpResponse:
    # Passes only if the other requests are being served at the same time.
    seen["barrier"].wait(timeout=5)
    return func.HttpResponse("met")


def needs_context(handler: Any) -> Any:
    """A decorator that adds ``context`` but copies the handler's signature."""

    @functools.wraps(handler)
    def endpoint(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return handler(req)  # type: ignore[no-any-return]

    return endpoint


@app.route(route="wrapped", methods=["GET"])
@needs_context
def wrapped(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("unreachable")


@app.event_grid_trigger(arg_name="event")
def process_document(event: func.EventGridEvent) -> None:
    """Present so the real subscription map has its function."""


@pytest.fixture
def host(start_devhost: Any) -> DevHost:
    started: DevHost = start_devhost(app)
    return started


def get(host: DevHost, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(host.base_url + path, timeout=10, **kwargs)


def test_routes_come_from_the_decorators_and_are_printed_like_func(host: DevHost) -> None:
    lines = host.route_lines()
    assert f"upload_document: [POST] {host.base_url}/api/documents" in lines
    assert f"get_document: [GET] {host.base_url}/api/documents/{{id:guid}}" in lines
    assert f"ping: [GET,POST,PUT,PATCH,DELETE] {host.base_url}/api/ping" in lines
    assert not any("process_document" in line for line in lines)


def test_route_parameters_constraints_and_literal_precedence(host: DevHost) -> None:
    guid = str(uuid.uuid4())
    assert get(host, f"/api/documents/{guid}").json()["label"] == "get_document"
    assert get(host, f"/api/documents/{guid}").json()["route"] == {"id": guid}
    assert get(host, "/api/documents/latest").json()["label"] == "latest_document"
    named = get(host, "/api/documents/report%20v2.pdf").json()
    assert named["label"] == "named_document"
    assert named["route"] == {"name": "report v2.pdf"}
    assert get(host, "/api/DOCUMENTS/latest").json()["label"] == "latest_document"


def test_optional_and_catch_all_parameters(host: DevHost) -> None:
    assert get(host, "/api/items/42").json()["route"] == {"id": "42"}
    assert get(host, "/api/items/42/summary").json()["route"] == {"id": "42", "part": "summary"}
    assert get(host, "/api/items/forty-two").status_code == 404
    assert get(host, "/api/files/a/b/c.txt").json()["route"] == {"path": "a/b/c.txt"}


def test_unknown_routes_are_404_and_wrong_methods_405(host: DevHost) -> None:
    assert get(host, "/api/nope").status_code == 404
    assert get(host, "/documents/latest").status_code == 404  # the /api prefix is required
    response = requests.put(host.base_url + "/api/documents", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert requests.delete(host.base_url + "/api/documents/x", timeout=10).ok


def test_request_mapping_method_url_query_headers_and_body(host: DevHost) -> None:
    response = requests.delete(
        host.base_url + "/api/documents/x?a=1&b=two&a=3&empty=",
        headers={"X-Custom": "v1", "x-other": "v2"},
        data=b"payload",
        timeout=10,
    )
    echoed = response.json()
    assert echoed["method"] == "DELETE"
    assert echoed["url"] == host.base_url + "/api/documents/x?a=1&b=two&a=3&empty="
    assert echoed["params"] == {"a": "1,3", "b": "two", "empty": ""}
    assert echoed["headers"] == {"x-custom": "v1", "x-other": "v2"}
    assert echoed["body"] == "payload"


def test_response_mapping_status_headers_cookies_and_charset(host: DevHost) -> None:
    response = get(host, "/api/teapot")
    assert response.status_code == 418
    assert response.headers["X-Brew"] == "earl grey"
    assert response.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert response.raw.headers.getlist("Set-Cookie") == ["cup=1; Path=/", "saucer=2"]
    assert response.content == b"<p>short and stout</p>"
    binary_response = get(host, "/api/binary")
    assert binary_response.headers["Content-Type"] == "application/octet-stream"
    assert binary_response.content == b"\x00\x01\x02"


def test_string_return_is_200_text_and_none_is_204(host: DevHost) -> None:
    response = requests.patch(host.base_url + "/api/ping", timeout=10)
    assert (response.status_code, response.text) == (200, "pong PATCH")
    assert response.headers["Content-Type"].startswith("text/plain")
    empty = requests.post(host.base_url + "/api/nothing", timeout=10)
    assert (empty.status_code, empty.content) == (204, b"")


def test_context_carries_invocation_and_trace_from_traceparent(host: DevHost) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    first = get(host, "/api/context", headers={"traceparent": parent, "tracestate": "k=v"}).json()
    second = get(host, "/api/context").json()
    assert uuid.UUID(first["invocation_id"]).version == 4
    assert first["invocation_id"] != second["invocation_id"]
    assert first["invocation_id"] == first["thread_local"]
    assert first["function_name"] == "with_context"
    assert first["function_directory"] == str(Path(__file__).parent)
    assert (first["trace_parent"], first["trace_state"]) == (parent, "k=v")
    assert second["trace_parent"].startswith("00-") and second["trace_parent"] != parent
    assert first["retry_count"] == 0


def test_unhandled_exception_is_500_without_details_and_logged(
    host: DevHost, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tools.devhost"):
        response = get(host, "/api/boom?sig=SECRETSAS")
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert any("boom failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_access_log_leaves_out_query_strings(
    host: DevHost, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tools.devhost"):
        get(host, "/api/documents/latest?sig=SECRETSAS&se=2030")
    lines = [r.getMessage() for r in caplog.records]
    assert "GET /api/documents/latest -> 200" in " ".join(lines)
    assert not any("SECRETSAS" in line for line in lines)


def test_a_wraps_decorator_hiding_context_fails_as_in_azure_with_a_startup_warning(
    start_devhost: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker reads signatures through __wrapped__, so it does not pass
    ``context`` to such a wrapper: every call fails, locally as in Azure."""
    with caplog.at_level(logging.WARNING, logger="tools.devhost"):
        host = start_devhost(app)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("function wrapped:" in w and "context" in w for w in warnings)
    assert get(host, "/api/wrapped").status_code == 500


def test_coroutine_functions_are_awaited(host: DevHost) -> None:
    assert get(host, "/api/async").text == "awaited"


def test_requests_are_served_concurrently(host: DevHost) -> None:
    seen["barrier"] = threading.Barrier(4)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: get(host, "/api/rendezvous").text, range(4)))
    assert results == ["met"] * 4


def test_a_110_mb_upload_reaches_the_function(host: DevHost) -> None:
    body = b"\x5a" * (110 * 1024 * 1024)
    response = requests.post(host.base_url + "/api/documents", data=body, timeout=60)
    assert response.status_code == 201
    assert response.json() == {"size": len(body)}


def test_bodies_over_the_limit_get_413(start_devhost: Any, devhost_options: Any) -> None:
    from dataclasses import replace

    host = start_devhost(app, options=replace(devhost_options, max_request_bytes=1000))
    ok = requests.post(host.base_url + "/api/documents", data=b"x" * 1000, timeout=10)
    refused = requests.post(host.base_url + "/api/documents", data=b"x" * 1001, timeout=10)
    assert (ok.status_code, refused.status_code) == (201, 413)


def test_chunked_request_bodies_are_read(host: DevHost) -> None:
    chunks = (part for part in [b"abc", b"defg", b"h"])
    response = requests.post(host.base_url + "/api/documents", data=chunks, timeout=10)
    assert response.json() == {"size": 8}


def test_route_prefix_comes_from_host_json(start_devhost: Any, tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": "v1"}}})
    )
    host = start_devhost(app, app_root=tmp_path)
    assert get(host, "/v1/documents/latest").json()["label"] == "latest_document"
    assert get(host, "/api/documents/latest").status_code == 404


@pytest.mark.parametrize("name", ["evil.example", "attacker.test:7071", "127.0.0.1.nip.io"])
def test_a_host_header_naming_another_site_is_misdirected(host: DevHost, name: str) -> None:
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1
    reaches the local host, but with its own name in Host: refused with 421."""
    response = get(host, "/api/documents/latest", headers={"Host": name})
    assert response.status_code == 421


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]:7071", "app.localhost:7071"])
def test_loopback_names_are_served(host: DevHost, name: str) -> None:
    assert get(host, "/api/documents/latest", headers={"Host": name}).status_code == 200


def test_configured_names_are_served(start_devhost: Any, devhost_options: Any) -> None:
    import dataclasses

    options = dataclasses.replace(devhost_options, allowed_hosts=("docflow.test",))
    started = start_devhost(app, options=options)
    assert (
        get(started, "/api/documents/latest", headers={"Host": "docflow.test"}).status_code == 200
    )


def test_a_non_loopback_bind_needs_allow_remote(caplog: pytest.LogCaptureFixture) -> None:
    from tools.devhost.__main__ import bind_allowed

    assert bind_allowed("127.0.0.1", allow_remote=False)
    assert bind_allowed("::1", allow_remote=False)
    with caplog.at_level(logging.WARNING):
        assert not bind_allowed("0.0.0.0", allow_remote=False)
        assert bind_allowed("0.0.0.0", allow_remote=True)
    assert "refusing to listen" in caplog.text and "anyone who can reach it" in caplog.text
