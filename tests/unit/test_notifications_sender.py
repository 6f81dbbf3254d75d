"""The pinned HTTP sender against real sockets on loopback: address pinning with the
URL's Host and TLS name, no redirects, one deadline, bounded response reads."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kernel.egress.addresses import VettedTarget, split_url
from kernel.egress.client import MAX_RESPONSE_BYTES, PinnedSender
from tests.support.webhooks import Reply, receiving

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


def pinned(url: str, *addresses: str) -> VettedTarget:
    return VettedTarget(
        url=split_url(url), addresses=tuple(ipaddress.ip_address(a) for a in addresses)
    )


def test_connects_to_the_pinned_address_with_the_urls_host_header() -> None:
    with receiving(Reply(202, b"accepted")) as receiver:
        target = pinned(f"http://hooks.example.test:{receiver.port}/in?x=1", "127.0.0.1")
        result = PinnedSender().post(target, {"webhook-id": "m1"}, b'{"a":1}')
    assert result.status == 202
    assert result.body == b"accepted"
    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/in" and request.query == "x=1"
    assert request.body == b'{"a":1}'
    assert request.headers["webhook-id"] == "m1"


def test_falls_back_to_the_next_vetted_address_when_one_refuses() -> None:
    with receiving(Reply(200)) as receiver:
        # Only 127.0.0.1 listens; 127.0.0.2 is loopback too but refuses.
        target = pinned(f"http://hooks.example.test:{receiver.port}/", "127.0.0.2", "127.0.0.1")
        result = PinnedSender().post(target, {}, b"{}")
    assert result.status == 200
    assert len(receiver.requests) == 1


def test_a_refused_connection_is_an_error_without_status() -> None:
    with receiving() as receiver:
        port = receiver.port
    result = PinnedSender().post(pinned(f"http://hooks.example.test:{port}/", "127.0.0.1"), {}, b"")
    assert result.status is None
    # Coarse on purpose: no address and no kind of refusal (a port scanner's answers).
    assert result.error == "could not connect"


def test_redirects_are_not_followed() -> None:
    with receiving(Reply(200)) as elsewhere:
        redirect = Reply(302, headers=[("Location", elsewhere.url("/stolen"))])
        with receiving(redirect) as receiver:
            result = PinnedSender().post(pinned(receiver.url(), "127.0.0.1"), {}, b"{}")
    assert result.status == 302
    assert result.header("location") == elsewhere.url("/stolen")
    assert elsewhere.requests == []


def test_reads_at_most_20_kb_of_the_answer() -> None:
    with receiving(Reply(500, b"x" * (5 * MAX_RESPONSE_BYTES))) as receiver:
        result = PinnedSender().post(pinned(receiver.url(), "127.0.0.1"), {}, b"{}")
    assert result.status == 500
    assert len(result.body) == MAX_RESPONSE_BYTES == 20 * 1024
    assert result.truncated


def test_a_slow_answer_times_out() -> None:
    with receiving(Reply(200, delay=3.0)) as receiver:
        started = time.monotonic()
        result = PinnedSender(timeout=0.3).post(pinned(receiver.url(), "127.0.0.1"), {}, b"{}")
        elapsed = time.monotonic() - started
    assert result.status is None
    assert result.error == "timed out after 0.3 s"
    assert elapsed < 2.0


@pytest.fixture
def dripping_server() -> Iterator[int]:
    """A server that sends a status line, then one header byte every 50 ms, forever."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not stop.is_set():
                    try:
                        conn.sendall(b"a")
                    except OSError:
                        break
                    time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    listener.close()


def test_the_deadline_covers_the_whole_exchange(dripping_server: int) -> None:
    """Each byte arrives well within a socket timeout; the overall deadline still holds."""
    started = time.monotonic()
    target = pinned(f"http://hooks.example.test:{dripping_server}/", "127.0.0.1")
    result = PinnedSender(timeout=0.5).post(target, {}, b"{}")
    assert result.status is None
    assert result.error == "timed out after 0.5 s"
    assert time.monotonic() - started < 2.0


# -- TLS ----------------------------------------------------------------------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for ``name``: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class _TlsServer:
    def __init__(self, cert: Path, key: Path) -> None:
        self.sni: list[str | None] = []
        self.hosts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hosts.append(self.headers["Host"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        def remember(sock: Any, server_name: str | None, ctx: Any) -> None:
            outer.sni.append(server_name)

        context.sni_callback = remember
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[_TlsServer, ssl.SSLContext]]:
    ca, cert, key = _certificate(tmp_path, "hooks.example.test")
    server = _TlsServer(cert, key)
    client = ssl.create_default_context(cafile=str(ca))
    yield server, client
    server.stop()


def test_tls_uses_the_url_host_for_sni_and_certificate_check(
    tls_server: tuple[_TlsServer, ssl.SSLContext],
) -> None:
    server, client = tls_server
    target = pinned(f"https://hooks.example.test:{server.port}/hook", "127.0.0.1")
    result = PinnedSender(ssl_context=client).post(target, {}, b"{}")
    assert result.status == 200, result.error
    assert server.sni == ["hooks.example.test"]
    assert server.hosts == [f"hooks.example.test:{server.port}"]


def test_tls_refuses_a_certificate_for_another_name(
    tls_server: tuple[_TlsServer, ssl.SSLContext],
) -> None:
    """Pinning the address does not weaken the certificate check."""
    server, client = tls_server
    target = pinned(f"https://other.example.test:{server.port}/hook", "127.0.0.1")
    result = PinnedSender(ssl_context=client).post(target, {}, b"{}")
    assert result.status is None
    assert result.error is not None and result.error.startswith("TLS certificate rejected")
