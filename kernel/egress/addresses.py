"""The SSRF policy for outbound requests: which URLs and addresses may be called.

A target is vetted when a subscription is registered and again before every
delivery attempt: its host is resolved once, every A and AAAA answer must
pass, and the sender then connects to one of exactly those addresses (see
:mod:`kernel.egress.client`), so a DNS answer that changes between the check
and the connection (rebinding) cannot redirect the request.

Deny by default outside the public unicast space: IPv4 ranges are listed
explicitly and anything :attr:`ipaddress.IPv4Address.is_global` rejects is
refused as well; IPv6 must be global unicast (``2000::/3``) outside the
documentation, Teredo and IETF ranges. Addresses that embed an IPv4 address
(IPv4-mapped, NAT64, 6to4) are judged by that IPv4 address, since that is
what a dual-stack socket or a translator connects to.

Host literals are read the way ``inet_aton``/``getaddrinfo`` read them
(``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``), so spelling an
address differently does not get it past the check.

The only opt-out is the policy's allow-list (``WEBHOOK_ALLOWED_CIDRS`` for
webhooks); the cloud metadata addresses stay refused even inside it. Each
capability that calls out (webhooks, web ingestion) has its own policy, named
by ``purpose`` in what it refuses.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import SplitResult, urlsplit

from kernel.errors import AppError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Resolves ``(host, port)`` to address strings, as ``getaddrinfo`` would.
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


class UrlRejectedError(AppError):
    """A URL the policy refuses; ``code`` says why."""

    code: ClassVar[str] = "invalid_url"


class InvalidUrlError(UrlRejectedError):
    code: ClassVar[str] = "invalid_url"


class InsecureSchemeError(UrlRejectedError):
    code: ClassVar[str] = "insecure_scheme"


class UnresolvableHostError(UrlRejectedError):
    code: ClassVar[str] = "unresolvable_host"


class ForbiddenAddressError(UrlRejectedError):
    code: ClassVar[str] = "forbidden_address"


class PortNotAllowedError(UrlRejectedError):
    code: ClassVar[str] = "port_not_allowed"


class OwnEndpointError(UrlRejectedError):
    """The URL names the app itself: requests to it would loop back into the app."""

    code: ClassVar[str] = "own_endpoint"


def _v4(cidr: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cidr)


def _v6(cidr: str) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network(cidr)


#: Cloud metadata endpoints: refused even when the allow-list covers them.
_METADATA: tuple[tuple[IPNetwork, str], ...] = (
    (_v4("169.254.169.254/32"), "cloud instance metadata"),
    (_v4("168.63.129.16/32"), "Azure WireServer"),
    (_v6("fd00:ec2::254/128"), "cloud instance metadata"),
)

#: Most specific first: the first match names the reason.
_DENIED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_v4("168.63.129.16/32"), "Azure WireServer"),
    (_v4("255.255.255.255/32"), "broadcast"),
    (_v4("0.0.0.0/8"), "'this network'"),
    (_v4("10.0.0.0/8"), "private"),
    (_v4("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (_v4("127.0.0.0/8"), "loopback"),
    (_v4("169.254.0.0/16"), "link-local"),
    (_v4("172.16.0.0/12"), "private"),
    (_v4("192.0.0.0/24"), "IETF protocol assignment"),
    (_v4("192.0.2.0/24"), "documentation"),
    (_v4("192.88.99.0/24"), "6to4 relay anycast"),
    (_v4("192.168.0.0/16"), "private"),
    (_v4("198.18.0.0/15"), "benchmarking"),
    (_v4("198.51.100.0/24"), "documentation"),
    (_v4("203.0.113.0/24"), "documentation"),
    (_v4("224.0.0.0/4"), "multicast"),
    (_v4("240.0.0.0/4"), "reserved"),
)

_DENIED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_v6("::/128"), "unspecified"),
    (_v6("::1/128"), "loopback"),
    (_v6("::/96"), "deprecated IPv4-compatible"),
    (_v6("64:ff9b:1::/48"), "local-use NAT64"),
    (_v6("100::/64"), "discard-only"),
    (_v6("2001::/32"), "Teredo"),
    (_v6("2001:db8::/32"), "documentation"),
    (_v6("2001::/23"), "IETF protocol assignment"),
    (_v6("3fff::/20"), "documentation"),
    (_v6("fc00::/7"), "unique-local (private)"),
    (_v6("fe80::/10"), "link-local"),
    (_v6("fec0::/10"), "site-local"),
    (_v6("ff00::/8"), "multicast"),
)
_GLOBAL_UNICAST_V6 = _v6("2000::/3")
_NAT64 = _v6("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class TargetUrl:
    """A syntactically valid http(s) URL, split into what a request needs."""

    url: str
    scheme: str
    host: str  # lowercase, IDNA-encoded; an IP literal without brackets
    port: int
    target: str  # path and query, as sent on the request line
    literal: IPAddress | None  # the host as an address, when it is one

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class VettedTarget:
    """A vetted URL and the addresses it may be reached at, in resolver order."""

    url: TargetUrl
    addresses: tuple[IPAddress, ...]


def split_url(url: str) -> TargetUrl:
    """Parse ``url``: an absolute http(s) URL with a host, without credentials
    or fragment; InvalidUrlError otherwise. Nothing is resolved."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidUrlError("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrlError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidUrlError("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrlError(f"the URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidUrlError("the URL must start with https:// (or http:// where allowed)")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrlError("credentials in the URL are not supported")
    if parts.fragment or url.endswith("#"):
        raise InvalidUrlError("the URL cannot have a fragment")
    if port == 0:
        raise InvalidUrlError("port 0 is not a valid port")
    host, literal = _parse_host(parts)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return TargetUrl(
        url=url,
        scheme=scheme,
        host=host,
        port=port or _DEFAULT_PORTS[scheme],
        target=target,
        literal=literal,
    )


def _parse_host(parts: SplitResult) -> tuple[str, IPAddress | None]:
    raw = parts.hostname or ""
    if not raw:
        raise InvalidUrlError("the URL has no host")
    netloc_host = parts.netloc.rpartition("@")[2]
    if netloc_host.startswith("["):
        try:
            return raw, ipaddress.IPv6Address(raw)
        except ValueError:
            raise InvalidUrlError(f"{raw!r} is not an IPv6 address") from None
    literal = parse_ipv4_literal(raw)
    if literal is not None:
        return str(literal), literal
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidUrlError(f"the host {raw!r} is not a valid domain name") from None
    host = host.removesuffix(".")
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidUrlError(f"the host {raw!r} is not a valid domain name")
    return host, None


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The address ``inet_aton`` reads in ``host`` (1 to 4 dot-separated
    numbers, each decimal, octal with a leading 0, or hex with 0x), or None
    when ``host`` is a name. A host whose last label is numeric but which is
    no valid address is refused, as a browser's URL parser refuses it."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot: "127.0.0.1." is still an address
    if not _NUMERIC_PART.match(parts[-1]):
        return None
    numbers = [_inet_number(part) for part in parts]
    if len(numbers) > 4 or any(n is None for n in numbers):
        raise InvalidUrlError(f"the host {host!r} looks numeric but is not an IPv4 address")
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        raise InvalidUrlError(f"the host {host!r} is an out-of-range IPv4 address")
    value = last
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _inet_number(part: str) -> int | None:
    if not _NUMERIC_PART.match(part):
        return None
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if any(ch in "89" for ch in part):
            return None
        return int(part, 8)
    return int(part)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (A and AAAA), in its order."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHostError(f"the host {host!r} does not resolve: {exc}") from None
    seen: list[str] = []
    for family, _, _, _, sockaddr in answers:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = str(sockaddr[0])
            if address not in seen:
                seen.append(address)
    return seen


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv4-mapped, NAT64 or 6to4 address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    return None


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an address is refused: the kind of range, and for an IPv6 address
    that carries an IPv4 one, the form and the IPv4 address that was judged."""

    kind: str
    embedded_in: str | None = None
    inner: ipaddress.IPv4Address | None = None

    def describe(self, *, reveal: bool = False) -> str:
        """``a private address``; with ``reveal``, the embedded IPv4 address too."""
        text = f"a {self.kind} address"
        if self.embedded_in is None:
            return text
        shown = f" {self.inner}" if reveal and self.inner is not None else ""
        return f"{text} ({self.embedded_in}{shown})"


class AddressPolicy:
    """Decides which URLs and addresses one kind of outbound request may reach.

    ``purpose`` (``"webhooks"``) and ``allow_list_setting`` (the setting that
    holds ``allowed``) name the caller in the reasons it gives.
    """

    def __init__(
        self,
        allowed: Iterable[IPNetwork] = (),
        resolver: Resolver = system_resolver,
        *,
        purpose: str = "webhooks",
        allow_list_setting: str = "WEBHOOK_ALLOWED_CIDRS",
        ports: Iterable[int] | None = None,
        own_endpoints: Iterable[tuple[str, int]] = (),
    ) -> None:
        self.allowed = tuple(allowed)
        self._resolver = resolver
        self._purpose = purpose
        self._allow_list_setting = allow_list_setting
        #: Ports allowed outside the allow-list (None: any port).
        self.ports = frozenset(ports) if ports is not None else None
        #: Where the app itself is reached: (host, port), as callers see it.
        self.own_endpoints = tuple((host.lower().rstrip("."), port) for host, port in own_endpoints)

    def denial(self, address: IPAddress) -> Denial | None:
        """Why ``address`` is refused, or None when the policy allows connecting to it."""
        address = _without_scope(address)
        embedded = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
        inner, form = embedded if embedded else (None, None)
        for candidate in (address, inner):
            label = _metadata_label(candidate) if candidate is not None else None
            if label is not None:
                if candidate is inner:
                    return Denial(label, form, inner)
                return Denial(label)
        if self.is_allowed(address):
            return None
        if inner is not None:
            kind = _denied_range(inner)
            return Denial(kind, form, inner) if kind else None
        kind = _denied_range(address)
        return Denial(kind) if kind else None

    def is_allowed(self, address: IPAddress) -> bool:
        """Whether the allow-list covers ``address`` (or the IPv4 address it embeds)."""
        address = _without_scope(address)
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded[0])
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.allowed
        )

    def vet(self, url: str) -> VettedTarget:
        """Parse, resolve and check ``url``; the target to connect to, or a
        UrlRejectedError subclass saying why not."""
        parsed = split_url(url)
        self._check_not_own(parsed.host, parsed.port)
        addresses = self.resolve(parsed)
        self._check_own_addresses(addresses, parsed.port)
        for address in addresses:
            denial = self.denial(address)
            if denial is None:
                continue
            if parsed.literal is None:
                # The resolved address stays out of the message: the API must
                # not become a way to read the internal DNS.
                raise ForbiddenAddressError(
                    f"the host {parsed.host!r} resolves to {denial.describe()};"
                    f" {self._purpose} may only target public addresses"
                )
            raise ForbiddenAddressError(
                f"{address} is {denial.describe(reveal=True)}; {self._purpose} may only"
                " target public addresses"
            )
        inside_allow_list = all(self.is_allowed(a) for a in addresses)
        if parsed.scheme == "http" and not inside_allow_list:
            raise InsecureSchemeError(
                f"{self._purpose} URLs must use https; plain http is only accepted"
                f" towards addresses in {self._allow_list_setting}"
            )
        if self.ports is not None and parsed.port not in self.ports and not inside_allow_list:
            shown = ", ".join(str(p) for p in sorted(self.ports))
            raise PortNotAllowedError(f"{self._purpose} may only target ports {shown}")
        return VettedTarget(url=parsed, addresses=addresses)

    def _check_not_own(self, host: str, port: int) -> None:
        if (host, port) in self.own_endpoints:
            raise OwnEndpointError(f"{self._purpose} cannot target this app itself")

    def _check_own_addresses(self, addresses: tuple[IPAddress, ...], port: int) -> None:
        """Refuse other names for the app (its addresses, on its port)."""
        for host, own_port in self.own_endpoints:
            if own_port != port:
                continue
            try:
                own = self.resolve(split_url(f"https://{_bracketed(host)}:{own_port}/"))
            except UrlRejectedError:
                continue  # the app's own name does not resolve here: nothing to compare
            if set(own) & set(addresses):
                raise OwnEndpointError(f"{self._purpose} cannot target this app itself")

    def resolve(self, parsed: TargetUrl) -> tuple[IPAddress, ...]:
        """The addresses of ``parsed.host``: the literal itself, or the resolver's answers."""
        if parsed.literal is not None:
            return (parsed.literal,)
        if parsed.host == "localhost" or parsed.host.endswith(".localhost"):
            # RFC 6761: always loopback, whatever a resolver says.
            return (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))
        answers = self._resolver(parsed.host, parsed.port)
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                address = ipaddress.ip_address(answer)
            except ValueError:
                raise UnresolvableHostError(
                    f"the host {parsed.host!r} resolved to something that is not an address"
                ) from None
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise UnresolvableHostError(f"the host {parsed.host!r} has no A or AAAA record")
        return tuple(addresses)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def timed_resolver(resolver: Resolver, timeout: float, *, threads: int = 4) -> Resolver:
    """``resolver`` with an answer within ``timeout`` seconds, or UnresolvableHostError.

    ``getaddrinfo`` has no timeout of its own; lookups run on a small pool of
    threads, so a resolver that hangs costs a thread, never a request.
    """
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as FutureTimeout

    pool = ThreadPoolExecutor(threads, thread_name_prefix="dns")

    def resolve(host: str, port: int) -> Sequence[str]:
        future = pool.submit(resolver, host, port)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise UnresolvableHostError(
                f"the host {host!r} did not resolve within {timeout:g} s"
            ) from None

    return resolve


def _metadata_label(address: IPAddress) -> str | None:
    for network, label in _METADATA:
        if address.version == network.version and address in network:
            return label
    return None


def _denied_range(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv4Address):
        for network4, label in _DENIED_V4:
            if address in network4:
                return label
        return None if address.is_global else "non-public"
    for network6, label in _DENIED_V6:
        if address in network6:
            return label
    return None if address in _GLOBAL_UNICAST_V6 else "reserved"


def _without_scope(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return ipaddress.IPv6Address(int(address))
    return address
