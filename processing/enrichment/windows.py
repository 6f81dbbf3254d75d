"""Cutting a document into service-sized windows at sentence boundaries.

Azure AI Language takes at most 5,120 characters (text elements) per document
in a synchronous request. A window holds whole sentences up to that size, so
an entity (which never spans sentences) is never cut in two; a single sentence
longer than a window is cut at the last space before the limit. Code points
are never fewer than text elements, so a window measured in Python characters
is always within the limit. A character budget bounds what one document may
send in all.
"""

from __future__ import annotations

from processing.enrichment.ports import Window
from processing.extraction.analysis.sentences import split_sentences

#: Azure AI Language's documented per-document limit for synchronous requests.
MAX_WINDOW_CHARS = 5_120


def make_windows(
    text: str, *, max_chars: int = MAX_WINDOW_CHARS, budget: int | None = None
) -> tuple[list[Window], bool]:
    """Windows covering ``text`` (or its first ``budget`` characters, at a sentence
    boundary), and whether the budget cut it short."""
    limit = len(text) if budget is None else min(budget, len(text))
    windows: list[Window] = []
    start = end = -1
    for sentence_start, sentence_end in split_sentences(text):
        for piece_start, piece_end in _pieces(text, sentence_start, sentence_end, max_chars):
            if piece_end > limit:
                _close(windows, text, start, end)
                return windows, True
            if start < 0:
                start = piece_start
            elif piece_end - start > max_chars:
                _close(windows, text, start, end)
                start = piece_start
            end = piece_end
    _close(windows, text, start, end)
    return windows, False


def _close(windows: list[Window], text: str, start: int, end: int) -> None:
    if start >= 0 and end > start:
        windows.append(Window(start, end, text[start:end]))


def _pieces(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """A sentence as one piece, or cut at spaces into pieces of at most ``max_chars``."""
    pieces = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars)
        cut = cut if cut > start else start + max_chars
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def batches(windows: list[Window], size: int) -> list[list[Window]]:
    """``windows`` in requests of at most ``size`` documents (each action's limit)."""
    return [windows[index : index + size] for index in range(0, len(windows), size)]
