"""The bundled local receiver accepts correctly signed notices and refuses others."""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.apphost import ROOT, free_port, wait_for

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def receiver() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.devhost.receiver", "--port", str(port), "--secret", SECRET],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/hook"
    wait_for(lambda: post(url, b"{}", {}) is not None, 20)
    yield url
    process.terminate()
    process.wait(timeout=10)


def post(url: str, body: bytes, headers: dict[str, str]) -> int | None:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_signed_notice_is_accepted_and_a_forged_one_refused(receiver: str) -> None:
    body = b'{"id": "evt-1", "type": "document.processing.completed"}'
    now = datetime.now(tz=UTC)
    headers = {
        "webhook-id": "msg-1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("msg-1", now, body.decode()),
        "Content-Type": "application/json",
    }
    assert post(receiver, body, headers) == 200
    assert post(receiver, body.replace(b"evt-1", b"evt-2"), headers) == 401
