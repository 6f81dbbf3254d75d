"""Splitting a document's text into overlapping, sentence-aligned chunks.

Each page (or the whole text, for formats without pages) is split on its
own, so a chunk never straddles two pages and its page number is exact.
Within a page, sentences are packed greedily up to ``size`` characters; a
sentence longer than that is cut at word boundaries (those pieces do not
overlap). The next chunk repeats the previous chunk's sentences that start in
its last ``overlap`` characters, or its last sentence alone when that is at
most twice the overlap, as long as the next chunk still reaches new text:
azure-search-openai-demo's splitter works the same way (1,000 characters,
10% overlap).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# A sentence ends after . ! ? or … (and closing quotes or brackets) before
# whitespace, and at a blank line.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)|\n[ \t]*\n")
_WORD_START = re.compile(r"(?<!\S)\S")


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of the text: ``[start, end)``, its page and nearest heading."""

    start: int
    end: int
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class TextLayout:
    """What the chunker needs of a result: the text, pages and headings (by offset)."""

    text: str
    pages: Sequence[tuple[int, int, int]] = ()  # (number, start, end)
    headings: Sequence[tuple[int, str]] = ()  # (start, text), in text order


def chunk_spans(layout: TextLayout, size: int, overlap: int) -> list[Span]:
    """The chunks of ``layout.text`` as spans (blank pieces dropped)."""
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError("size must be positive and overlap smaller than size")
    regions = [(n, s, e) for n, s, e in layout.pages] or [(0, 0, len(layout.text))]
    heading_starts = [start for start, _ in layout.headings]
    spans = []
    for number, start, end in regions:
        for piece_start, piece_end in _split(layout.text, start, end, size, overlap):
            at = bisect.bisect_right(heading_starts, piece_start) - 1
            spans.append(
                Span(
                    piece_start,
                    piece_end,
                    page=number if layout.pages else None,
                    heading=layout.headings[at][1] if at >= 0 else None,
                )
            )
    return spans


def _split(text: str, start: int, end: int, size: int, overlap: int) -> Iterator[tuple[int, int]]:
    sentences = list(_sentences(text, start, end, size))
    starts = [s for s, _ in sentences]
    index = 0
    while index < len(sentences):
        chunk_start = sentences[index][0]
        last = index
        while last + 1 < len(sentences) and sentences[last + 1][1] - chunk_start <= size:
            last += 1
        chunk_end = sentences[last][1]
        yield chunk_start, chunk_end
        following = last + 1
        if following >= len(sentences):
            return
        index = following
        if not overlap or last == 0:
            continue
        # The next chunk repeats the sentences that start in the overlap window
        # (or the last sentence alone when it is short), provided it still
        # reaches the following sentence: every chunk brings new text.
        first = bisect.bisect_left(starts, chunk_end - overlap, 0, last + 1)
        if first > last and chunk_end - sentences[last][0] <= 2 * overlap:
            first = last
        if (
            first <= last
            and starts[first] > chunk_start
            and sentences[following][1] - starts[first] <= size
        ):
            index = first


def _sentences(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """Sentence spans in ``[start, end)``, trimmed; long ones cut at words to ``size``."""
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        yield from _trimmed(text, cursor, match.end(), size)
        cursor = match.end()
    yield from _trimmed(text, cursor, end, size)


def _trimmed(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > size:
        cut = text.rfind(" ", start + 1, start + size + 1)
        if cut <= start:
            cut = start + size
        piece_end = cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        yield start, piece_end
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end
