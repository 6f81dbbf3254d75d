"""Key phrases with YAKE, run on a bounded, deterministic sample of the text.

YAKE (``yake`` package) scores candidate phrases of up to three words from
statistics of the text alone: casing, position, frequency, spread over
sentences and the variety of neighbouring words. It is slow, though: 5.5 s for
0.3 MB of text on the development machine, so about a minute for 3 MB. It
therefore reads at most :data:`SAMPLE_CHARS` characters: the whole text when it
is that short, otherwise :data:`SAMPLE_CHUNKS` evenly spaced excerpts of whole
sentences (the first at the very start), and the keyword stage costs about the
same for any document past that size (under a second).

YAKE gives *lower* scores to better phrases. :attr:`Keyword.score` is the best
phrase's YAKE score divided by this phrase's: the top keyword scores 1.0 and
the others less, in proportion, so higher is better.

Phrases that differ only in case or in a plural are one phrase; a phrase whose
words all belong to a better one ("Prince" after "Prince Andrew"), that holds
all the words of a better one ("thought Prince Andrew"), or that shares two
words with one ("States Trustee include" after "United States Trustee"), is
left out so the list is not ten variants of one name.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from processing.extraction.analysis.sentences import (
    clean_sentence,
    has_final_punctuation,
    split_sentences,
)
from processing.extraction.result import Keyword

#: Most characters YAKE reads per document.
SAMPLE_CHARS = 48_000
SAMPLE_CHUNKS = 12
#: Longest phrase, in words.
MAX_WORDS = 3
#: Candidates asked of YAKE per keyword wanted: spares for those we drop.
SPARES = 8
#: Languages tried for YAKE's stopword list (its codes), in order of preference.
_LANGUAGE_CODES = (
    "en de fr es it pt nl sv da no fi pl cz sk sl hr ro hu tr ru uk bg el lt lv et id ar fa"
)
LANGUAGES: tuple[str, ...] = tuple(_LANGUAGE_CODES.split())
#: Share of a sample's words that must be stopwords of a language to choose it;
#: below it (other languages and scripts, mixed text) English is used, whose
#: stopwords rarely clash with other languages' words.
MIN_STOPWORD_SHARE = 0.15
_FALLBACK_LANGUAGE = "en"
_DETECTION_CHARS = 20_000

# "Anna Pavlovna's hand": without a break YAKE reads "Anna Pavlovna hand" as
# one phrase.
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_WORD = re.compile(r"[^\W\d_]+")


def extract_keywords(text: str, *, top: int = 10) -> tuple[Keyword, ...]:
    """The ``top`` (at most) key phrases of ``text``, best first; deterministic."""
    if top <= 0 or not text.strip():
        return ()
    sample = _sample(text)
    if not sample:
        return ()
    import yake  # deferred: heavy import, kept off the cold start

    language = _language(sample)
    extractor = yake.KeywordExtractor(
        lan=language,
        n=MAX_WORDS,
        top=top * SPARES,
        stopwords=set(_stopwords(language)),
    )
    ranked = [(str(phrase), float(score)) for phrase, score in extractor.extract_keywords(sample)]
    return _distinct(ranked, top=top)


def _sample(text: str) -> str:
    """What YAKE reads: one sentence a line, each ending in a terminator.

    ``text`` itself when short, else evenly spaced excerpts of whole sentences.
    YAKE turns newlines into spaces, so headings, list items and table rows get
    a period; otherwise it would read phrases across them ("Goals Apps Goals").
    """
    if len(text) <= SAMPLE_CHARS:
        return _sentence_lines(text, cut_start=False, cut_end=False)
    size = SAMPLE_CHARS // SAMPLE_CHUNKS
    step = (len(text) - size) / (SAMPLE_CHUNKS - 1)
    excerpts = []
    for index in range(SAMPLE_CHUNKS):
        start = round(index * step)
        chunk = text[start : start + size]
        excerpts.append(_sentence_lines(chunk, cut_start=index > 0, cut_end=True))
    return "\n".join(excerpt for excerpt in excerpts if excerpt)


def _sentence_lines(chunk: str, *, cut_start: bool, cut_end: bool) -> str:
    spans = split_sentences(chunk)
    # Where an excerpt was cut from the text, its edge sentence is partial.
    if cut_start and len(spans) > 1:
        spans = spans[1:]
    if cut_end and len(spans) > 1:
        spans = spans[:-1]
    lines = []
    for start, end in spans:
        sentence = _POSSESSIVE.sub(",", clean_sentence(chunk[start:end]))
        lines.append(sentence if has_final_punctuation(sentence) else sentence + ".")
    return "\n".join(lines)


def _language(sample: str) -> str:
    """The YAKE language whose stopwords cover most of the sample, if enough do."""
    words = [word.lower() for word in _WORD.findall(sample[:_DETECTION_CHARS])]
    if not words:
        return _FALLBACK_LANGUAGE
    best, best_share = _FALLBACK_LANGUAGE, MIN_STOPWORD_SHARE
    for language in LANGUAGES:
        stopwords = _stopwords(language)
        share = sum(1 for word in words if word in stopwords) / len(words)
        if share > best_share:
            best, best_share = language, share
    return best


@functools.cache
def _stopwords(language: str) -> frozenset[str]:
    """YAKE's stopword list for ``language``; empty if it has none.

    Read here rather than through ``KeywordExtractor``, which prints to stdout
    when a list is not UTF-8.
    """
    import yake  # deferred: heavy import, kept off the cold start

    path = Path(yake.__file__).parent / "core" / "StopwordsList" / f"stopwords_{language}.txt"
    try:
        data = path.read_bytes()
    except OSError:
        return frozenset()
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        content = data.decode("latin-1")
    return frozenset(content.lower().split())


def _distinct(ranked: list[tuple[str, float]], *, top: int) -> tuple[Keyword, ...]:
    """The best ``top`` phrases, variants and overlapping phrases dropped, rescored."""
    kept: list[tuple[str, float]] = []
    kept_words: list[frozenset[str]] = []
    for phrase, score in sorted(ranked, key=lambda item: (item[1], item[0])):
        words = frozenset(filter(None, (_normalize(word) for word in phrase.split())))
        if not words or any(_overlaps(words, other) for other in kept_words):
            continue
        kept.append((phrase, score))
        kept_words.append(words)
        if len(kept) == top:
            break
    if not kept:
        return ()
    best = max(kept[0][1], _TINY)
    # Six significant digits: plenty to rank by, and tidy in JSON.
    return tuple(
        Keyword(text=phrase, score=float(f"{best / max(score, _TINY):.6g}"))
        for phrase, score in kept
    )


_TINY = 1e-12


def _overlaps(words: frozenset[str], other: frozenset[str]) -> bool:
    """Whether one phrase holds the other's words, or they share two (of at most three)."""
    shared = len(words & other)
    return shared >= 2 or shared == min(len(words), len(other))


def _normalize(word: str) -> str:
    """``word`` in lower case without a plural ending (English rules, ASCII words only)."""
    word = word.lower().strip("'’\".,;:()[]")
    if len(word) <= 3 or not word.isascii() or not word.endswith("s"):
        return word
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    return word[:-1]
