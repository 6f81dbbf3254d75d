"""Full-text search for the Azure AI Search stand-in: analysis, simple query
syntax, BM25 scoring and hit highlighting.

Analysis is one analyzer for every searchable field, whatever ``analyzer``
the index names (``standard.lucene``, ``en.microsoft``...): lowercase, split
on anything that is not a letter or digit. No stemming, no stop words.

The simple query syntax (learn.microsoft.com, "Simple query syntax in Azure
AI Search") is read as Lucene's SimpleQueryParser reads it:

- whitespace joins clauses with the default operator: OR for
  ``searchMode=any``, AND for ``searchMode=all``;
- ``+`` is AND, ``|`` is OR; operators group left to right, parentheses
  group explicitly;
- ``-term`` is NOT: in ``any`` mode ``wifi -luxury`` therefore matches
  documents with *wifi* or without *luxury*, as the docs warn;
- ``"a phrase"`` matches consecutive tokens; ``lux*`` matches tokens that
  start with ``lux``; a term the analyzer splits (``O'Brien``) is a phrase;
- ``*`` alone, or an empty query, matches every document with score 1.

Scoring is Lucene's BM25Similarity (k1=1.2, b=0.75, the service's
documented defaults) summed over the searched fields: per field
``idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))`` with
``idf = ln(1 + (N - n + 0.5) / (n + 0.5))``, where N counts documents with
that field, n those containing the term and dl is the field's token count.
A phrase scores like one term with the summed idf of its words; a prefix
clause scores a constant 1 per field (Lucene rewrites prefix queries to
constant-score queries).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

K1 = 1.2
B = 0.75

_WORD = re.compile(r"[^\W_]+")
# Lucene keeps a large position gap between the values of a multi-valued
# field so phrases never span two values; an empty token stands for it.
_GAP = ""


def tokenize(text: str) -> list[str]:
    """The analyzer: lowercase alphanumeric runs."""
    return [match.group().lower() for match in _WORD.finditer(text)]


@dataclass(frozen=True)
class AnalyzedField:
    """A searchable field's tokens (with value gaps) and term counts."""

    tokens: tuple[str, ...]
    counts: Mapping[str, int]
    length: int


def analyze(value: object) -> AnalyzedField:
    """Analyze an ``Edm.String`` or ``Collection(Edm.String)`` value."""
    items = value if isinstance(value, list) else [value]
    tokens: list[str] = []
    for item in items:
        if isinstance(item, str):
            if tokens:
                tokens.append(_GAP)
            tokens.extend(tokenize(item))
    words = [token for token in tokens if token]
    return AnalyzedField(tuple(tokens), Counter(words), len(words))


# -- query tree ---------------------------------------------------------------


class _Node(Protocol):
    def matches(self, doc: Mapping[str, AnalyzedField]) -> bool: ...

    def score(self, doc: Mapping[str, AnalyzedField], stats: CorpusStats) -> float: ...

    def positives(self) -> Iterable[Leaf]: ...


class Leaf(Protocol):
    """A clause that matches tokens: a term, a phrase or a prefix."""

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int]]: ...

    def terms(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]  # one word for a plain term

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int]]:
        width = len(self.words)
        return [
            (i, i + width)
            for i in range(len(tokens) - width + 1)
            if tuple(tokens[i : i + width]) == self.words
        ]

    def terms(self) -> Iterable[str]:
        return self.words

    def matches(self, doc: Mapping[str, AnalyzedField]) -> bool:
        return any(self._frequency(analyzed) for analyzed in doc.values())

    def _frequency(self, analyzed: AnalyzedField) -> int:
        if len(self.words) == 1:
            return analyzed.counts.get(self.words[0], 0)
        return len(self.spans(analyzed.tokens))

    def score(self, doc: Mapping[str, AnalyzedField], stats: CorpusStats) -> float:
        total = 0.0
        for name, analyzed in doc.items():
            frequency = self._frequency(analyzed)
            if frequency:
                idf = sum(stats.idf(name, word) for word in self.words)
                norm = K1 * (1 - B + B * analyzed.length / stats.average_length(name))
                total += idf * frequency / (frequency + norm)
        return total

    def positives(self) -> Iterable[Leaf]:
        return [self]


