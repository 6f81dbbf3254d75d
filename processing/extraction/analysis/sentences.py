"""Sentence segmentation into spans of the original text, for extracted documents.

Text from PDFs and plain-text files is hard-wrapped: a single newline is usually
a soft wrap inside a sentence, and a word may be hyphenated across it. The
segmenter first cuts the text into *blocks* at hard line breaks, then splits each
block at sentence terminators, skipping those that follow abbreviations,
initials and acronyms.

A line break is hard when a blank line follows, when the next line starts a
bullet, when the line is a heading (all capitals, or numbered like ``2.1 Scope``)
or when the first word of the next line would have fitted on the line: a
wrapped line is broken only because the next word did not fit, so a line that
stops well short of the text's usual width was ended on purpose (a heading, a
table row, an address line, the end of a paragraph). A next line starting in
lower case is always a continuation.

Everything is one pass over the lines plus one regex pass over each block, with
a bounded look-behind per terminator, so the cost is linear in the text size.
"""

from __future__ import annotations

import re
from collections.abc import Container

#: A sentence's ``[start, end)`` in the text; whitespace around it is excluded.
Span = tuple[int, int]

# A terminator (possibly repeated, or an ellipsis), then closing quotes or
# brackets and citation markers like ``[12]``, then whitespace or the block end.
# CJK full stops need no following space.
_TERMINATOR = re.compile(
    r"(?P<latin>[.!?‼⁇⁈⁉…]+)[\"'”’»)\]]*(?:\[\d{1,4}(?:[,–-]\d{1,4})*\])*(?=\s|$)"
    r"|(?P<cjk>[。！？]+)[」』）\"'”’]*"
)
# Where a terminator may start: a cheap scan, as Python's regex engine has no
# fast prefix search for the alternation above. Runs rather than characters, so
# a failed match is not retried inside the same run (quadratic on "......").
_TERMINATOR_RUN = re.compile(r"[.!?‼⁇⁈⁉…。！？]+")
_SPACES = re.compile(r"\s*")
_BULLET = re.compile(
    r"(?:[-*•‣◦▪●■□➢►–—]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\([A-Z]\)|\(?[ivxlc]{1,5}\))[ \t]+\S"
)
_NUMBERED_HEADING = re.compile(r"[ \t]*\d{1,3}(?:\.\d{1,3}){0,4}\.?[ \t]+[A-Z]")
_HYPHEN_BREAK = re.compile(r"(\w)-[ \t\f]*\n\s*(\w)")
_WHITESPACE = re.compile(r"\s+")
_FIRST_WORD = re.compile(r"\S+")
_CITATION = re.compile(r"\[\d{1,4}(?:[,–-]\d{1,4}){0,8}\]")
_CITATION_SPAN = 48
_FINAL = frozenset(".!?‼⁇⁈⁉…。！？")
_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«([{¿¡"


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Abbreviations that precede a name or a word of the same sentence: never a
# sentence end (compared in lower case, without the final period).
_JOINING = _word_set(
    "mr mrs ms mme mlle messrs dr prof rev hon st gen col capt cmdr lt sgt maj adm "
    "gov pres sen rep supt insp mt ft e.g i.e cf viz vs approx ca esp incl resp "
    "dept univ jan feb mar apr jun jul aug sep sept oct nov dec"
)
# Abbreviations that precede a number: a sentence end unless a digit follows.
_BEFORE_NUMBER = _word_set(
    "no nos nr vol vols fig figs eq eqs p pp ch sec art para ref refs tab op"
)
# Abbreviations that often end a sentence: an end when a capital follows.
_MAY_END = _word_set("etc inc ltd co corp llc plc al jr sr esq bros")
# Words that start sentences; after a dotted acronym ("U.S.", "a.m.") only
# one of these makes the period a sentence end.
_STARTERS = _word_set(
    "the a an this that these those it its he she they we i you there here in on at "
    "but and however his her their our my as if when while after before for so then "
    "thus since although all some many most what which who why how"
)
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")

#: Lines shorter than this share of the usual width, with room for the next
#: word, were ended on purpose; the slack absorbs proportional-font variation.
_FIT_RATIO = 0.8
_WIDTH_PERCENTILE = 0.5
_MAX_TRACKED_WIDTH = 2_000
_LOOK_BEHIND = 40


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentence spans ``(start, end)``, in order, never overlapping.

    ``text[start:end]`` is the sentence exactly as it appears, soft line breaks
    and hyphenation included; :func:`clean_sentence` turns it into one line.
    """
    spans: list[Span] = []
    for block_start, block_end in _blocks(text):
        spans.extend(_split_block(text, block_start, block_end))
    return spans


def clean_sentence(raw: str, vocabulary: Container[str] = frozenset()) -> str:
    """``raw`` on one line: line-end hyphenation undone, whitespace collapsed.

    ``docu-\\nment`` becomes ``document`` unless ``vocabulary`` (lower-case words
    of the document) holds the hyphenated compound but not the joined word, as
    for ``well-\\nknown``.
    """
    if "\n" in raw:
        raw = _HYPHEN_BREAK.sub(lambda m: _join_hyphenated(m, raw, vocabulary), raw)
    return _WHITESPACE.sub(" ", raw).strip()


def has_final_punctuation(raw: str) -> bool:
    """Whether ``raw`` ends like a sentence: a terminator, then maybe closers and citations."""
    end = len(raw)
    while end > 0:
        last = raw[end - 1]
        if last in _FINAL:
            return True
        if last not in _CLOSERS:
            return False
        citation = _citation_ending_at(raw, end)
        end = end - 1 if citation is None else citation
    return False


def _citation_ending_at(text: str, end: int) -> int | None:
    """Where a citation marker like ``[12]`` ending at ``end`` starts, if there is one."""
    if text[end - 1 : end] != "]":
        return None
    opening = text.rfind("[", max(0, end - _CITATION_SPAN), end)
    if opening < 0 or _CITATION.fullmatch(text, opening, end) is None:
        return None
    return opening


def _last_before_citations(text: str, start: int, end: int) -> str:
    """The last character of ``text[start:end]`` ignoring citation markers at its end."""
    while end > start:
        citation = _citation_ending_at(text, end)
        if citation is None or citation < start:
            return text[end - 1]
        end = citation
    return ""


def _join_hyphenated(match: re.Match[str], raw: str, vocabulary: Container[str]) -> str:
    left, right = match.group(1), match.group(2)
    if not right.islower():
        # "Anglo-\nSaxon", "COVID-\n19": the hyphen belongs to the word.
        return f"{left}-{right}"
    before = _word_ending_at(raw, match.start(1) + 1)
    after = _word_starting_at(raw, match.start(2))
    compound = f"{before}-{after}".lower()
    if compound in vocabulary and (before + after).lower() not in vocabulary:
        return f"{left}-{right}"
    return left + right


def _word_ending_at(raw: str, end: int) -> str:
    start = end
    while start > 0 and raw[start - 1].isalnum():
        start -= 1
    return raw[start:end]


def _word_starting_at(raw: str, start: int) -> str:
    end = start
    while end < len(raw) and raw[end].isalnum():
        end += 1
    return raw[start:end]


# --- blocks: runs of lines joined by soft breaks ---------------------------------


def _blocks(text: str) -> list[Span]:
    lines = _lines(text)
    fit_limit = _usual_width(lines) * _FIT_RATIO
    blocks: list[Span] = []
    block_start = -1
    count = len(lines)
    for index, (start, end, kind) in enumerate(lines):
        if kind == _BLANK:
            if block_start >= 0:
                blocks.append((block_start, lines[index - 1][1]))
                block_start = -1
            continue
        if block_start < 0:
            block_start = start
        following = lines[index + 1] if index + 1 < count else None
        if (
            following is None
            or following[2] != _PROSE
            or _ends_hard(text, start, end, following[:2], fit_limit)
        ):
            blocks.append((block_start, end))
            block_start = -1
    return blocks


_PROSE, _BULLET_LINE, _BLANK = 0, 1, 2
_BULLET_FIRST = frozenset("-*•‣◦▪●■□➢►–—(")


def _lines(text: str) -> list[tuple[int, int, int]]:
    """Each line as ``(start, end, kind)``, surrounding whitespace excluded.

    Lines holding only a form feed (a page break) are left out, so a sentence
    running over a page joins up.
    """
    lines: list[tuple[int, int, int]] = []
    position = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            start = position + len(raw) - len(raw.lstrip())
            kind = _BULLET_LINE if _is_bullet(stripped) else _PROSE
            lines.append((start, start + len(stripped), kind))
        elif "\f" not in raw:
            lines.append((position, position, _BLANK))
        position += len(raw) + 1
    return lines


def _is_bullet(line: str) -> bool:
    first = line[0]
    if first in _BULLET_FIRST or first.isdigit() or line[1:2] in (".", ")"):
        return _BULLET.match(line) is not None
    return False


def _usual_width(lines: list[tuple[int, int, int]]) -> int:
    """The width the text is wrapped at: the median line length, weighted by characters.

    Weighting by characters keeps many short lines (headings, table rows) from
    pulling the estimate down; a histogram keeps it linear.
    """
    histogram = [0] * (_MAX_TRACKED_WIDTH + 1)
    total = 0
    for start, end, kind in lines:
        if kind != _BLANK:
            length = end - start
            histogram[min(length, _MAX_TRACKED_WIDTH)] += length
            total += length
    wanted = total * _WIDTH_PERCENTILE
    seen = 0
    for width, count in enumerate(histogram):
        seen += count
        if count and seen >= wanted:
            return width
    return 0


def _ends_hard(text: str, start: int, end: int, following: Span, fit_limit: float) -> bool:
    """Whether the break between a line and the next (prose) line ends a block."""
    next_start, next_end = following
    if text[next_start].islower():
        return False
    last = _last_before_citations(text, start, end)
    if last in ",;-–—(&/":
        return False
    if _is_heading(text[start:end], text[next_start:next_end]):
        return True
    word = _FIRST_WORD.match(text, next_start, next_end)
    next_word = (word.end() - word.start()) if word else 0
    return (end - start) + 1 + next_word <= fit_limit


def _is_heading(line: str, next_line: str) -> bool:
    if not line or len(line) > 80 or line[-1] in ".!?:;,":
        return False
    if _NUMBERED_HEADING.match(line):
        return True
    # Text set all in capitals (a legal disclaimer) is wrapped like any other.
    return line.isupper() and not next_line.isupper()


# --- sentences within a block --------------------------------------------------


def _split_block(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    sentence_start = start
    consumed = start
    for candidate in _TERMINATOR_RUN.finditer(text, start, end):
        if candidate.start() < consumed:
            continue
        match = _TERMINATOR.match(text, candidate.start(), end)
        if match is None:
            continue
        consumed = boundary = match.end()
        following = _SPACES.match(text, boundary, end)
        resume = following.end() if following else boundary
        if resume >= end:
            break
        if match.group("cjk") is None and not _ends_sentence(text, match, resume, end):
            continue
        spans.append((sentence_start, boundary))
        sentence_start = resume
    tail = _trim(text, sentence_start, end)
    if tail is not None:
        spans.append(tail)
    return spans


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _ends_sentence(text: str, match: re.Match[str], resume: int, end: int) -> bool:
    """Whether a Latin-script terminator ends the sentence, given what follows it."""
    position = resume
    limit = min(end, resume + 3)
    while position < limit and text[position] in _OPENERS:
        position += 1
    if position >= end:
        return True
    following = text[position]
    if following.islower():
        return False
    if match.group("latin") != ".":
        # "!", "?", "..." and runs like "?!" end a sentence before anything but
        # lower case.
        return True
    word = _word_before(text, match.start())
    return not word or _period_ends(word, text, position, end)


def _period_ends(word: str, text: str, position: int, end: int) -> bool:
    """Whether a period after ``word`` ends the sentence; ``text[position]`` follows it."""
    lowered = word.lower()
    following = text[position]
    if lowered in _JOINING:
        verdict = False
    elif lowered in _BEFORE_NUMBER:
        verdict = not following.isdigit()
    elif lowered in _MAY_END:
        verdict = following.isupper()
    elif _DOTTED.fullmatch(word):
        # "U.S.", "e.g." and "J.R.R." run on; only a typical sentence opener
        # after them makes the period final.
        verdict = _next_word(text, position, end).lower() in _STARTERS
    elif len(word) == 1 and word.isalpha():
        # An initial ("J. R. R. Tolkien"); the pronoun "I" ends a sentence
        # unless another initial follows.
        next_is_initial = text[position + 1 : position + 2] == "." and following.isalpha()
        verdict = word == "I" and not next_is_initial
    else:
        verdict = True
    return verdict


def _word_before(text: str, terminator_start: int) -> str:
    """The word a terminator is attached to, without leading quotes or brackets."""
    window = text[max(0, terminator_start - _LOOK_BEHIND) : terminator_start]
    if not window or window[-1].isspace():
        return ""
    return window.split()[-1].lstrip(_OPENERS)


def _next_word(text: str, start: int, end: int) -> str:
    stop = start
    limit = min(end, start + _LOOK_BEHIND)
    while stop < limit and text[stop].isalpha():
        stop += 1
    return text[start:stop]
