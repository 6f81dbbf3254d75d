"""Fetching a URL a user supplied: GET through the SSRF policy, redirect by redirect.

Every hop is vetted by the :class:`~kernel.egress.addresses.AddressPolicy`
and connected to the address that was checked (:class:`PinnedConnection`);
at most ``max_redirects`` redirects are followed. The body is read in chunks
and refused once it passes ``max_bytes`` (announced by ``Content-Length`` or
not), compressed bodies are inflated incrementally under the same cap and a
ratio check (a gzip bomb never reaches memory), and the whole fetch (every
hop) has one deadline, with separate connect and read timeouts inside it.
"""

from __future__ import annotations

import http.client
import ssl
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urljoin

from kernel.egress.addresses import AddressPolicy
from kernel.egress.client import ConnectFailedError, PinnedConnection
from kernel.errors import AppError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
#: Bodies of error answers (4xx/5xx) are not kept beyond this.
_ERROR_BODY_BYTES = 8 * 1024


class FetchError(AppError):
    """A fetch that produced no usable answer; ``code`` says why."""

    code: ClassVar[str] = "fetch_failed"


class FetchTimeoutError(FetchError):
    code: ClassVar[str] = "timeout"


class FetchTooLargeError(FetchError):
    code: ClassVar[str] = "too_large"


class DecompressionBombError(FetchTooLargeError):
    """A compressed body that inflates far beyond its size."""

    code: ClassVar[str] = "decompression_bomb"


class TooManyRedirectsError(FetchError):
    code: ClassVar[str] = "too_many_redirects"


class UnsupportedEncodingError(FetchError):
    code: ClassVar[str] = "unsupported_encoding"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 100 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_redirects: int = 5
    #: Inflated size over compressed size beyond which a body is a bomb
    #: (only checked past ``ratio_floor_bytes`` of inflated output).
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchedResponse:
    """The final answer of a fetch: its status, headers and (inflated) body."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    redirects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        """The ``Content-Type`` without parameters, lowercase (empty when absent)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()


