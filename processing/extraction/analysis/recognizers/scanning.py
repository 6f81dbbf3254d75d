"""Cheap pre-scans that confine regular expressions to the parts of a text that matter.

Python's ``re`` costs tens of nanoseconds per character tried; ``str.find``
runs at memory speed. Every entity holds a digit or a fixed character (``@``,
``:``), so recognisers find those first and run their patterns only in windows
around them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

DIGITS = tuple("0123456789")
# More probes than one per this many characters means the text is dense with
# needles; scanning it whole is then cheaper than windowing.
_DENSE_STRIDE = 64


def needle_windows(
    text: str, needles: tuple[str, ...], *, before: int, after: int
) -> list[tuple[int, int]]:
    """Merged spans of ``text`` reaching ``before`` characters before and at
    least ``after`` characters after every occurrence of any needle."""
    limit = len(text) // _DENSE_STRIDE + _DENSE_STRIDE
    # Occurrences closer than ``after`` to a found one are skipped; widening
    # each window by the skipped distance keeps them covered.
    skip = after + 1
    reach = after + skip
    hits: list[int] = []
    for needle in needles:
        index = text.find(needle)
        while index != -1:
            hits.append(index)
            if len(hits) > limit:
                return [(0, len(text))]
            index = text.find(needle, index + skip)
    hits.sort()
    windows: list[tuple[int, int]] = []
    for hit in hits:
        start, end = max(0, hit - before), min(len(text), hit + reach)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def pattern_windows(
    text: str, needle: re.Pattern[str], *, before: int, after: int
) -> list[tuple[int, int]]:
    """Like :func:`needle_windows` for needles given as one pattern of literals (one
    regex pass beats dozens of ``str.find`` passes over a long text)."""
    limit = len(text) // _DENSE_STRIDE + _DENSE_STRIDE
    windows: list[tuple[int, int]] = []
    for count, match in enumerate(needle.finditer(text)):
        if count > limit:
            return [(0, len(text))]
        start, end = max(0, match.start() - before), min(len(text), match.end() + after)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def widened(text: str, windows: list[tuple[int, int]], chars: str) -> list[tuple[int, int]]:
    """``windows`` stretched over any run of ``chars`` they cut, merged again.

    Windows placed around a needle (a currency sign, ``%``) rather than around
    every digit could otherwise end inside a long number, where a pattern's
    lookahead would wrongly see the number end.
    """
    stretched: list[tuple[int, int]] = []
    for window_start, window_end in windows:
        start, end = window_start, window_end
        while start > 0 and text[start - 1] in chars:
            start -= 1
        while end < len(text) and text[end] in chars:
            end += 1
        if stretched and start <= stretched[-1][1]:
            stretched[-1] = (stretched[-1][0], max(end, stretched[-1][1]))
        else:
            stretched.append((start, end))
    return stretched


def lowered_or_none(text: str) -> str | None:
    """``text.lower()`` when it keeps every offset (it does unless the text holds one of
    the few characters whose lower case is longer, such as "İ"); else ``None``."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None


def finditer_in(
    pattern: re.Pattern[str], text: str, windows: list[tuple[int, int]]
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` inside each window; lookbehinds still see the text before it."""
    for start, end in windows:
        yield from pattern.finditer(text, start, end)
