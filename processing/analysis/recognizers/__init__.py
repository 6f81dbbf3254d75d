"""The built-in, offline entity recognisers, one module per family.

Each recogniser satisfies :class:`~processing.analysis.recognizers.base.Recognizer`;
``processing.analysis.entities`` composes them and resolves overlaps.
"""

from __future__ import annotations

from processing.analysis.recognizers.amounts import MoneyRecognizer, PercentRecognizer
from processing.analysis.recognizers.banking import IbanRecognizer, PaymentCardRecognizer
from processing.analysis.recognizers.base import Recognizer
from processing.analysis.recognizers.dates import DateRecognizer
from processing.analysis.recognizers.network import IpAddressRecognizer
from processing.analysis.recognizers.phone import PhoneRecognizer
from processing.analysis.recognizers.web import EmailRecognizer, UrlRecognizer

__all__ = [
    "DateRecognizer",
    "EmailRecognizer",
    "IbanRecognizer",
    "IpAddressRecognizer",
    "MoneyRecognizer",
    "PaymentCardRecognizer",
    "PercentRecognizer",
    "PhoneRecognizer",
    "Recognizer",
    "UrlRecognizer",
    "builtin_recognizers",
]


def builtin_recognizers(*, phone_region: str = "US") -> tuple[Recognizer, ...]:
    """A fresh instance of every built-in recogniser.

    ``phone_region`` is the region numbers without a ``+`` country code are read in.
    """
    return (
        EmailRecognizer(),
        UrlRecognizer(),
        PhoneRecognizer(default_region=phone_region),
        DateRecognizer(),
        MoneyRecognizer(),
        PercentRecognizer(),
        IbanRecognizer(),
        PaymentCardRecognizer(),
        IpAddressRecognizer(),
    )
