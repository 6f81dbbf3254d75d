"""Words, query terms, snippets and highlight spans, the same for every engine.

A query reaches an engine only as words (runs of letters and digits,
lowercased): no operator, quote or field syntax of the user's ever does.
Snippets and highlights are computed here from the chunk's text, so both
engines answer alike: matching folds case and diacritics, as SQLite's
``unicode61 remove_diacritics 2`` tokenizer and Azure's analyzers do.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from search.errors import QueryError

#: Letters and digits (``\\w`` without the underscore): the engines' word characters.
_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_CHARS = 500
MAX_TERMS = 32
SNIPPET_CHARS = 300
#: Characters of context kept before the first match in a snippet.
_LEAD_CHARS = 60


def fold(word: str) -> str:
    """Lowercase without diacritics: how the engines compare words."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> Iterator[re.Match[str]]:
    return _WORD.finditer(text)


def query_terms(query: str | None) -> tuple[str, ...]:
    """The distinct lowercase words of ``query``; QueryError when it has none or is too long."""
    if query is None or not query.strip():
        raise QueryError("empty_query", "q is required: the words to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError("query_too_long", f"q must be at most {MAX_QUERY_CHARS} characters")
    terms = tuple(dict.fromkeys(match.group().lower() for match in words(query)))
    if not terms:
        raise QueryError("empty_query", "q has no words to search for (letters or digits)")
    if len(terms) > MAX_TERMS:
        raise QueryError("query_too_long", f"q may have at most {MAX_TERMS} distinct words")
    return terms


@dataclass(frozen=True, slots=True)
class Snippet:
    """A bounded passage of a chunk and the spans ``[start, end)`` of matched words in it."""

    text: str
    highlights: tuple[tuple[int, int], ...]
    #: Where the snippet starts in the chunk's content.
    offset: int


def snippet(content: str, terms: tuple[str, ...], limit: int = SNIPPET_CHARS) -> Snippet:
    """The passage of ``content`` around its first matched word, at most ``limit`` chars."""
    matches = _matches(content, terms)
    start = 0
    if matches and len(content) > limit:
        start = max(0, min(matches[0][0] - _LEAD_CHARS, len(content) - limit))
        # Open on a word: skip the tail of a word the window cut into.
        while 0 < start < matches[0][0] and not content[start - 1].isspace():
            start += 1
    end = min(len(content), start + limit)
    if end < len(content):  # close after a whole word
        cut = content.rfind(" ", start, end)
        end = cut if cut > start else end
    spans = tuple((s - start, e - start) for s, e in matches if s >= start and e <= end)
    return Snippet(content[start:end], spans, start)


def _matches(content: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans of the words of ``content`` equal to a term, ignoring case and diacritics.

    In C: ``content`` loses its diacritics character for character (so offsets
    stay; text without precomposed letters, ASCII or decomposed, has none to
    lose), and one case-insensitive pattern of the folded terms, bounded by
    non-word characters, finds them.
    """
    wanted = frozenset(fold(term) for term in terms)
    if not wanted:
        return []
    plain = content
    if not content.isascii() and not unicodedata.is_normalized("NFD", content):
        plain = content.translate(_strip_diacritics_table())
    return [(m.start(), m.end()) for m in _pattern(wanted).finditer(plain)]


@functools.lru_cache(maxsize=256)
def _pattern(wanted: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(t) for t in wanted), key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)


@functools.cache
def _strip_diacritics_table() -> str:
    """Indexed by code point below U+2000: the base letter of each character whose
    canonical decomposition is one letter plus combining marks (Latin, Greek,
    Cyrillic, Armenian...), else the character itself; ``str.translate`` leaves
    code points beyond the table as they are."""
    table = []
    for code in range(0x2000):
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        table.append(base if len(base) == 1 else char)
    return "".join(table)
