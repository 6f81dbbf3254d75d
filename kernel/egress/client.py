"""One outbound HTTP POST to an address the SSRF policy vetted.

The connection goes to a pinned IP address while the ``Host`` header, the
TLS SNI and the certificate check use the URL's host name, so what was
checked is what is connected to. Redirects are never followed (a 3xx is a
failed attempt), proxies are not consulted, the whole exchange has one
deadline, and at most ``max_body`` bytes of the answer are read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from kernel.egress.addresses import VettedTarget
from kernel.egress.redaction import redact_text

DEFAULT_TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BYTES = 20 * 1024
#: What webhook notices are sent as (the notifier's sender keeps the default).
USER_AGENT = "docflow-webhooks/1.0"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What an attempt got back: a status, or an error when there was none."""

    status: int | None
    duration_ms: int
    body: bytes = b""
    truncated: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class PinnedSender:
    """POSTs to a :class:`~kernel.egress.addresses.VettedTarget` over plain
    sockets and :mod:`http.client` (no connection reuse: each attempt stands alone)."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_body: int = MAX_RESPONSE_BYTES,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self.max_body = max_body
        self._ssl_context = ssl_context

    def post(self, target: VettedTarget, headers: Mapping[str, str], body: bytes) -> SendResult:
        started = time.monotonic()
        deadline = started + self.timeout
        errors: list[str] = []
        for address in target.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                raw = socket.create_connection((str(address), target.url.port), timeout=remaining)
            except OSError as exc:
                errors.append(_describe(exc, connecting=True))
                continue
            return self._exchange(raw, target, headers, body, started=started, deadline=deadline)
        if not errors:
            errors.append(f"timed out after {self.timeout:g} s")
        return SendResult(
            status=None, duration_ms=_ms_since(started), error="; ".join(dict.fromkeys(errors))
        )

    def _exchange(
        self,
        raw: socket.socket,
        target: VettedTarget,
        headers: Mapping[str, str],
        body: bytes,
        *,
        started: float,
        deadline: float,
    ) -> SendResult:
        expired = threading.Event()

        def abort() -> None:
            # A slow-dripping server could keep every single read inside the
            # socket timeout; shutting the socket down ends the exchange.
            expired.set()
            with suppress(OSError):
                raw.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), abort)
        watchdog.daemon = True
        watchdog.start()
        connection = http.client.HTTPConnection(target.url.host, target.url.port)
        try:
            sock: socket.socket = raw
            if target.url.scheme == "https":
                context = self._ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(raw, server_hostname=target.url.host)
            connection.sock = sock
            connection.putrequest(
                "POST", target.url.target, skip_host=True, skip_accept_encoding=True
            )
            connection.putheader("Host", target.url.host_header)
            connection.putheader("User-Agent", self.user_agent)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            content = response.read(self.max_body + 1)
            if expired.is_set():
                # The shutdown can read as a clean end of the answer: it is not one.
                raise TimeoutError
            return SendResult(
                status=response.status,
                duration_ms=_ms_since(started),
                body=content[: self.max_body],
                truncated=len(content) > self.max_body,
                headers={name.lower(): value for name, value in response.getheaders()},
            )
        except (OSError, http.client.HTTPException, ValueError) as exc:
            timed_out = f"timed out after {self.timeout:g} s"
            # The socket's own timeout is the time left to the deadline: when it
            # fires first, the deadline has passed just as when the watchdog does.
            deadline_passed = expired.is_set() or isinstance(exc, TimeoutError)
            message = timed_out if deadline_passed else _describe(exc)
            return SendResult(status=None, duration_ms=_ms_since(started), error=message)
        finally:
            watchdog.cancel()
            connection.close()
            with suppress(OSError):
                raw.close()


def _describe(exc: BaseException, *, connecting: bool = False) -> str:
    """A coarse, fixed description: which address refused, and how (refused,
    reset, unreachable), would turn the sender into a port scanner whose
    results the subscriber reads back from the delivery log."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = f"TLS certificate rejected: {exc.verify_message or 'verification failed'}"
    elif isinstance(exc, ssl.SSLError):
        text = "TLS handshake failed"
    elif isinstance(exc, TimeoutError | socket.timeout):
        text = "timed out"
    elif connecting:
        text = "could not connect"
    else:
        text = "the connection failed"
    return redact_text(text)[:500]


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
