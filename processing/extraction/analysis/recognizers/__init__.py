"""The built-in, offline entity recognisers, one module per family.

Each recogniser satisfies :class:`~processing.extraction.analysis.recognizers.base.Recognizer`;
``processing.extraction.analysis.entities`` composes them and resolves overlaps.
"""

from __future__ import annotations

from processing.extraction.analysis.recognizers.amounts import MoneyRecognizer, PercentRecognizer
from processing.extraction.analysis.recognizers.banking import IbanRecognizer, PaymentCardRecognizer
from processing.extraction.analysis.recognizers.base import Recognizer
from processing.extraction.analysis.recognizers.dates import DateRecognizer
from processing.extraction.analysis.recognizers.network import IpAddressRecognizer
from processing.extraction.analysis.recognizers.phone import PhoneRecognizer
from processing.extraction.analysis.recognizers.web import EmailRecognizer, UrlRecognizer

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
