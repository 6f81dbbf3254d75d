"""The Language stand-in's asynchronous jobs: abstractive summarization (2023-04-01).

``POST /language/analyze-text/jobs`` takes ``{displayName?, analysisInput:
{documents}, tasks: [{kind: "AbstractiveSummarization", taskName?, parameters:
{sentenceCount, stringIndexType, loggingOptOut, modelVersion}}]}`` and answers
202 with an ``operation-location`` header naming
``/language/analyze-text/jobs/{jobId}``; a GET there answers the job state
``{jobId, createdDateTime, lastUpdatedDateTime, expirationDateTime, status,
errors, tasks: {completed, failed, inProgress, total, items}}``, the task item
being ``{kind: "AbstractiveSummarizationLROResults", taskName, status,
lastUpdateDateTime, results: {documents: [{id, summaries: [{text, contexts:
[{offset, length}]}], warnings}], errors, modelVersion}}``.

Documented limits ("Service limits for Azure AI Language", asynchronous): at
most 25 documents and 125,000 characters (text elements) across all documents
of a request; a request over either is rejected whole with 400. A job stays
``running`` for ``polls_until_done`` status reads, then ``succeeded`` (or
``failed`` with ``errors: [{code, message}]`` when ``fail_next_job`` asked).

The summary is deterministic, not NLP: the document cut into ``sentenceCount``
equal parts, one sentence per part naming the part's first key phrase (or its
first words), with that part as the summary's context.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JOBS_PATH = "/language/analyze-text/jobs"
MAX_JOB_DOCUMENTS = 25
MAX_JOB_TEXT_ELEMENTS = 125_000
TASK_KIND = "AbstractiveSummarization"
MAX_SENTENCE_COUNT = 20
#: How long a finished job's results are kept (the service documents 24 hours).
EXPIRES_AFTER = datetime.timedelta(hours=24)


class JobError(Exception):
    """A submit refused whole: the status, the error code, inner code and message."""

    def __init__(self, status: int, code: str, inner: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.inner, self.message = status, code, inner, message

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": "Invalid Request.",
                "innererror": {"code": self.inner, "message": self.message},
            }
        }


def _invalid(inner: str, message: str) -> JobError:
    return JobError(400, "InvalidRequest", inner, message)


@dataclass
class Job:
    job_id: str
    created: str
    display_name: str | None
    task_name: str
    polls_left: int
    #: The task's results, or the job's errors when it fails.
    results: dict[str, Any]
    errors: list[dict[str, str]] = field(default_factory=list)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _stamp(at: datetime.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class JobStore:
    """Submitted jobs by id; handler threads submit and read, tests configure."""

    def __init__(self) -> None:
        self.polls_until_done = 1
        self._failures: list[tuple[str, str]] = []
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def fail_next_job(self, code: str = "InternalServerError", message: str = "") -> None:
        with self._lock:
            self._failures.append((code, message or "An unexpected error occurred."))

    def submit(
        self,
        body: Any,
        *,
        measure: Callable[[str], int],
        summarize: Callable[[dict[str, Any], dict[str, Any]], Any],
    ) -> str:
        """Validate a submit body and start its job; the job id. ``summarize`` gives one
        document's result (or error) for the task's parameters."""
        if not isinstance(body, dict):
            raise _invalid("InvalidRequestBodyFormat", "Request body must be a JSON object.")
        documents = (body.get("analysisInput") or {}).get("documents")
        if not isinstance(documents, list) or not documents:
            raise _invalid("MissingInputDocuments", "Missing input documents.")
        if len(documents) > MAX_JOB_DOCUMENTS:
            raise _invalid(
                "InvalidDocumentBatch",
                f"Batch request contains too many records. Max {MAX_JOB_DOCUMENTS} records"
                " are permitted.",
            )
        ids = [doc.get("id") if isinstance(doc, dict) else None for doc in documents]
        if not all(isinstance(i, str) and i for i in ids) or len(set(ids)) != len(ids):
            raise _invalid("InvalidDocument", "Every document needs a unique, non-empty id.")
        total = sum(measure(doc.get("text") or "") for doc in documents)
        if total > MAX_JOB_TEXT_ELEMENTS:
            raise _invalid(
                "InvalidDocument",
                f"Total text in the request exceeds {MAX_JOB_TEXT_ELEMENTS} text elements.",
            )
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or len(tasks) != 1 or not isinstance(tasks[0], dict):
            raise _invalid("InvalidTask", "The stand-in takes exactly one task.")
        task = tasks[0]
        if task.get("kind") != TASK_KIND:
            raise _invalid(
                "InvalidTask",
                f"The task kind {task.get('kind')!r} is not supported by this stand-in: "
                f"{TASK_KIND}.",
            )
        params = task.get("parameters") or {}
        count = params.get("sentenceCount", 3)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 20:
            raise _invalid(
                "InvalidParameterValue", f"sentenceCount must be 1 to {MAX_SENTENCE_COUNT}."
            )
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for doc in documents:
            outcome = summarize(doc, params)
            (errors if "error" in outcome else results).append(outcome)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            job = Job(
                job_id=str(uuid.uuid4()),
                created=_stamp(_now()),
                display_name=body.get("displayName"),
                task_name=str(task.get("taskName") or "0"),
                polls_left=self.polls_until_done,
                results={"documents": results, "errors": errors},
                errors=[] if failure is None else [{"code": failure[0], "message": failure[1]}],
            )
            self._jobs[job.job_id] = job
        return job.job_id

    def state(self, job_id: str, model_version: str) -> dict[str, Any] | None:
        """The job's state as a status read sees it (None: no such job)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            running = job.polls_left > 0
            job.polls_left -= 1
        now = _now()
        status = "running" if running else ("failed" if job.errors else "succeeded")
        state: dict[str, Any] = {
            "jobId": job.job_id,
            "createdDateTime": job.created,
            "lastUpdatedDateTime": _stamp(now),
            "expirationDateTime": _stamp(now + EXPIRES_AFTER),
            "status": status,
            "errors": job.errors if status == "failed" else [],
            "tasks": {
                "completed": int(status == "succeeded"),
                "failed": int(status == "failed"),
                "inProgress": int(running),
                "total": 1,
                "items": [],
            },
        }
        if job.display_name is not None:
            state["displayName"] = job.display_name
        if status == "succeeded":
            state["tasks"]["items"] = [
                {
                    "kind": "AbstractiveSummarizationLROResults",
                    "taskName": job.task_name,
                    "lastUpdateDateTime": _stamp(now),
                    "status": "succeeded",
                    "results": {**job.results, "modelVersion": model_version},
                }
            ]
        return state