@dataclass(frozen=True)
class _Prefix:
    stem: str

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int]]:
        return [(i, i + 1) for i, token in enumerate(tokens) if token.startswith(self.stem)]

    def terms(self) -> Iterable[str]:
        return ()

    def _hits(self, analyzed: AnalyzedField) -> bool:
        return any(token.startswith(self.stem) for token in analyzed.counts)

    def matches(self, doc: Mapping[str, AnalyzedField]) -> bool:
        return any(self._hits(analyzed) for analyzed in doc.values())

    def score(self, doc: Mapping[str, AnalyzedField], stats: CorpusStats) -> float:
        return float(sum(1 for analyzed in doc.values() if self._hits(analyzed)))

    def positives(self) -> Iterable[Leaf]:
        return [self]


@dataclass(frozen=True)
class _Not:
    item: _Node

    def matches(self, doc: Mapping[str, AnalyzedField]) -> bool:
        return not self.item.matches(doc)

    def score(self, doc: Mapping[str, AnalyzedField], stats: CorpusStats) -> float:
        return 0.0

    def positives(self) -> Iterable[Leaf]:
        return ()


@dataclass(frozen=True)
class _Group:
    conjunction: bool
    items: tuple[_Node, ...]

    def matches(self, doc: Mapping[str, AnalyzedField]) -> bool:
        if self.conjunction:
            return all(item.matches(doc) for item in self.items)
        return any(item.matches(doc) for item in self.items)

    def score(self, doc: Mapping[str, AnalyzedField], stats: CorpusStats) -> float:
        return sum(item.score(doc, stats) for item in self.items if item.matches(doc))

    def positives(self) -> Iterable[Leaf]:
        return [leaf for item in self.items for leaf in item.positives()]


# -- parser -------------------------------------------------------------------

_OPERATORS = '+|()"'


class _QueryParser:
    def __init__(self, text: str, default_and: bool) -> None:
        self._text = text
        self._i = 0
        self._default_and = default_and

    def parse(self) -> _Node | None:
        clauses: list[_Node] = []
        while True:
            node = self._sequence()
            if node is not None:
                clauses.append(node)
            if self._i >= len(self._text):
                break
            self._i += 1  # an unbalanced ')' is skipped rather than refused
        if len(clauses) <= 1:
            return clauses[0] if clauses else None
        return _Group(self._default_and, tuple(clauses))

    def _skip_space(self) -> None:
        while self._i < len(self._text) and self._text[self._i].isspace():
            self._i += 1

    def _sequence(self) -> _Node | None:
        """Clauses up to ``)`` or the end, folded left to right by operator."""
        current: _Node | None = None
        current_and: bool | None = None
        pending: bool | None = None  # an explicit operator seen since the last clause
        while True:
            self._skip_space()
            if self._i >= len(self._text) or self._text[self._i] == ")":
                return current
            char = self._text[self._i]
            if char in "+|":
                pending = char == "+"
                self._i += 1
                continue
            clause = self._clause()
            if clause is None:
                continue
            conjunction = self._default_and if pending is None else pending
            pending = None
            if current is None:
                current = clause
            elif isinstance(current, _Group) and current_and == conjunction:
                current = _Group(conjunction, (*current.items, clause))
            else:
                current = _Group(conjunction, (current, clause))
            current_and = conjunction if isinstance(current, _Group) else None

    def _clause(self) -> _Node | None:
        negate = False
        while self._i < len(self._text) and self._text[self._i] == "-":
            negate = not negate
            self._i += 1
        node = self._atom()
        if node is None:
            return None
        return _Not(node) if negate else node

    def _atom(self) -> _Node | None:
        if self._i >= len(self._text):
            return None
        char = self._text[self._i]
        if char == "(":
            self._i += 1
            inner = self._sequence()
            if self._i < len(self._text):
                self._i += 1  # the ')'
            return inner
        if char == '"':
            end = self._text.find('"', self._i + 1)
            end = len(self._text) if end < 0 else end
            words = tuple(tokenize(self._text[self._i + 1 : end]))
            self._i = end + 1
            return _Phrase(words) if words else None
        start = self._i
        while (
            self._i < len(self._text)
            and not self._text[self._i].isspace()
            and self._text[self._i] not in _OPERATORS
        ):
            self._i += 1
        word = self._text[start : self._i]
        if word.endswith("*") and len(word) > 1:
            stems = tokenize(word[:-1])
            if len(stems) == 1:
                return _Prefix(stems[0])
        words = tuple(tokenize(word))
        return _Phrase(words) if words else None


