"""Extractive summary: the sentences closest to the document's TF-IDF centroid.

Every sentence is weighted with TF-IDF, taking the document's own sentences as
the collection; the centroid is the document's highest-weighted terms. A
sentence's score is its cosine similarity to that centroid, so the cost is one
pass over the sentences (no sentence-to-sentence comparisons). Only the best
:data:`MAX_CANDIDATES` sentences go on to the selection, which uses maximal
marginal relevance (MMR) so that a sentence nearly repeating one already chosen
is skipped. The chosen sentences are returned in document order.

Sentences that read badly out of context are not candidates: very short or
very long ones, headings (no final punctuation, or all capitals), fragments
(starting in lower case), table rows (mostly digits and symbols, or columns
separated by tabs or runs of spaces) and sentences holding URLs. If a document
has no other kind, the best of the rest is used, shortened to a word boundary
when over-long, so a summary is still given.

Stopwords: a built-in English list, and for every language the terms found in
more than :data:`COMMON_TERM_SHARE` of the sentences. Words are runs of
letters in any script; Chinese and Japanese, written without spaces, are read
as character pairs.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain, filterfalse

from processing.extraction.analysis.sentences import (
    Span,
    clean_sentence,
    has_final_punctuation,
    split_sentences,
)
from processing.extraction.analysis.stopwords import ENGLISH_STOPWORDS
from processing.extraction.result import Summary, SummarySentence

#: Most sentences scored in the selection step, whatever the document's size.
MAX_CANDIDATES = 60
#: Terms kept in the centroid.
CENTROID_TERMS = 100
#: Characters of summary allowed per requested sentence.
CHARS_PER_SENTENCE = 320
#: Longest sentence a summary may quote whole.
MAX_SENTENCE_CHARS = 500
MIN_WORDS = 6
MIN_CJK_CHARS = 12
#: MMR trade-off between relevance (1.0) and novelty (0.0).
MMR_LAMBDA = 0.7
#: Candidates scoring below this share of the best are not worth quoting.
MIN_RELATIVE_SCORE = 0.1
#: Cosine similarity above which a sentence repeats one already chosen.
MAX_SIMILARITY = 0.5
#: Share of sentences a term may appear in before it counts as a stopword
#: (a language-independent stand-in for a stopword list).
COMMON_TERM_SHARE = 0.2
#: The first sentences of a document usually state its subject.
LEAD_SENTENCES = 5
LEAD_BONUS = 0.15

_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CLASS}]")
_CJK_BIGRAM = re.compile(f"(?=([{_CJK_CLASS}]{{2}}))")
# Letters only (numbers say little about a topic); hyphen and apostrophe inside
# words keep "well-known" and "don't" whole.
_WORD = re.compile(f"[^\\W\\d_{_CJK_CLASS}]+(?:[-'][^\\W\\d_{_CJK_CLASS}]+)*")
_HYPHEN_BREAK = re.compile(r"(\w)-[ \t\f]*\n\s*(\w)")
_ALNUM = re.compile(r"[^\W_]")
# Anchored at a word start so that each word is scanned once (linear).
_URL = re.compile(r"(?<!\S)\S*?(?:://|www\.)\S*")
_COLUMN_GAP = re.compile(r"\S(?: {3,}|\t)\S")


@dataclass(slots=True)
class _Candidate:
    index: int
    start: int
    end: int
    terms: Counter[str]
    norm: float
    score: float


def summarize(text: str, *, max_sentences: int = 5) -> Summary:
    """The ``max_sentences`` (at most) most central sentences of ``text``, in order.

    Deterministic: the same text always gives the same summary. Each
    :class:`SummarySentence` carries its span in ``text``; its ``text`` is the
    span on one line (soft line breaks and hyphenation undone).
    """
    if max_sentences <= 0 or not text.strip():
        return Summary(text="")
    spans = split_sentences(text)
    has_cjk = _CJK.search(text) is not None
    # One string object per distinct term: less memory, and dictionary
    # lookups that compare by identity.
    canonical: dict[str, str] = {}
    counts: list[Counter[str]] = []
    eligible: list[int] = []
    for index, (start, end) in enumerate(spans):
        words, letters = _terms(text[start:end], has_cjk=has_cjk)
        sentence = Counter(map(canonical.setdefault, words, words))
        counts.append(sentence)
        if sentence and _reads_as_sentence(text[start:end], letters):
            eligible.append(index)
    del canonical
    relaxed = not eligible
    if relaxed:
        # Nothing reads as a sentence (headings, lists, text without
        # punctuation): the best of whatever has content words will have to
        # do, or failing those ("It is what it is."), the first with any word.
        eligible = [index for index, sentence in enumerate(counts) if sentence] or [
            index for index, (start, end) in enumerate(spans) if _ALNUM.search(text, start, end)
        ]

    # Counting over flattened iterables keeps the per-term loop in C.
    document_frequency = Counter(chain.from_iterable(counts))
    idf = {term: math.log1p(len(counts) / df) for term, df in document_frequency.items()}
    # The centroid comes from the candidates only, so tables, reference lists
    # and headings do not decide what the document is about.
    totals = Counter(chain.from_iterable(counts[index].elements() for index in eligible))
    centroid = _centroid(totals, idf, sentences=len(counts))
    del totals

    model = _Model(idf, {term: weight * weight for term, weight in idf.items()}, centroid)
    candidates = [
        _candidate(text, index, spans[index], counts[index], model, shorten=relaxed)
        for index in eligible
    ]
    best = heapq.nlargest(MAX_CANDIDATES, candidates, key=lambda c: (c.score, -c.index))
    chosen = _select(text, best, idf, max_sentences=max_sentences)

    vocabulary = idf.keys()
    sentences = tuple(
        SummarySentence(
            text=clean_sentence(text[c.start : c.end], vocabulary), start=c.start, end=c.end
        )
        for c in sorted(chosen, key=lambda c: c.start)
    )
    return Summary(text=" ".join(s.text for s in sentences), sentences=sentences)


def _terms(raw: str, *, has_cjk: bool) -> tuple[list[str], int]:
    """A sentence's content terms (lower case, stopwords dropped) and its letter count."""
    if "://" in raw or "www." in raw:
        raw = _URL.sub(" ", raw)
    if "-\n" in raw or "- \n" in raw:
        raw = _HYPHEN_BREAK.sub(r"\1\2", raw)
    lowered = raw.lower().replace("’", "'")
    words = _WORD.findall(lowered)
    letters = sum(map(len, words))
    terms = list(filterfalse(ENGLISH_STOPWORDS.__contains__, words))
    if has_cjk:
        bigrams = _CJK_BIGRAM.findall(lowered)
        letters += len(bigrams)
        terms.extend(bigrams)
    return terms, letters


