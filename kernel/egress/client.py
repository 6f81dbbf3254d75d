"""Outbound HTTP to an address the SSRF policy vetted, and one webhook POST.

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
from typing import ClassVar

from kernel.egress.addresses import VettedTarget
from kernel.egress.redaction import redact_text
from kernel.errors import AppError

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
        try:
            pinned = PinnedConnection.open(
                target, deadline=started + self.timeout, ssl_context=self._ssl_context
            )
        except ConnectFailedError as exc:
            message = exc.message or f"timed out after {self.timeout:g} s"
            return SendResult(status=None, duration_ms=_ms_since(started), error=message)
        except OSError as exc:  # the TLS handshake
            return SendResult(status=None, duration_ms=_ms_since(started), error=_describe(exc))
        try:
            connection = pinned.request(
                "POST",
                {"User-Agent": self.user_agent, **headers, "Content-Length": str(len(body))},
                body,
            )
            response = connection.getresponse()
            content = response.read(self.max_body + 1)
            pinned.check_deadline()
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
            deadline_passed = pinned.expired or isinstance(exc, TimeoutError)
            message = timed_out if deadline_passed else _describe(exc)
            return SendResult(status=None, duration_ms=_ms_since(started), error=message)
        finally:
            pinned.close()


class ConnectFailedError(AppError):
    """No vetted address of a target accepted a connection before the deadline;
    ``message`` is the coarse reason (empty when the deadline passed first)."""

    code: ClassVar[str] = "connect_failed"


class PinnedConnection:
    """An HTTP/1.1 connection to one of a vetted target's addresses, under one deadline.

    The socket connects to the pinned address, while ``Host``, SNI and the
    certificate check use the URL's host name. A watchdog shuts the socket
    down at the deadline, so a server dripping one byte at a time cannot keep
    each read inside the socket timeout for ever. Webhook POSTs and page
    fetches both go through here.
    """

    def __init__(
        self,
        raw: socket.socket,
        target: VettedTarget,
        *,
        deadline: float,
        ssl_context: ssl.SSLContext | None,
        read_timeout: float | None,
    ) -> None:
        self.target = target
        self._raw = raw
        self._expired = threading.Event()
        self._watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), self._abort)
        self._watchdog.daemon = True
        self._watchdog.start()
        self.connection = http.client.HTTPConnection(target.url.host, target.url.port)
        sock: socket.socket = raw
        if read_timeout is not None:
            raw.settimeout(read_timeout)
        if target.url.scheme == "https":
            context = ssl_context or ssl.create_default_context()
            try:
                sock = context.wrap_socket(raw, server_hostname=target.url.host)
            except BaseException:
                self.close()
                raise
        self.connection.sock = sock

    @classmethod
    def open(
        cls,
        target: VettedTarget,
        *,
        deadline: float,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> PinnedConnection:
        """Connect to the first of ``target``'s addresses that answers; ConnectFailedError
        when none does before ``deadline`` (``connect_timeout`` caps each attempt)."""
        errors: list[str] = []
        for address in target.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if connect_timeout is not None:
                remaining = min(remaining, connect_timeout)
            try:
                raw = socket.create_connection((str(address), target.url.port), timeout=remaining)
            except OSError as exc:
                errors.append(_describe(exc, connecting=True))
                continue
            return cls(
                raw, target, deadline=deadline, ssl_context=ssl_context, read_timeout=read_timeout
            )
        raise ConnectFailedError("; ".join(dict.fromkeys(errors)))

    @property
    def expired(self) -> bool:
        return self._expired.is_set()

    def request(
        self, method: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> http.client.HTTPConnection:
        """Send the request line, ``Host`` and ``headers`` (and ``body``)."""
        connection = self.connection
        connection.putrequest(
            method, self.target.url.target, skip_host=True, skip_accept_encoding=True
        )
        connection.putheader("Host", self.target.url.host_header)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection

    def check_deadline(self) -> None:
        """TimeoutError when the watchdog fired: the shutdown can read as a
        clean end of the answer, and it is not one."""
        if self._expired.is_set():
            raise TimeoutError

    def _abort(self) -> None:
        self._expired.set()
        with suppress(OSError):
            self._raw.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._watchdog.cancel()
        self.connection.close()
        with suppress(OSError):
            self._raw.close()


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
