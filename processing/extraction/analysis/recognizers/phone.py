"""Phone numbers, found and validated by ``phonenumbers``, as E.164."""

from __future__ import annotations

import re
from collections.abc import Iterator

from processing.extraction.analysis.recognizers.scanning import DIGITS, finditer_in, needle_windows
from processing.extraction.result import Entity

# A cheap pre-filter: a maximal run of digit groups joined by single
# separators, as phone numbers are written. ``phonenumbers`` only ever sees
# these runs (plus a little context), never the whole text.
_SEPARATOR = r"(?:[ \u00a0]?[-./\u2010-\u2015][ \u00a0]?|[ \u00a0])"
_GROUP = r"\(?\d+\)?\d*"
_CANDIDATE = re.compile(rf"(?<![\d+])\+?{_GROUP}(?:{_SEPARATOR}{_GROUP})*")
_MIN_DIGITS = 7
_MAX_DIGITS = 15  # E.164's longest number
# Longest run of groups and separators that can hold at most 15 digits, with
# room for the lookarounds.
_MAX_RUN = 64
# Context kept around a candidate so the matcher sees the characters that
# border it.
_WINDOW_MARGIN = 4
# How far around a match to look for a longer number it may be part of.
_SHAPE_MARGIN = 40
# Number shapes a phone match must not overlap: dates, year ranges, IBANs,
# card numbers, dotted quads and long digit runs.
_NOT_A_PHONE = re.compile(
    r"(?<!\d)(?:"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|(?:1[5-9]|20)\d\d ?[-/\u2010-\u2015] ?(?:1[5-9]|20)\d\d"
    r"|\d{1,2}([-/.])\d{1,2}\1\d{2,4}"
    r"|\d{4}([ -])\d{4}\2\d{4}\2\d{1,7}"
    r"|\d{4}([ -])\d{6}\3\d{4,5}"
    r"|\d{1,3}(?:\.\d{1,3}){3}"
    r"|\d{16,}"
    r")(?![\d]|[-/.]\d)"
    r"|\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,}"
)
_JOINERS = "-./"


class PhoneRecognizer:
    """Phone numbers valid for their region, as E.164 values.

    ``phonenumbers`` matches with ``Leniency.STRICT_GROUPING``: the number must
    be valid and its digits grouped as the number is formatted, which keeps
    ``2024-12-5678`` (an order number) out while every usual way of writing a
    number passes. Numbers without a ``+`` country code are read in
    ``default_region``. A bare
    run of digits (``4155552671``) is not reported: without a ``+`` or any
    grouping it is more often an identifier than a phone number. Neither is a
    match inside a date, an IBAN, a card number, a dotted quad or a longer run
    of digits.
    """

    name = "phone"

    def __init__(self, default_region: str = "US") -> None:
        self._region = default_region
        self._shape: _NationalShape | None = None

    def recognize(self, text: str) -> Iterator[Entity]:
        # The same number tends to recur (letterheads, footers on every page):
        # the matcher runs once per distinct window.
        found: dict[str, list[tuple[int, int, str]]] = {}
        seen: set[tuple[int, int]] = set()
        for window_start, window_end in _candidate_windows(text):
            window = text[window_start:window_end]
            if window not in found:
                found[window] = self._match(window) if self._may_hold(window) else []
            for match_start, match_end, value in found[window]:
                start, end = window_start + match_start, window_start + match_end
                if (start, end) in seen or not _is_phone_like(text, start, end):
                    continue
                seen.add((start, end))
                yield Entity("phone", text[start:end], value, start, end)

    def _may_hold(self, window: str) -> bool:
        """A cheap test that rules out most windows without a number of the region."""
        if self._shape is None:
            self._shape = _NationalShape(self._region)
        return self._shape.may_hold(window)

    def _match(self, window: str) -> list[tuple[int, int, str]]:
        """Spans of valid numbers in ``window`` and their E.164 forms."""
        import phonenumbers  # deferred: large metadata, cold start

        matcher = phonenumbers.PhoneNumberMatcher(
            window, self._region, leniency=phonenumbers.Leniency.STRICT_GROUPING
        )
        e164 = phonenumbers.PhoneNumberFormat.E164
        return [
            (match.start, match.end, phonenumbers.format_number(match.number, e164))
            for match in matcher
        ]


