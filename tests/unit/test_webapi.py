"""Request decoding, paging and problem details, independent of the Functions runtime."""

from __future__ import annotations

import json

import pytest

from kernel.errors import DependencyError, RequestError
from kernel.http.paging import PageRequest
from processing.extraction.errors import EmptyDocumentError, TooLargeError
from processing.problems import PROBLEMS
from processing.upload_request import decode_upload

LIMIT = 1024 * 1024


def multipart(
    field: str, filename: str, data: bytes, boundary: str = "XyZ"
) -> tuple[dict[str, str], bytes]:
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def test_multipart_file_field_is_extracted_byte_for_byte() -> None:
    data = bytes(range(256)) * 10 + b"\r\n--not-a-boundary\r\n"
    headers, body = multipart("file", "report.pdf", data)
    upload = decode_upload(headers, {}, lambda: body, max_bytes=LIMIT)
    assert upload.data == data
    assert upload.filename == "report.pdf"


def test_multipart_without_file_field_is_a_bad_request() -> None:
    headers, body = multipart("other", "x.txt", b"abc")
    with pytest.raises(RequestError, match="'file' field"):
        decode_upload(headers, {}, lambda: body, max_bytes=LIMIT)


def test_multipart_without_boundary_is_a_bad_request() -> None:
    with pytest.raises(RequestError, match="boundary"):
        decode_upload({"content-type": "multipart/form-data"}, {}, lambda: b"x", max_bytes=LIMIT)


def part(name: str, data: bytes, filename: str | None = None, boundary: str = "XyZ") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"


def form(*parts: bytes, boundary: str = "XyZ", closed: bool = True) -> tuple[dict[str, str], bytes]:
    body = b"".join(parts) + (f"--{boundary}--\r\n".encode() if closed else b"")
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def code_of(headers: dict[str, str], body: bytes, max_bytes: int = LIMIT) -> str:
    try:
        decode_upload(headers, {}, lambda: body, max_bytes=max_bytes)
    except (RequestError, TooLargeError) as exc:
        return exc.code
    return "accepted"


def test_a_file_part_over_the_limit_behind_a_junk_part_is_refused_not_cut() -> None:
    """The reviewed finding: 70,000 junk bytes and a 99,990-byte file with a
    100,000-byte limit were accepted as a truncated 95,408-byte file."""
    headers, body = form(part("junk", b"j" * 70_000), part("file", b"f" * 99_990, "x.txt"))
    assert code_of(headers, body, max_bytes=100_000) == "too_large"


def test_a_file_part_just_over_the_limit_is_too_large() -> None:
    headers, body = form(part("file", b"f" * 1001, "x.txt"))
    assert code_of(headers, body, max_bytes=1000) == "too_large"


@pytest.mark.parametrize(
    "cut", [10, 200, -len("--XyZ--\r\n"), -3], ids=["headers", "data", "no-close", "half-close"]
)
def test_a_body_cut_short_is_malformed_never_accepted(cut: int) -> None:
    headers, body = form(part("file", b"d" * 500, "x.txt"))
    assert code_of(headers, body[:cut]) == "malformed_upload"


def test_two_file_parts_are_refused() -> None:
    headers, body = form(part("file", b"one", "a.txt"), part("file", b"two", "b.txt"))
    assert code_of(headers, body) == "malformed_upload"


def test_a_file_part_without_a_filename_is_refused() -> None:
    headers, body = form(part("file", b"anonymous"))
    assert code_of(headers, body) == "malformed_upload"


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read() -> None:
    def unread() -> bytes:
        raise AssertionError("the body was read")

    with pytest.raises(TooLargeError):
        decode_upload({"Content-Length": str(LIMIT + 1)}, {}, unread, max_bytes=LIMIT)


def test_file_bytes_that_look_like_boundaries_survive_whole() -> None:
    """Data with near-boundaries makes the parser emit from its look-behind
    buffer; the bytes still come back exactly."""
    tricky = b"\r\n--XyZ-almost\r\n--Xy\r\n--" * 200 + bytes(range(256))
    headers, body = form(part("note", b"hi"), part("file", tricky, "t.bin"))
    upload = decode_upload(headers, {}, lambda: body, max_bytes=LIMIT)
    assert upload.data == tricky


def test_raw_body_takes_its_name_from_the_query_first() -> None:
    upload = decode_upload(
        {"Content-Disposition": 'attachment; filename="header.txt"'},
        {"filename": "query.txt"},
        lambda: b"abc",
        max_bytes=LIMIT,
    )
    assert upload.filename == "query.txt"


def test_raw_body_name_from_content_disposition_including_rfc5987() -> None:
    plain = decode_upload(
        {"content-disposition": 'attachment; filename="plain.txt"'},
        {},
        lambda: b"a",
        max_bytes=LIMIT,
    )
    assert plain.filename == "plain.txt"
    extended = decode_upload(
        {"content-disposition": "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"},
        {},
        lambda: b"a",
        max_bytes=LIMIT,
    )
    assert extended.filename == "résumé.pdf"


@pytest.mark.parametrize(
    ("params", "expected"),
    [({}, (50, None)), ({"limit": "5", "after": "abc"}, (5, "abc"))],
)
def test_page_params(params: dict[str, str], expected: tuple[int, str | None]) -> None:
    request = PageRequest.from_params(params)
    assert (request.limit, request.after) == expected


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
def test_bad_page_size_is_a_bad_request(limit: str) -> None:
    with pytest.raises(RequestError):
        PageRequest.from_params({"limit": limit})


def test_problems_carry_status_code_and_detail_without_internals() -> None:
    problem = PROBLEMS.problem_for(TooLargeError("the document is larger than the limit"))
    assert (problem.status, problem.code) == (413, "too_large")
    body = json.loads(problem.body(instance="/api/documents"))
    assert body == {
        "type": "about:blank",
        "title": "Request Entity Too Large",
        "status": 413,
        "detail": "the document is larger than the limit",
        "code": "too_large",
        "instance": "/api/documents",
    }
    assert PROBLEMS.problem_for(EmptyDocumentError("empty")).status == 400


def test_dependency_failures_are_503_with_retry_after_and_a_generic_detail() -> None:
    problem = PROBLEMS.problem_for(DependencyError("table account secret-name unreachable"))
    assert problem.status == 503
    assert problem.headers == {"Retry-After": "5"}
    assert "secret-name" not in problem.body().decode()


def test_the_apps_own_webhook_notice_is_refused_as_an_upload() -> None:
    """A subscription pointed at the upload route cannot start a notice loop."""
    from kernel.egress.client import USER_AGENT

    headers = {"webhook-id": "sub_x.1", "User-Agent": USER_AGENT}
    with pytest.raises(RequestError) as refused:
        decode_upload(headers, {"filename": "n.json"}, lambda: b"{}", max_bytes=LIMIT)
    assert refused.value.code == "webhook_loop"
    # Another sender's Standard Webhooks notice is an ordinary upload.
    other = {"webhook-id": "msg_1", "User-Agent": "Svix-Webhooks/1.0"}
    assert decode_upload(other, {"filename": "n.json"}, lambda: b"{}", max_bytes=LIMIT).data
