"""The Language stand-in's abstractive summarization jobs, driven by the real
``TextAnalyticsClient.begin_abstract_summary`` (and raw HTTP for refused submits)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("azure.ai.textanalytics", reason="azure-ai-textanalytics is not installed")

from azure.ai.textanalytics import TextAnalyticsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from tools.standins.language import API_VERSION, LanguageStandIn
from tools.standins.language_jobs import JOBS_PATH, MAX_JOB_TEXT_ELEMENTS

KEY = "test-key"
TEXT = (
    "Microsoft opened an office in Zürich. Bill Gates visited the office in spring. "
    "The team plans to hire forty engineers next year."
)


@pytest.fixture
def standin() -> Iterator[LanguageStandIn]:
    with LanguageStandIn(key=KEY) as server:
        yield server


def client_for(standin: LanguageStandIn, key: str = KEY) -> TextAnalyticsClient:
    return TextAnalyticsClient(
        standin.endpoint, AzureKeyCredential(key), retry_total=3, retry_backoff_factor=0.01
    )


def post_job(standin: LanguageStandIn, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{standin.endpoint}{JOBS_PATH}?api-version={API_VERSION}",
        data=json.dumps(body).encode(),
        headers={"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def job_body(documents: list[dict[str, str]], **parameters: Any) -> dict[str, Any]:
    return {
        "analysisInput": {"documents": documents},
        "tasks": [{"kind": "AbstractiveSummarization", "parameters": parameters}],
    }


def test_a_job_is_submitted_polled_and_summarised_with_contexts(
    standin: LanguageStandIn,
) -> None:
    """Submit answers 202 with an operation-location; the status reads running, then
    succeeded; the summary has sentence_count sentences whose contexts cover the text in
    code points."""
    with client_for(standin) as client:
        poller = client.begin_abstract_summary([TEXT], sentence_count=2, polling_interval=0)
        [document] = list(poller.result())
    assert not document.is_error
    [summary] = document.summaries
    assert summary.text.startswith("Part 1 is about Microsoft. Part 2 is about ")
    assert summary.text.count("Part ") == 2
    spans = [(c.offset, c.length) for c in summary.contexts]
    assert len(spans) == 2 and spans[0][0] == 0
    assert spans[0][0] + spans[0][1] == spans[1][0]
    assert spans[1][0] + spans[1][1] == len(TEXT)
    methods = [(r.method, r.status) for r in standin.requests]
    assert methods[0] == ("POST", 202) and methods[-1] == ("GET", 200)
    submitted = standin.requests[0].body
    assert submitted["tasks"][0]["kind"] == "AbstractiveSummarization"
    assert submitted["tasks"][0]["parameters"]["sentenceCount"] == 2


def test_operation_location_names_the_job(standin: LanguageStandIn) -> None:
    """The 202 carries operation-location naming the job under the jobs path."""
    status, headers = post_job(standin, job_body([{"id": "1", "text": TEXT}]))
    assert status == 202
    location = {k.lower(): v for k, v in headers.items()}["operation-location"]
    assert f"{JOBS_PATH}/" in location and f"api-version={API_VERSION}" in location


@pytest.mark.parametrize(
    ("body", "inner"),
    [
        (job_body([]), "MissingInputDocuments"),
        (job_body([{"id": str(i), "text": "Hi."} for i in range(26)]), "InvalidDocumentBatch"),
        (
            job_body([{"id": "1", "text": "x " * (MAX_JOB_TEXT_ELEMENTS // 2 + 1)}]),
            "InvalidDocument",
        ),
        (job_body([{"id": "1", "text": TEXT}], sentenceCount=0), "InvalidParameterValue"),
        (
            {
                "analysisInput": {"documents": [{"id": "1", "text": TEXT}]},
                "tasks": [{"kind": "SentimentAnalysis"}],
            },
            "InvalidTask",
        ),
    ],
)
def test_a_submit_outside_the_contract_is_a_400(
    standin: LanguageStandIn, body: Any, inner: str
) -> None:
    """No documents, 26 documents, more than 125,000 characters in all, a bad
    sentenceCount or another task kind: the whole request is refused with 400."""
    status, error = post_job(standin, body)
    assert status == 400
    assert error["error"]["code"] == "InvalidRequest"
    assert error["error"]["innererror"]["code"] == inner


def test_throttled_submit_and_failing_status_read_are_retried(standin: LanguageStandIn) -> None:
    """A 429 with Retry-After on the submit and a 503 on a status read are retried."""
    standin.fail_next(status=429, count=1, retry_after=0)
    with client_for(standin) as client:
        poller = client.begin_abstract_summary([TEXT], polling_interval=0)
        standin.fail_next(status=503, count=1, retry_after=0)
        [document] = list(poller.result())
    assert not document.is_error and document.summaries[0].text
    assert [r.status for r in standin.requests][:2] == [429, 202]
    assert 503 in [r.status for r in standin.requests if r.method == "GET"]


def test_a_failed_job_raises_with_its_error(standin: LanguageStandIn) -> None:
    """A job that ends failed carries errors[]; the SDK raises with the error's code."""
    standin.jobs.fail_next_job("InternalServerError", "The job failed.")
    with client_for(standin) as client:
        poller = client.begin_abstract_summary([TEXT], polling_interval=0)
        with pytest.raises(HttpResponseError, match="InternalServerError"):
            poller.result()


def test_a_document_in_an_unsupported_language_is_a_document_error(
    standin: LanguageStandIn,
) -> None:
    """Per-document errors come back in results.errors, the job still succeeds."""
    with client_for(standin) as client:
        poller = client.begin_abstract_summary([TEXT], language="xx", polling_interval=0)
        [document] = list(poller.result())
    assert document.is_error and document.error.code == "UnsupportedLanguageCode"


def test_a_wrong_key_is_refused(standin: LanguageStandIn) -> None:
    """The jobs endpoints take the same key as the synchronous ones."""
    with client_for(standin, key="wrong") as client, pytest.raises(ClientAuthenticationError):
        client.begin_abstract_summary([TEXT], polling_interval=0)


def test_an_unknown_job_is_a_404(standin: LanguageStandIn) -> None:
    """A status read of a job that does not exist answers 404 NotFound."""
    request = urllib.request.Request(
        f"{standin.endpoint}{JOBS_PATH}/nope?api-version={API_VERSION}",
        headers={"Ocp-Apim-Subscription-Key": KEY},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 404
    assert json.loads(raised.value.read())["error"]["code"] == "NotFound"
