"""IPv4 and IPv6 addresses, validated by the ``ipaddress`` module."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from processing.extraction.analysis.recognizers.scanning import DIGITS, finditer_in, needle_windows
from processing.extraction.result import Entity

# Four dotted numbers that are not part of a longer dotted sequence
# (``1.2.3.4.5``) nor of a word (``v1.2.3.4``).
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
# Hex groups joined by colons, optionally ending in a dotted IPv4 address; the
# ``ipaddress`` module decides what is valid.
_IPV6 = re.compile(
    r"(?<![\w:.%])"
    r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![\w:]|\.\w)"
)
# Dotted numbers after these words are versions or document numbering.
_NUMBERING_WORD = re.compile(
    r"(?:\b(?:version|ver|v|release|build|rev|revision|section|sect|sec|chapter|ch|"
    r"figure|fig|table|tab|clause|article|art|paragraph|para|step|item|part|appendix|"
    r"rule|no|nr|number)\.?|§)\s*$",
    re.IGNORECASE,
)
_CONTEXT = 24
# An outline number opening a line and followed by a heading
# (``4.2.1.3 Setup``) or by nothing (the heading on the next line).
_HEADING_AFTER = re.compile(r"[ \t]+[A-Z]|[ \t]*(?:\n|\Z)")


class IpAddressRecognizer:
    """IPv4 (valid octets, no leading zeros) and IPv6 addresses.

    The value is the address in canonical form (RFC 5952: compressed, lower
    case). Dotted quads that
    read as versions or section numbers (after "version", "section", "§"...,
    or opening a line as a heading number, alone or before a capitalised
    title) are not reported.
    """

    name = "ip_address"

    def recognize(self, text: str) -> Iterator[Entity]:
        yield from self._recognize_ipv4(text)
        yield from self._recognize_ipv6(text)

    def _recognize_ipv4(self, text: str) -> Iterator[Entity]:
        windows = needle_windows(text, DIGITS, before=4, after=8)
        for match in finditer_in(_IPV4, text, windows):
            candidate = match.group()
            try:
                address = ipaddress.IPv4Address(candidate)
            except ValueError:
                continue
            start, end = match.span()
            if _reads_as_numbering(text, start, end):
                continue
            yield Entity("ip_address", candidate, str(address), start, end)

    def _recognize_ipv6(self, text: str) -> Iterator[Entity]:
        # Up to 45 characters of an address may lie on either side of a colon.
        windows = needle_windows(text, (":",), before=48, after=48)
        for match in finditer_in(_IPV6, text, windows):
            candidate = match.group()
            if not _is_plausible_ipv6(candidate):
                continue
            try:
                address = ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            yield Entity("ip_address", candidate, _ipv6_value(address), *match.span())


def _reads_as_numbering(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _CONTEXT) : start]
    if _NUMBERING_WORD.search(before):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    opens_line = not text[line_start:start].strip()
    return opens_line and bool(_HEADING_AFTER.match(text, end))


def _ipv6_value(address: ipaddress.IPv6Address) -> str:
    """Compressed form; IPv4-mapped addresses keep the dotted quad (RFC 5952, section 5)."""
    mapped = address.ipv4_mapped
    return address.compressed if mapped is None else f"::ffff:{mapped}"


def _is_plausible_ipv6(candidate: str) -> bool:
    """Rule out colon runs that are valid IPv6 only in theory (``a::b``-like words)."""
    if candidate == "::1":
        return True
    groups = [group for group in candidate.split(":") if group]
    return len(groups) >= 2 and any(char.isdigit() for char in candidate)
