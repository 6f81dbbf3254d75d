"""Money amounts and percentages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from processing.extraction.analysis.recognizers.scanning import (
    DIGITS,
    finditer_in,
    lowered_or_none,
    needle_windows,
    pattern_windows,
    widened,
)
from processing.extraction.result import Entity

# Symbols and their ISO 4217 codes. A bare "$" is read as USD and "¥" as JPY;
# the prefixed dollars are tried first.
_SYMBOLS: dict[str, str] = {
    "US$": "USD",
    "CA$": "CAD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "MX$": "MXN",
    "C$": "CAD",
    "A$": "AUD",
    "S$": "SGD",
    "R$": "BRL",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₴": "UAH",
    "₦": "NGN",
    "₱": "PHP",
    "₫": "VND",
}
# Codes that are also common English words or abbreviations (ALL, TOP, PEN,
# CUP, MOP...) are left out on purpose: precision over recall.
_CODES = frozenset(
    (
        "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "CNY", "HKD", "SGD", "SEK",
        "NOK", "DKK", "ISK", "PLN", "CZK", "HUF", "RON", "BGN", "RSD", "UAH", "RUB", "TRY",
        "ILS", "AED", "SAR", "QAR", "KWD", "BHD", "OMR", "JOD", "EGP", "MAD", "NGN", "KES",
        "GHS", "ZAR", "INR", "PKR", "BDT", "LKR", "NPR", "IDR", "MYR", "THB", "VND", "PHP",
        "KRW", "TWD", "BRL", "MXN", "ARS", "CLP", "COP", "UYU",
    )
)  # fmt: skip
_MULTIPLIERS: dict[str, int] = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "tn": 10**12,
    "trillion": 10**12,
}

_SYMBOL = "|".join(re.escape(symbol) for symbol in sorted(_SYMBOLS, key=len, reverse=True))
_CODE = "|".join(sorted(_CODES))
_SUFFIX_SYMBOL = "|".join(re.escape(symbol) for symbol in _SYMBOLS if len(symbol) == 1)
# Digits with "," "." "'" or narrow/no-break spaces between them; which one is
# the decimal separator is decided when parsing.
_TIGHT_AMOUNT = r"\d(?:[\d,.'\u00a0\u202f]*\d)?"
# Before a trailing currency, groups may also be split by plain spaces
# ("1 234,56 €"), but only in strict groups of three.
_SPACED_AMOUNT = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?"
_MULTIPLIER = r"(?:[ \u00a0]?(?i:million|billion|trillion|thousand)|(?i:mn|bn|tn|k|m|b))"
# An amount ends where no further digit group follows.
_AMOUNT_END = r"(?![\d]|[.,]\d)"

_PREFIXED = re.compile(
    "".join(
        (
            r"(?<![A-Za-z$])(?:(?P<symbol>", _SYMBOL, r")|(?P<code>", _CODE, r"))[ \u00a0]?",
            r"(?P<amount>", _TIGHT_AMOUNT, r")", _AMOUNT_END,
            r"(?P<multiplier>", _MULTIPLIER, r")?(?!\w)",
            # "€ 12 345" groups with plain spaces; reading it as "€ 12" would be wrong.
            r"(?![ \u00a0\u202f]\d{3}(?!\d))",
        )
    )
)  # fmt: skip
_SUFFIXED = re.compile(
    "".join(
        (
            r"(?<![\w.,'$€£¥])(?<!\d[ \u00a0\u202f])",
            r"(?P<amount>", _SPACED_AMOUNT, r"|", _TIGHT_AMOUNT, r")", _AMOUNT_END,
            r"(?P<multiplier>", _MULTIPLIER, r")?[ \u00a0]?",
            r"(?:(?P<symbol>", _SUFFIX_SYMBOL, r")|(?P<code>", _CODE, r"))(?![A-Za-z])",
            # "12 $250": the symbol belongs to the amount after it.
            r"(?![ \u00a0]?\d)",
        )
    )
)  # fmt: skip
_GROUP_SEPARATORS = ".,'\u00a0\u202f "
# Needles for money: the currency signs and codes (the prefixed dollar signs
# all hold "$"), and how far an amount and a multiplier reach from them.
_CURRENCY_NEEDLE = re.compile(
    "|".join(re.escape(needle) for needle in sorted({symbol[-1] for symbol in _SYMBOLS} | _CODES))
)
_NEEDLE_REACH = 40
_AMOUNT_CHARS = "0123456789" + _GROUP_SEPARATORS + "\u00a0"
_NUMBER_CHARS = "0123456789.,+-\u2212 \u00a0"
_DECIMAL = re.compile(r"(?P<integer>.*?)[.,](?P<fraction>\d{1,2})")
_GROUPED = re.compile(
    r"[1-9]\d{0,2}(?:(?P<separator>[.,'\u00a0\u202f ])\d{3})(?:(?P=separator)\d{3})*"
)

_PERCENT = re.compile(
    r"(?:(?<![\w.,%)\]+\-\u2212])(?P<sign>[+\-\u2212]))?(?<![\w.,])"
    r"(?P<number>\d+(?:[.,]\d+)?)[ \u00a0]?"
    r"(?:%|(?i:per[ ]?cent|pct)\b)"
)


class MoneyRecognizer:
    """Amounts with a currency symbol or ISO 4217 code, before or after.

    The value is ``"<amount> <ISO 4217 code>"``: the amount has no thousands
    separators, a ``.`` decimal separator and the decimals as written
    (``"€ 12,50"`` → ``"12.50 EUR"``); a multiplier is applied
    (``"£3m"`` → ``"3000000 GBP"``). Thousands may be grouped with ``,``, ``.``,
    ``'`` or narrow/no-break spaces (plain spaces only before a trailing
    currency); a single separator followed by exactly three digits groups
    thousands (``"EUR 1.234"`` → ``"1234 EUR"``), one followed by one or two
    digits is decimal. Amounts whose grouping is inconsistent are dropped.
    """

    name = "money"

    def recognize(self, text: str) -> Iterator[Entity]:
        # Every amount has a currency sign or code: windows around those are far
        # fewer than around digits in a table-heavy text. They reach over a
        # spaced amount and a multiplier, then stretch over any number they cut.
        windows = pattern_windows(text, _CURRENCY_NEEDLE, before=_NEEDLE_REACH, after=_NEEDLE_REACH)
        windows = widened(text, windows, _AMOUNT_CHARS)
        for pattern in (_PREFIXED, _SUFFIXED):
            for match in finditer_in(pattern, text, windows):
                amount = parse_amount(match["amount"], match["multiplier"])
                if amount is None:
                    continue
                code = _SYMBOLS[match["symbol"]] if match["symbol"] else match["code"]
                yield Entity("money", match.group(), f"{amount} {code}", *match.span())


def parse_amount(raw: str, multiplier: str | None = None) -> str | None:
    """``raw`` as a plain decimal string (``"1.234,5"`` → ``"1234.5"``), or ``None``."""
    integer, fraction = raw, ""
    decimal = _DECIMAL.fullmatch(raw)
    if decimal is not None:
        integer, fraction = decimal["integer"], decimal["fraction"]
        if raw[len(integer)] in integer:
            return None  # the decimal separator also groups thousands
    if not integer.isdigit():
        if _GROUPED.fullmatch(integer) is None:
            return None
        integer = "".join(char for char in integer if char not in _GROUP_SEPARATORS)
    number = f"{int(integer)}.{fraction}" if fraction else str(int(integer))
    if not multiplier:
        return number
    scaled = Decimal(number) * _MULTIPLIERS[multiplier.strip(" \u00a0").lower()]
    return format(scaled.normalize(), "f")


class PercentRecognizer:
    """Percentages: ``12.5%``, ``12,5 %``, ``12 percent``, ``-3 per cent``.

    The value is the number with a ``.`` decimal separator and a ``%`` sign
    (``"12.5%"``), keeping a written sign. A comma followed by exactly three
    digits (``1,234%``) could group thousands or be decimal, so it is skipped.
    """

    name = "percent"

    def recognize(self, text: str) -> Iterator[Entity]:
        # A percentage ends in "%", "per cent" or "pct": windows around those (in
        # a lower-cased copy, as the pattern ignores case), stretched over the number.
        lowered = lowered_or_none(text)
        if lowered is None:
            windows = needle_windows(text, DIGITS, before=4, after=16)
        else:
            windows = widened(
                text,
                needle_windows(lowered, ("%", "per", "pct"), before=4, after=12),
                _NUMBER_CHARS,
            )
        for match in finditer_in(_PERCENT, text, windows):
            number = match["number"]
            integer, comma, fraction = number.partition(",")
            if comma and len(fraction) == 3 and integer != "0":
                continue
            sign = "-" if match["sign"] in ("-", "\u2212") else (match["sign"] or "")
            yield Entity(
                "percent", match.group(), f"{sign}{number.replace(',', '.')}%", *match.span()
            )