def _centroid(totals: Counter[str], idf: dict[str, float], *, sentences: int) -> dict[str, float]:
    """The document's top terms by total TF-IDF.

    Terms found in a single sentence say nothing about what the document as a
    whole is about, and terms found in a large share of the sentences are in
    effect stopwords; both are left out.
    """
    # Smoothed IDF is log1p(N / df): these bounds are df >= 2 and df <= share * N.
    rarest_idf = math.log1p(sentences / 2) if sentences >= 2 else math.inf
    common_idf = math.log1p(1 / COMMON_TERM_SHARE) if sentences >= 20 else 0.0
    weighted = (
        (count * idf[term], term)
        for term, count in totals.items()
        if common_idf < idf[term] <= rarest_idf
    )
    # Ties broken by the term itself so the centroid never depends on hash order.
    top = heapq.nlargest(CENTROID_TERMS, weighted)
    return {term: weight for weight, term in top}


@dataclass(frozen=True, slots=True)
class _Model:
    idf: dict[str, float]
    idf_squared: dict[str, float]
    centroid: dict[str, float]


def _candidate(
    text: str, index: int, span: Span, terms: Counter[str], model: _Model, *, shorten: bool
) -> _Candidate:
    start, end = span
    if shorten and end - start > MAX_SENTENCE_CHARS:
        end = _shorten(text, start, end)
    # This runs for every sentence of the document, so the common case (each
    # term once) is summed by built-ins, and only the few centroid terms of
    # the sentence are visited one by one.
    idf = model.idf
    squares = math.fsum(map(model.idf_squared.__getitem__, terms))
    if terms.total() != len(terms):
        for term, count in terms.items():
            if count > 1:
                squares += ((1.0 + math.log(count)) * idf[term]) ** 2 - model.idf_squared[term]
    dot = 0.0
    # Sorted: set order varies between processes, and so would the float sum.
    for term in sorted(model.centroid.keys() & terms.keys()):
        dot += (1.0 + math.log(terms[term])) * idf[term] * model.centroid[term]
    norm = math.sqrt(squares)
    score = dot / norm if norm else 0.0
    if index < LEAD_SENTENCES:
        score *= 1.0 + LEAD_BONUS * (LEAD_SENTENCES - index) / LEAD_SENTENCES
    return _Candidate(index, start, end, terms, norm, score)


