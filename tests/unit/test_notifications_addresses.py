"""The webhook SSRF policy: URL syntax, schemes, address ranges, host-literal tricks,
resolution, and the allow-list."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from kernel.egress.addresses import (
    AddressPolicy,
    ForbiddenAddressError,
    InsecureSchemeError,
    InvalidUrlError,
    UnresolvableHostError,
    UrlRejectedError,
    parse_ipv4_literal,
    split_url,
)
from kernel.env import parse_cidrs
from tests.support.webhooks import FixedResolver

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


def policy(allowed: str = "", answers: dict[str, list[str]] | None = None) -> AddressPolicy:
    """A policy whose resolver knows ``hooks.example.test`` and the given names."""
    resolver = FixedResolver({"hooks.example.test": [PUBLIC_V4], **(answers or {})})
    return AddressPolicy(parse_cidrs(allowed), resolver)


FORBIDDEN_HOSTS = [
    # IPv4 ranges
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.0.1",
    "169.254.169.254",
    "168.63.129.16",
    "100.64.0.1",
    "100.127.255.254",
    "192.0.0.8",
    "192.0.0.9",
    "198.18.0.1",
    "198.19.255.255",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "192.88.99.1",
    # IPv4 spelled the way inet_aton reads it
    "2130706433",
    "0x7f000001",
    "0X7F000001",
    "0177.0.0.1",
    "0177.0000.0000.0001",
    "127.1",
    "127.0.1",
    "0x7f.1",
    "127.0.0.1.",
    "017700000001",
    "0xa9.0xfe.0xa9.0xfe",
    "167772161",
    # IPv6
    "[::1]",
    "[::]",
    "[0:0:0:0:0:0:0:1]",
    "[fc00::1]",
    "[fd12:3456:789a::1]",
    "[fe80::1]",
    "[fe80::1%25eth0]",
    "[fec0::1]",
    "[ff02::1]",
    "[ff0e::1]",
    "[2001:db8::1]",
    "[3fff::1]",
    "[2001::1]",
    "[100::1]",
    "[fd00:ec2::254]",
    # IPv6 forms that embed an IPv4 address, judged by that address
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::10.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b:1::1]",
    "[2002:7f00:1::1]",
    "[2002:c0a8:101::1]",
    "[2002:a9fe:a9fe::]",
    "[::127.0.0.1]",
    # names that are loopback by definition
    "localhost",
    "LOCALHOST",
    "hooks.localhost",
]


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
def test_forbidden_hosts_are_refused_with_forbidden_address(host: str) -> None:
    with pytest.raises(ForbiddenAddressError) as caught:
        policy().vet(f"https://{host}/hook")
    assert caught.value.code == "forbidden_address"
    assert "public addresses" in caught.value.message


@pytest.mark.parametrize(
    "host",
    [
        PUBLIC_V4,
        "8.8.8.8",
        "1.1.1.1",
        f"[{PUBLIC_V6}]",
        "[2606:4700:4700::1111]",
        "[::ffff:8.8.8.8]",
        "[64:ff9b::8.8.8.8]",
        "[2002:808:808::1]",
        "hooks.example.test",
        "0x5d.0xb8.0xd7.0x0e",  # 93.184.215.14 in hex
    ],
)
def test_public_hosts_pass(host: str) -> None:
    target = policy().vet(f"https://{host}/hook?x=1")
    assert target.addresses
    assert target.url.target == "/hook?x=1"


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a00:1", "2002:c0a8:101::1", "224.0.0.1", "::127.0.0.1", "168.63.129.16"],
)
def test_addresses_pythons_is_global_accepts_are_still_refused(address: str) -> None:
    """is_global alone would let these through."""
    parsed = ipaddress.ip_address(address)
    assert parsed.is_global
    assert policy().denial(parsed) is not None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("1.2.3", "1.2.0.3"),
        ("0x7f.1", "127.0.0.1"),
        ("010.010.010.010", "8.8.8.8"),
        ("0", "0.0.0.0"),
        ("4294967295", "255.255.255.255"),
    ],
)
def test_ipv4_literals_read_like_inet_aton(host: str, expected: str) -> None:
    assert parse_ipv4_literal(host) == ipaddress.IPv4Address(expected)
    assert socket.inet_aton(host) == ipaddress.IPv4Address(expected).packed


def test_a_bare_hex_prefix_is_read_as_zero_not_looked_up() -> None:
    """glibc would send "0x" to DNS; browsers read it as 0. The stricter reading wins."""
    assert parse_ipv4_literal("0x") == ipaddress.IPv4Address("0.0.0.0")


@pytest.mark.parametrize("host", ["example.com", "hooks.example.test", "1.2.3.example", "a1"])
def test_names_are_not_ipv4_literals(host: str) -> None:
    assert parse_ipv4_literal(host) is None


@pytest.mark.parametrize(
    "host", ["1.2.3.256", "256.1.1.1", "4294967296", "1.2.3.4.5", "08.1.1.1", "1.0x100.1.1"]
)
def test_numeric_hosts_that_are_no_address_are_invalid(host: str) -> None:
    with pytest.raises(InvalidUrlError):
        policy().vet(f"https://{host}/")


def test_a_name_is_refused_if_any_of_its_addresses_is_forbidden() -> None:
    """Every A and AAAA answer is checked, not just the first."""
    checked = policy(answers={"mixed.example.test": [PUBLIC_V4, PUBLIC_V6, "10.0.0.7"]})
    with pytest.raises(ForbiddenAddressError) as caught:
        checked.vet("https://mixed.example.test/hook")
    assert "private" in caught.value.message
    # The resolved address itself stays out of the answer (no DNS oracle).
    assert "10.0.0.7" not in caught.value.message


@pytest.mark.parametrize(
    "answers",
    [["127.0.0.1"], ["::1"], ["fd00::5"], ["169.254.169.254"], ["::ffff:192.168.0.1"]],
)
def test_names_resolving_to_internal_addresses_are_refused(answers: list[str]) -> None:
    with pytest.raises(ForbiddenAddressError):
        policy(answers={"internal.example.test": answers}).vet("https://internal.example.test/")


def test_a_literal_is_judged_without_asking_the_resolver() -> None:
    resolver = FixedResolver({})
    AddressPolicy((), resolver).vet(f"https://{PUBLIC_V4}/")
    with pytest.raises(ForbiddenAddressError):
        AddressPolicy((), resolver).vet("https://2130706433/")
    assert resolver.lookups == []


def test_an_unresolvable_host_is_refused_with_its_own_code() -> None:
    with pytest.raises(UnresolvableHostError) as caught:
        policy().vet("https://nowhere.example.test/hook")
    assert caught.value.code == "unresolvable_host"


def test_a_host_without_addresses_is_unresolvable() -> None:
    with pytest.raises(UnresolvableHostError):
        policy(answers={"empty.example.test": []}).vet("https://empty.example.test/")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "not a url",
        "hooks.example.test/hook",
        "//hooks.example.test/hook",
        "ftp://hooks.example.test/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https:///path",
        "https://user:secret@hooks.example.test/",
        "https://hooks.example.test/#fragment",
        "https://hooks.example.test/ space",
        "https://hooks.example.test/\r\nX-Injected: 1",
        "https://hooks.example.test:0/",
        "https://hooks.example.test:99999/",
        "https://hooks.example.test:port/",
        "https://[::1/",
        "https://[not-ipv6]/",
        "https://-bad-.example.test/",
        "https://" + "a" * 64 + ".example.test/",
        "https://hooks.example.test/" + "x" * 2100,
    ],
)
def test_malformed_urls_are_invalid_url(url: str) -> None:
    with pytest.raises(InvalidUrlError) as caught:
        policy().vet(url)
    assert caught.value.code == "invalid_url"


def test_plain_http_is_refused_towards_public_addresses() -> None:
    with pytest.raises(InsecureSchemeError) as caught:
        policy().vet("http://hooks.example.test/hook")
    assert caught.value.code == "insecure_scheme"
    assert "https" in caught.value.message


def test_plain_http_is_accepted_only_inside_the_allow_list() -> None:
    allowing = policy("127.0.0.0/8", answers={"both.example.test": ["127.0.0.1", PUBLIC_V4]})
    assert allowing.vet("http://127.0.0.1:8080/hook").addresses == (
        ipaddress.IPv4Address("127.0.0.1"),
    )
    with pytest.raises(InsecureSchemeError):
        allowing.vet("http://both.example.test/hook")  # one answer is outside the list


def test_the_allow_list_opens_exactly_its_ranges() -> None:
    allowing = policy("127.0.0.0/8, fd00::/8")
    allowing.vet("https://127.0.0.1/")
    allowing.vet("https://2130706433/")
    allowing.vet("https://[::ffff:127.0.0.1]/")  # judged by the embedded address
    allowing.vet("https://[fd00::1]/")
    for host in ("10.0.0.1", "[::1]", "[fc00::1]", "192.168.0.1"):
        with pytest.raises(ForbiddenAddressError):
            allowing.vet(f"https://{host}/")


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "168.63.129.16", "[::ffff:169.254.169.254]", "[fd00:ec2::254]"]
)
def test_metadata_addresses_stay_refused_even_when_allow_listed(host: str) -> None:
    with pytest.raises(ForbiddenAddressError) as caught:
        policy("0.0.0.0/0, ::/0").vet(f"https://{host}/")
    assert "metadata" in caught.value.message or "WireServer" in caught.value.message


def test_refusals_say_why() -> None:
    with pytest.raises(ForbiddenAddressError) as caught:
        policy().vet("https://[::ffff:10.1.2.3]/")
    assert caught.value.message.startswith("::ffff:a01:203 is a private address (IPv4-mapped")
    assert "10.1.2.3" in caught.value.message
    with pytest.raises(ForbiddenAddressError) as link_local:
        policy().vet("https://169.254.1.1/")
    assert "link-local" in link_local.value.message


def test_every_refusal_is_a_url_rejected_error() -> None:
    for error in (InvalidUrlError, InsecureSchemeError, UnresolvableHostError):
        assert issubclass(error, UrlRejectedError)
    assert issubclass(ForbiddenAddressError, UrlRejectedError)


@pytest.mark.parametrize(
    ("url", "host_header"),
    [
        ("https://hooks.example.test/a", "hooks.example.test"),
        ("https://HOOKS.Example.test:443/a", "hooks.example.test"),
        ("https://hooks.example.test:8443/a", "hooks.example.test:8443"),
        ("http://hooks.example.test:80/a", "hooks.example.test"),
        ("https://[2606:4700::1111]/a", "[2606:4700::1111]"),
        ("https://[2606:4700::1111]:8443/a", "[2606:4700::1111]:8443"),
        ("https://bücher.example.test/a", "xn--bcher-kva.example.test"),
    ],
)
def test_the_host_header_names_the_url_host(url: str, host_header: str) -> None:
    assert split_url(url).host_header == host_header


def test_a_url_without_path_posts_to_the_root() -> None:
    assert split_url("https://hooks.example.test?x=1").target == "/?x=1"
