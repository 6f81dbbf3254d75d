"""IBANs (mod-97 checked) and payment card numbers (Luhn checked, masked)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from processing.extraction.analysis.recognizers.scanning import DIGITS, finditer_in, needle_windows
from processing.extraction.result import Entity

# IBAN length by country (SWIFT IBAN registry).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
# Country code, check digits, then characters optionally separated by single
# spaces; the country's length decides where the IBAN ends.
_IBAN = re.compile(r"(?<![A-Za-z0-9])(?P<country>[A-Z]{2})\d{2}(?: ?[A-Z0-9]){11,31}")

# Card numbers: one run of digits, or the usual groupings (4-4-4-4[-3],
# 4-4-4-1..4, Amex/Diners 4-6-4/5) with one kind of separator.
_CARD = re.compile(
    r"(?<![\w.,+-])(?:"
    r"\d{13,19}"
    r"|\d{4}(?P<s1>[ -])\d{4}(?P=s1)\d{4}(?P=s1)\d{1,4}(?:(?P=s1)\d{1,3})?"
    r"|\d{4}(?P<s2>[ -])\d{6}(?P=s2)\d{4,5}"
    r")(?![\w]|[.,-]\d)"
)
_VISIBLE_DIGITS = 4
# An IBAN's check digits are its third and fourth characters; it runs on for at
# most 34 characters and 8 spaces.
_IBAN_REACH_BEFORE = 4
_IBAN_REACH_AFTER = 48

# Issuer prefixes (IIN ranges) and the lengths each network issues.
_CARD_BRANDS: tuple[tuple[tuple[tuple[int, int], ...], frozenset[int]], ...] = (
    (((4, 4),), frozenset({13, 16, 19})),  # Visa
    (((51, 55), (2221, 2720)), frozenset({16})),  # Mastercard
    (((34, 34), (37, 37)), frozenset({15})),  # American Express
    (((6011, 6011), (644, 649), (65, 65)), frozenset(range(16, 20))),  # Discover
    (((36, 36),), frozenset(range(14, 20))),  # Diners Club International
    (((300, 305), (38, 39)), frozenset(range(16, 20))),  # Diners Club
    (((3528, 3589),), frozenset(range(16, 20))),  # JCB
    (((62, 62),), frozenset(range(16, 20))),  # UnionPay
    (((2200, 2204),), frozenset(range(16, 20))),  # Mir
    (
        ((5018, 5018), (5020, 5020), (5038, 5038), (5893, 5893), (6304, 6304), (6759, 6759),
         (6761, 6763)),
        frozenset(range(13, 20)),
    ),  # Maestro
)  # fmt: skip


class IbanRecognizer:
    """IBANs, compact or in groups, that pass the mod-97 check.

    The country code must be a known one and the length the country's. Only
    upper-case IBANs are recognised: a lower-case token that happens to pass
    the check is likelier an identifier. The value is the compact IBAN.
    """

    name = "iban"

    def recognize(self, text: str) -> Iterator[Entity]:
        windows = needle_windows(text, DIGITS, before=_IBAN_REACH_BEFORE, after=_IBAN_REACH_AFTER)
        for window_start, window_end in windows:
            yield from _recognize_ibans(text, window_start, window_end)


def _recognize_ibans(text: str, position: int, window_end: int) -> Iterator[Entity]:
    # A candidate runs greedily into whatever follows; after a failed one the
    # search resumes one character on, so an IBAN right after it is still found.
    while match := _IBAN.search(text, position, window_end):
        end = _iban_end(text, match)
        compact = "" if end is None else text[match.start() : end].replace(" ", "")
        if end is None or not _iban_checksum_ok(compact):
            position = match.start() + 1
            continue
        yield Entity("iban", text[match.start() : end], compact, match.start(), end)
        position = end


def _iban_end(text: str, match: re.Match[str]) -> int | None:
    """Where the IBAN ends by its country's length, or ``None`` if it cannot."""
    length = _IBAN_LENGTHS.get(match["country"])
    if length is None:
        return None
    seen = 0
    for index in range(match.start(), match.end()):
        if text[index] != " ":
            seen += 1
            if seen == length:
                end = index + 1
                return None if text[end : end + 1].isalnum() else end
    return None


def _iban_checksum_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


class PaymentCardRecognizer:
    """Payment card numbers: a known issuer prefix and length, and a valid Luhn digit.

    The number never leaves the recogniser in clear: ``text`` keeps the source
    layout with all digits but the last four replaced by ``*``
    (``"**** **** **** 1111"``) and ``value`` is the masked compact number
    (``"************1111"``). ``start`` and ``end`` still locate the source span.
    """

    name = "payment_card"

    def recognize(self, text: str) -> Iterator[Entity]:
        for match in finditer_in(_CARD, text, needle_windows(text, DIGITS, before=4, after=8)):
            raw = match.group()
            digits = "".join(char for char in raw if char.isdigit())
            if not (_has_card_prefix(digits) and _luhn_ok(digits)):
                continue
            yield Entity(
                "payment_card", mask_card_number(raw), mask_card_number(digits), *match.span()
            )


def mask_card_number(raw: str) -> str:
    """``raw`` with every digit but the last four replaced by ``*``."""
    hidden = sum(char.isdigit() for char in raw) - _VISIBLE_DIGITS
    masked: list[str] = []
    for char in raw:
        if char.isdigit() and hidden > 0:
            masked.append("*")
            hidden -= 1
        else:
            masked.append(char)
    return "".join(masked)


def _has_card_prefix(digits: str) -> bool:
    for ranges, lengths in _CARD_BRANDS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            prefix = int(digits[: len(str(low))])
            if low <= prefix <= high:
                return True
    return False


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