class PinnedFetcher:
    """GETs URLs through an :class:`AddressPolicy`, following vetted redirects."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        user_agent: str,
        limits: FetchLimits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self.user_agent = user_agent
        self.limits = limits or FetchLimits()
        self._ssl_context = ssl_context

    def get(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        follow_redirects: bool = True,
    ) -> FetchedResponse:
        """The answer at ``url`` after redirects (or the redirect itself, unless
        ``follow_redirects``). Raises UrlRejectedError (from the policy, for the
        URL or any redirect target) or a FetchError subclass."""
        deadline = time.monotonic() + self.limits.total_timeout
        current = url
        hops: list[str] = []
        while True:
            status, response_headers, body = self._get_once(current, headers or {}, deadline)
            location = response_headers.get("location")
            if status in REDIRECTS and location and follow_redirects:
                if len(hops) >= self.limits.max_redirects:
                    raise TooManyRedirectsError(f"more than {self.limits.max_redirects} redirects")
                hops.append(current)
                current = urljoin(current, location.strip())
                continue
            return FetchedResponse(
                url=url,
                final_url=current,
                status=status,
                headers=response_headers,
                body=body,
                redirects=tuple(hops),
            )

    def _get_once(
        self, url: str, headers: Mapping[str, str], deadline: float
    ) -> tuple[int, dict[str, str], bytes]:
        target = self.policy.vet(url)
        try:
            pinned = PinnedConnection.open(
                target,
                deadline=deadline,
                ssl_context=self._ssl_context,
                connect_timeout=self.limits.connect_timeout,
                read_timeout=self.limits.read_timeout,
            )
        except ConnectFailedError as exc:
            if not exc.message:
                raise FetchTimeoutError("the server did not answer in time") from None
            raise FetchError(exc.message) from None
        except OSError as exc:
            raise FetchError(_tls_reason(exc)) from None
        try:
            connection = pinned.request(
                "GET",
                {
                    "User-Agent": self.user_agent,
                    "Accept-Encoding": "gzip, deflate",
                    "Accept": "text/html,application/xhtml+xml,application/pdf,"
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
                    "text/plain;q=0.9,*/*;q=0.5",
                    "Connection": "close",
                    **headers,
                },
            )
            response = connection.getresponse()
            response_headers = {name.lower(): value for name, value in response.getheaders()}
            if response.status in REDIRECTS:
                return response.status, response_headers, b""
            cap = self.limits.max_bytes if response.status < 400 else _ERROR_BODY_BYTES
            body = self._read(response, response_headers, cap, truncate=response.status >= 400)
            pinned.check_deadline()
            return response.status, response_headers, body
        except TimeoutError:
            raise FetchTimeoutError("the page took longer than the time limit") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if pinned.expired:
                raise FetchTimeoutError("the page took longer than the time limit") from None
            raise FetchError("the connection failed while reading the page") from exc
        finally:
            pinned.close()

    def _read(
        self,
        response: http.client.HTTPResponse,
        headers: Mapping[str, str],
        cap: int,
        *,
        truncate: bool,
    ) -> bytes:
        declared = headers.get("content-length", "").strip()
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise UnsupportedEncodingError(f"the content encoding {encoding!r} is not supported")
        identity = encoding in ("identity", "")
        if not truncate and identity and declared.isdigit() and int(declared) > cap:
            raise FetchTooLargeError(f"the page is larger than the {cap}-byte limit")
        inflater = (
            _Inflater(encoding, cap, self.limits) if encoding not in ("identity", "") else None
        )
        out = bytearray()
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            out += inflater.feed(chunk) if inflater is not None else chunk
            if len(out) > cap:
                if truncate:
                    return bytes(out[:cap])
                raise FetchTooLargeError(f"the page is larger than the {cap}-byte limit")
        if inflater is not None:
            out += inflater.finish()
            if len(out) > cap and not truncate:
                raise FetchTooLargeError(f"the page is larger than the {cap}-byte limit")
        return bytes(out[:cap])


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than ``cap + 1``
    bytes and refuses a body whose inflation ratio marks it as a bomb."""

    def __init__(self, encoding: str, cap: int, limits: FetchLimits) -> None:
        # 47: gzip or zlib header, detected; deflate without a header is tried on failure.
        self._wbits = 47 if encoding in ("gzip", "x-gzip") else 15
        self._decoder = zlib.decompressobj(self._wbits)
        self._raw_deflate = encoding == "deflate"
        self._cap = cap
        self._limits = limits
        self._consumed = 0
        self._produced = 0

    def feed(self, chunk: bytes) -> bytes:
        try:
            data = self._decoder.decompress(chunk, self._cap + 1 - self._produced)
        except zlib.error:
            if self._raw_deflate and self._produced == 0:
                # Some servers send "deflate" as a raw stream without a zlib header.
                self._decoder = zlib.decompressobj(-15)
                self._raw_deflate = False
                data = self._decoder.decompress(chunk, self._cap + 1)
            else:
                raise FetchError("the compressed body is corrupt") from None
        self._produced += len(data)
        # What was inflated so far came from this much input (output stops at the cap).
        self._consumed += len(chunk) - len(self._decoder.unconsumed_tail)
        self._check()
        if self._decoder.unconsumed_tail:
            # Output was cut at the cap: the body is over it.
            raise self._over()
        return data

    def finish(self) -> bytes:
        try:
            data = self._decoder.flush()
        except zlib.error:
            raise FetchError("the compressed body is corrupt") from None
        self._produced += len(data)
        self._check()
        return data

    def _check(self) -> None:
        limits = self._limits
        if self._produced > limits.ratio_floor_bytes and self._produced > limits.max_ratio * max(
            self._consumed, 1
        ):
            raise DecompressionBombError(
                f"the compressed body inflates more than {limits.max_ratio:g} times"
            )
        if self._produced > self._cap:
            raise self._over()

    def _over(self) -> FetchTooLargeError:
        if self._produced > self._limits.max_ratio * max(self._consumed, 1):
            return DecompressionBombError(
                f"the compressed body inflates more than {self._limits.max_ratio:g} times"
            )
        return FetchTooLargeError(f"the inflated page is larger than the {self._cap}-byte limit")


def _tls_reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {exc.verify_message or 'verification failed'}"
    return "TLS handshake failed"