@dataclass(frozen=True)
class SimpleQuery:
    """A parsed ``search`` text; ``match_all`` for ``*`` or an empty query."""

    root: _Node | None

    @property
    def match_all(self) -> bool:
        return self.root is None

    def matches(self, doc: Mapping[str, AnalyzedField]) -> bool:
        return self.root is None or self.root.matches(doc)

    def score(self, doc: Mapping[str, AnalyzedField], stats: CorpusStats) -> float:
        return 1.0 if self.root is None else self.root.score(doc, stats)

    def leaves(self) -> list[Leaf]:
        """The clauses whose matches are highlighted (not those under ``-``)."""
        return [] if self.root is None else list(self.root.positives())

    def terms(self) -> set[str]:
        return {term for leaf in self.leaves() for term in leaf.terms()}


def parse_query(text: str | None, *, all_mode: bool) -> SimpleQuery:
    """Parse simple query syntax; ``all_mode`` is ``searchMode=all``."""
    if text is None or text.strip() in ("", "*"):
        return SimpleQuery(None)
    return SimpleQuery(_QueryParser(text, all_mode).parse())


# -- statistics ---------------------------------------------------------------


@dataclass
class CorpusStats:
    """Per-field document counts, lengths and document frequencies of query terms."""

    doc_count: dict[str, int] = field(default_factory=dict)
    total_length: dict[str, int] = field(default_factory=dict)
    doc_freq: dict[tuple[str, str], int] = field(default_factory=dict)

    def idf(self, name: str, term: str) -> float:
        docs = self.doc_count.get(name, 0)
        containing = self.doc_freq.get((name, term), 0)
        return math.log(1 + (docs - containing + 0.5) / (containing + 0.5))

    def average_length(self, name: str) -> float:
        docs = self.doc_count.get(name, 0)
        return self.total_length.get(name, 0) / docs if docs else 1.0


def corpus_stats(docs: Iterable[Mapping[str, AnalyzedField]], terms: set[str]) -> CorpusStats:
    """Statistics over the whole index (Lucene ignores filters for them)."""
    stats = CorpusStats()
    for doc in docs:
        for name, analyzed in doc.items():
            if not analyzed.length:
                continue
            stats.doc_count[name] = stats.doc_count.get(name, 0) + 1
            stats.total_length[name] = stats.total_length.get(name, 0) + analyzed.length
            for term in terms & analyzed.counts.keys():
                key = (name, term)
                stats.doc_freq[key] = stats.doc_freq.get(key, 0) + 1
    return stats


# -- highlighting -------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def highlight(
    value: object, leaves: Sequence[Leaf], pre_tag: str, post_tag: str, limit: int
) -> list[str]:
    """Fragments of a field value holding matches, each match wrapped in the tags.

    A fragment is the sentence (or collection item) that holds a match; at
    most ``limit`` fragments per field, in text order.
    """
    items = value if isinstance(value, list) else [value]
    fragments: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        for sentence in _SENTENCE_END.split(item):
            marked = _mark(sentence, leaves, pre_tag, post_tag)
            if marked is not None:
                fragments.append(marked)
            if len(fragments) >= limit:
                return fragments
    return fragments


def _mark(text: str, leaves: Sequence[Leaf], pre_tag: str, post_tag: str) -> str | None:
    matches = list(_WORD.finditer(text))
    tokens = [match.group().lower() for match in matches]
    covered: set[int] = set()
    for leaf in leaves:
        for first, last in leaf.spans(tokens):
            covered.update(range(first, last))
    if not covered:
        return None
    # Each matched token is wrapped on its own, phrase words included.
    pieces: list[str] = []
    cursor = 0
    for index in sorted(covered):
        match = matches[index]
        pieces += [text[cursor : match.start()], pre_tag, match.group(), post_tag]
        cursor = match.end()
    pieces.append(text[cursor:])
    return "".join(pieces)
