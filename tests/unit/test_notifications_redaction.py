"""Query strings (Logic App SAS signatures) never reach logs or records."""

from __future__ import annotations

import pytest

from kernel.egress.redaction import redact_text, redact_url

LOGIC_APP = (
    "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
    "?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S3cr3tSig"
)


def test_a_url_keeps_scheme_host_port_and_path_only() -> None:
    assert redact_url(LOGIC_APP) == (
        "https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
        "?redacted"
    )
    assert redact_url("https://u:p@hooks.example.test/x#frag") == "https://hooks.example.test/x"
    assert (
        redact_url("https://[2606:4700::1]:8443/x?a=1") == "https://[2606:4700::1]:8443/x?redacted"
    )


@pytest.mark.parametrize(
    "text",
    [
        f"connect to {LOGIC_APP} failed",
        f"redirect to '{LOGIC_APP}'",
        f'{{"url": "{LOGIC_APP}"}}',
    ],
)
def test_urls_inside_text_lose_their_query(text: str) -> None:
    redacted = redact_text(text)
    assert "S3cr3tSig" not in redacted
    assert "?redacted" in redacted


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/redacted",
        ),
        (
            "https://discord.com/api/webhooks/1234567890/AbCdEf-gh_ijKLmnOPqrSTuvWXyz0123456789",
            "https://discord.com/api/webhooks/redacted",
        ),
        (
            "https://contoso.webhook.office.com/webhookb2/1f0e1b2c-aaaa@72f988bf/IncomingWebhook/"
            "0123abcd/9f8e7d6c",
            "https://contoso.webhook.office.com/webhookb2/redacted",
        ),
        (
            "https://hooks.example.test/v1/receive/f3Kq9ZxP2mLw8RtY6vBn4HsD/done",
            "https://hooks.example.test/v1/receive/redacted",
        ),
        ("https://hooks.example.test/api/docflow-events/inbox", None),
    ],
)
def test_path_tokens_are_redacted_and_ordinary_paths_kept(url: str, shown: str | None) -> None:
    """The reviewed finding: path tokens survived query-only redaction."""
    assert redact_url(url) == (shown or url)
    assert redact_text(f"POST {url} failed") == f"POST {shown or url} failed"
