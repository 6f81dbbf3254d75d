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
    upload = decode_upload(headers, {}, body, max_bytes=LIMIT)
    assert upload.data == data
    assert upload.filename == "report.pdf"


def test_multipart_without_file_field_is_a_bad_request() -> None:
    headers, body = multipart("other", "x.txt", b"abc")
    with pytest.raises(RequestError, match="'file' field"):
        decode_upload(headers, {}, body, max_bytes=LIMIT)


def test_multipart_without_boundary_is_a_bad_request() -> None:
    with pytest.raises(RequestError, match="boundary"):
        decode_upload({"content-type": "multipart/form-data"}, {}, b"x", max_bytes=LIMIT)


def test_raw_body_takes_its_name_from_the_query_first() -> None:
    upload = decode_upload(
        {"Content-Disposition": 'attachment; filename="header.txt"'},
        {"filename": "query.txt"},
        b"abc",
        max_bytes=LIMIT,
    )
    assert upload.filename == "query.txt"


def test_raw_body_name_from_content_disposition_including_rfc5987() -> None:
    plain = decode_upload(
        {"content-disposition": 'attachment; filename="plain.txt"'}, {}, b"a", max_bytes=LIMIT
    )
    assert plain.filename == "plain.txt"
    extended = decode_upload(
        {"content-disposition": "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"},
        {},
        b"a",
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