class _NationalShape:
    """What a number written without ``+`` must look like in one region, from the
    ``phonenumbers`` metadata: a run of whole digit groups (the matcher never starts or
    ends a number inside one) whose digits, maybe after the national prefix, fit a
    national number pattern of one of the regions sharing the country code, or that
    starts with the region's international dialling prefix. Windows with a ``+``, and
    regions whose national prefix is parsed by rule, are always given to the matcher.
    """

    def __init__(self, region: str) -> None:
        import phonenumbers  # deferred: large metadata, cold start

        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        self._usable = metadata is not None and (
            metadata.national_prefix_transform_rule is None
            and metadata.national_prefix_for_parsing in (None, metadata.national_prefix)
        )
        self._national: re.Pattern[str] | None = None
        self._international: re.Pattern[str] | None = None
        self._prefix = ""
        if metadata is None or not self._usable:
            return
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code or 0, ())
        patterns = []
        for name in regions or (region,):
            shared = phonenumbers.PhoneMetadata.metadata_for_region(name)
            desc = shared.general_desc if shared is not None else None
            if desc is not None and desc.national_number_pattern:
                patterns.append(desc.national_number_pattern)
        if not patterns:
            self._usable = False
            return
        self._national = re.compile("|".join(f"(?:{pattern})" for pattern in patterns))
        if metadata.international_prefix:
            self._international = re.compile(metadata.international_prefix)
        self._prefix = metadata.national_prefix or ""

    def may_hold(self, window: str) -> bool:
        national = self._national
        if not self._usable or national is None or "+" in window:
            return True
        groups = _DIGIT_GROUP.findall(window)
        for first in range(len(groups)):
            digits = ""
            for group in groups[first:]:
                digits += group
                if len(digits) > _MAX_DIGITS:
                    break
                if self._international is not None and self._international.match(digits):
                    return True
                if national.fullmatch(digits) or (
                    self._prefix
                    and digits.startswith(self._prefix)
                    and national.fullmatch(digits, len(self._prefix))
                ):
                    return True
        return False


_DIGIT_GROUP = re.compile(r"\d+")


def _candidate_windows(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` around runs that may hold one phone number."""
    # Every candidate holds at least seven digits, so windows around digits
    # bound where the candidate pattern has to run.
    windows = needle_windows(text, DIGITS, before=2, after=_MAX_RUN)
    for match in finditer_in(_CANDIDATE, text, windows):
        run = match.group()
        if len(run) < _MIN_DIGITS:
            continue  # most runs in a table-heavy text: too short to hold seven digits
        digits = sum(map(str.isdigit, run))
        # More digits than any phone number holds: a table row, an account or
        # card number; the matcher would find "numbers" inside it. Unbalanced
        # brackets are prose around numbers: "(12.5% of 1,234.56)".
        if (
            not _MIN_DIGITS <= digits <= _MAX_DIGITS
            or run.count("(") != run.count(")")
            or _NOT_A_PHONE.fullmatch(run.strip("()"))
        ):
            continue
        yield max(0, match.start() - _WINDOW_MARGIN), min(len(text), match.end() + _WINDOW_MARGIN)


def _is_phone_like(text: str, start: int, end: int) -> bool:
    raw = text[start:end]
    digits = sum(map(str.isdigit, raw))
    if digits > _MAX_DIGITS or raw.isdigit():
        return False
    if _continues_number(text, start - 1, start - 2) or _continues_number(text, end, end + 1):
        return False
    context_start = max(0, start - _SHAPE_MARGIN)
    context = text[context_start : end + _SHAPE_MARGIN]
    for shape in _NOT_A_PHONE.finditer(context):
        if shape.start() + context_start < end and shape.end() + context_start > start:
            return False
    return True


def _continues_number(text: str, edge: int, beyond: int) -> bool:
    """Whether the character at ``edge`` glues the match to more digits or letters."""
    if not 0 <= edge < len(text):
        return False
    char = text[edge]
    if char.isalnum():
        return True
    return char in _JOINERS and 0 <= beyond < len(text) and text[beyond].isdigit()
