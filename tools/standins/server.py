"""The plumbing the loopback stand-ins share: server, TLS, recorded requests, faults.

Each stand-in subclasses :class:`StandIn` and :class:`StandInHandler` and keeps its
service's contract -- routes, error bodies and headers, which statuses it may be told
to fail with -- in its own module. This module holds what is the same for all:

* :class:`StandIn` serves a ``ThreadingHTTPServer`` on a port the OS picks, from a
  daemon thread: ``start()``/``stop()`` or a ``with`` block; ``endpoint`` is the
  running server's ``http(s)://host:port``.
* With ``tls=True`` it serves HTTPS with a throwaway self-signed certificate for
  127.0.0.1 and localhost that is its own CA, so the certificate's PEM file
  (``_ca_file``, which each stand-in shows as ``ca_path``) is the client's trust anchor.
* ``requests`` is every request the handler passed to ``_record``, oldest first;
  :func:`redact` takes the secrets out of headers before they are recorded.
* :class:`FaultQueue` holds the failures ``fail_next`` asked for, one per request.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import shutil
import socket
import ssl
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
REDACTED = "<redacted>"

_R = TypeVar("_R")  # the stand-in's RecordedRequest
_S = TypeVar("_S", bound="StandIn[Any]")


def redact(
    headers: Mapping[str, str], secrets: Collection[str], *, drop: bool = False
) -> dict[str, str]:
    """``headers`` with the value of each of ``secrets`` replaced by ``REDACTED``.

    ``secrets`` are lower-case names, matched case-insensitively; the names are kept
    as given. With ``drop`` the secret headers are left out instead.
    """
    shown: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() not in secrets:
            shown[name] = value
        elif not drop:
            shown[name] = REDACTED
    return shown


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure: its status and ``Retry-After`` in seconds (None: no header)."""

    status: int
    retry_after: float | None


class FaultQueue:
    """The failures ``fail_next`` queued, each answering one request, oldest first.

    Tests queue from their thread while handler threads take, hence the lock.
    """

    def __init__(self, statuses: Collection[int]) -> None:
        """``statuses`` are the ones the service is known to answer with."""
        self.statuses = frozenset(statuses)
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()

    def add(self, status: int, count: int, retry_after: float | None) -> None:
        """Queue ``count`` failures with ``status``, which must be one of ``statuses``."""
        if status not in self.statuses:
            raise ValueError(f"fail_next takes a status in {sorted(self.statuses)}, not {status}")
        with self._lock:
            self._queue.extend([Fault(status, retry_after)] * count)

    def take(self) -> Fault | None:
        """The failure to answer this request with, or None to answer it normally."""
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        """Forget the queued failures."""
        with self._lock:
            self._queue.clear()


class _Server(ThreadingHTTPServer, Generic[_S]):
    """One stand-in's HTTP server; its handlers reach the stand-in as ``server.standin``."""

    daemon_threads = True

    def __init__(
        self,
        standin: _S,
        handler: type[BaseHTTPRequestHandler],
        context: ssl.SSLContext | None,
    ) -> None:
        super().__init__((standin.host, 0), handler)
        self.standin = standin
        if context is not None:
            # The handshake is left to each connection's own thread (finish_request), so
            # a client that stalls or refuses the certificate does not hold up accept().
            self.socket = context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.do_handshake()
        super().finish_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections, so a stopped stand-in answers nothing more."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or refuses the certificate is not a stand-in failure;
        # keep it out of the test output.
        error = sys.exc_info()[1]
        log.debug("%s: connection from %s failed: %r", self.standin._name, client_address, error)


class StandInHandler(BaseHTTPRequestHandler, Generic[_S]):
    """The base of a stand-in's request handler.

    A subclass adds the ``do_<METHOD>`` methods its service answers, reaches the stand-in
    as ``self.server.standin`` and answers with :meth:`reply`.
    """

    # HTTP/1.1 keeps the SDKs' pooled connections alive between requests.
    protocol_version = "HTTP/1.1"
    server: _Server[_S]

    def reply(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        """Send one response: ``status``, ``headers``, ``Content-Length`` and ``data``."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # Access lines go to debug logging rather than stderr.
        log.debug("%s: %s", self.server.standin._name, format % args)


class StandIn(Generic[_R]):
    """A stand-in server: ``start()``/``stop()`` or ``with StandIn(...) as server:``.

    A subclass passes its handler class and ``name`` ("search" names the "search
    stand-in" in log lines, its thread and its certificate), and its handler records
    each request with :meth:`_record`.
    """

    def __init__(
        self,
        handler: type[StandInHandler[Any]],
        *,
        name: str,
        tls: bool,
        host: str = LOOPBACK,
    ) -> None:
        self.tls = tls
        self.host = host
        self._name = f"{name} stand-in"
        self._handler = handler
        self._requests: list[_R] = []
        self._requests_lock = threading.Lock()
        self._server: _Server[Self] | None = None
        self._thread: threading.Thread | None = None
        self._cert_dir: Path | None = None
        self._ca_file: Path | None = None

    @property
    def endpoint(self) -> str:
        """``http(s)://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self._server.server_address[1]}"

    def start(self) -> Self:
        """Listen on a free port and serve from a daemon thread; no-op when started."""
        if self._server is not None:
            return self
        context = None
        if self.tls:
            slug = self._name.lower().replace(" ", "-")
            self._cert_dir = Path(tempfile.mkdtemp(prefix=f"{slug}-"))
            self._ca_file, key_file = _self_signed(self._cert_dir, self._name)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self._ca_file, key_file)
        self._server = _Server(self, self._handler, context)
        # A short poll interval keeps stop(), and so each test's teardown, quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self._name, daemon=True
        )
        self._thread.start()
        log.info("%s listening on %s", self._name, self.endpoint)
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and delete the certificate; no-op when stopped."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join()
        if self._cert_dir is not None:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
        self._server = self._thread = None
        self._cert_dir = self._ca_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def requests(self) -> list[_R]:
        """The recorded requests, oldest first (a copy)."""
        with self._requests_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._requests_lock:
            self._requests.clear()

    def _record(self, request: _R) -> None:
        with self._requests_lock:
            self._requests.append(request)


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost that is its own CA, and its key, as PEM files.

    CA:TRUE and keyCertSign let the same file serve as the client's trust anchor.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    loopback = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
    usage = x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(loopback), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path