def _reads_as_sentence(raw: str, letters: int) -> bool:
    """Whether a sentence makes sense quoted alone: not a heading, table row or fragment."""
    if len(raw) > MAX_SENTENCE_CHARS or "://" in raw or "www." in raw:
        return False
    if not has_final_punctuation(raw):
        return False
    opening = _ALNUM.search(raw)
    if opening is None or opening.group().islower() or raw.isupper():
        # Starts mid-sentence (a fragment left by a table or a bad line join),
        # or shouts like a heading.
        return False
    words = raw.split()
    if len(words) < MIN_WORDS and not (len(raw) >= MIN_CJK_CHARS and _CJK.search(raw)):
        return False
    if letters < 0.6 * sum(map(len, words)):
        return False
    return ("   " not in raw and "\t" not in raw) or len(_COLUMN_GAP.findall(raw)) < 2


def _shorten(text: str, start: int, end: int) -> int:
    """An end at most :data:`MAX_SENTENCE_CHARS` after ``start``, on a word boundary."""
    limit = start + MAX_SENTENCE_CHARS
    cut = max(text.rfind(" ", start, limit), text.rfind("\n", start, limit))
    end = cut if cut > start else limit
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _select(
    text: str, best: list[_Candidate], idf: dict[str, float], *, max_sentences: int
) -> list[_Candidate]:
    """Maximal marginal relevance over the best candidates, within the length budget."""
    if not best:
        return []
    # Repeats have a cosine of 1, except sentences without content words,
    # whose vectors are empty: those are compared by their words.
    seen: set[str] = set()
    weights = {id(c): _weights(c.terms, idf) for c in best}
    floor = MIN_RELATIVE_SCORE * best[0].score
    top_score = best[0].score or 1.0
    budget = CHARS_PER_SENTENCE * max_sentences
    chosen: list[_Candidate] = []
    remaining = list(best)
    used = 0
    while remaining and len(chosen) < max_sentences:
        pick: _Candidate | None = None
        pick_value = -math.inf
        for candidate in remaining:
            if candidate.score < floor:
                continue
            redundancy = max((_cosine(candidate, other, weights) for other in chosen), default=0.0)
            if redundancy > MAX_SIMILARITY:
                continue
            value = MMR_LAMBDA * candidate.score / top_score - (1 - MMR_LAMBDA) * redundancy
            if value > pick_value:
                pick, pick_value = candidate, value
        if pick is None:
            break
        remaining.remove(pick)
        length = pick.end - pick.start
        words = " ".join(text[pick.start : pick.end].lower().split())
        if (used + length > budget and chosen) or words in seen:
            continue
        seen.add(words)
        chosen.append(pick)
        used += length
    return chosen


def _weights(terms: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    return {term: (1.0 + math.log(count)) * idf[term] for term, count in terms.items()}


def _cosine(first: _Candidate, second: _Candidate, weights: dict[int, dict[str, float]]) -> float:
    if first.norm == 0.0 or second.norm == 0.0:
        return 0.0
    small, large = sorted((weights[id(first)], weights[id(second)]), key=len)
    dot = sum(weight * large.get(term, 0.0) for term, weight in small.items())
    return dot / (first.norm * second.norm)
