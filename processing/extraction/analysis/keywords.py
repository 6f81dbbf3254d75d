"""Key phrases with YAKE's scoring, run on a bounded, deterministic sample of the text.

YAKE (Campos et al., 2020) scores candidate phrases of up to three words from
statistics of the text alone: casing, position, frequency, spread over
sentences and the variety of neighbouring words. The ``yake`` package computes
it with a networkx graph and an object per term and candidate, which costs about
0.3 s for 48 KB of text; this module implements the same features and formulas
with plain dicts and lists (about 0.05 s), and takes only YAKE's stopword lists
from the package (read as files: ``yake`` itself is never imported). It reads
at most :data:`SAMPLE_CHARS` characters: the whole text when it is that short,
otherwise :data:`SAMPLE_CHUNKS` evenly spaced excerpts of whole sentences (the
first at the very start), so the keyword stage costs about the same for any
document past that size.

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
import importlib.util
import math
import re
import statistics
import string
from collections import Counter
from dataclasses import dataclass, field
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


def _stopword_dir() -> Path:
    """Where the ``yake`` package keeps its stopword lists, found without importing it
    (its import pulls in networkx and numpy)."""
    spec = importlib.util.find_spec("yake")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        return Path("/nonexistent")
    return Path(next(iter(locations))) / "core" / "StopwordsList"


_STOPWORD_DIR = _stopword_dir()
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
    language = _language(sample)
    ranked = _score_phrases(sample.split("\n"), _stopwords(language), top=top * SPARES)
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
    path = _STOPWORD_DIR / f"stopwords_{language}.txt"
    try:
        data = path.read_bytes()
    except OSError:
        return frozenset()
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        content = data.decode("latin-1")
    return frozenset(content.lower().split())


# --- YAKE, reimplemented ------------------------------------------------------------
#
# The scoring of yake 0.7 (``yake.data.core``, ``single_word``, ``composed_word`` and the
# ``seqm`` deduplication of ``yake.core.yake``) with plain dicts and lists instead of
# a networkx graph and one object per term and candidate: the same features and
# formulas, about six times faster. Sentences are the sample's lines (which already
# are sentences) rather than a second segmentation by segtok; tokens follow segtok's
# web tokenizer closely enough for the features (words with inner hyphens, dots,
# commas and apostrophes stay whole, "n't" is split off, "'s" and the like are
# dropped, runs of one punctuation character are one token).

_TOKEN = re.compile(
    r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[^\W\d_](?:\.[^\W\d_])+\."
    r"|\w+(?:[-'’.,]\w+)*"
    r"|([^\w\s])\1*"
)
_PUNCTUATION_CHARS = string.punctuation
_PUNCTUATION = frozenset(_PUNCTUATION_CHARS)
_NO_PUNCTUATION = str.maketrans("", "", _PUNCTUATION_CHARS)
_CONTRACTION = re.compile(r"(?i)(\w+)(n['’]t|['’](?:s|ll|re|ve|d|m))$")
#: Tags of tokens that neither relate to neighbours nor make a valid candidate:
#: numbers ("d") and odd mixtures of letters, digits and symbols ("u").
_DISCARDED_TAGS = frozenset("ud")
#: yake's defaults: similarity above which a candidate repeats a better one.
_DEDUP_LIMIT = 0.9


def _tokens(sentence: str) -> list[str]:
    tokens: list[str] = []
    for match in _TOKEN.finditer(sentence):
        token = match.group()
        if "'" in token or "’" in token:
            contraction = _CONTRACTION.match(token)
            if contraction is not None:
                stem, suffix = contraction.groups()
                tokens.append(stem)
                if suffix[0].lower() == "n":
                    tokens.append(suffix)  # "n't" is kept, "'s" and the like are not
                continue
        tokens.append(token)
    return tokens


def _tag(word: str, position: int) -> str:
    """yake's word classes: d(igit), u(nusual), a(cronym), n(ame), p(lain)."""
    plain = word.replace(",", "")
    if plain.isdigit() or plain.replace(".", "", 1).isdigit():
        return "d"
    digits = sum(map(str.isdigit, word))
    letters = sum(map(str.isalpha, word))
    symbols = sum(1 for char in word if char in _PUNCTUATION)
    if (digits and letters) or (not digits and not letters) or symbols > 1:
        return "u"
    if word.isupper():
        return "a"
    if len(word) > 1 and word[0].isupper() and position > 0 and sum(map(str.isupper, word)) == 1:
        return "n"
    return "p"


@dataclass(slots=True)
class _Term:
    index: int
    stopword: bool
    tf: float = 0.0
    tf_acronym: float = 0.0
    tf_name: float = 0.0
    sentences: dict[int, None] = field(default_factory=dict)
    h: float = 0.0


@dataclass(slots=True)
class _Phrase:
    text: str
    terms: tuple[_Term, ...]
    valid_tags: bool
    tf: float = 0.0


def _score_phrases(
    sentences: list[str], stopwords: frozenset[str], *, top: int
) -> list[tuple[str, float]]:
    """yake's ``KeywordExtractor(n=MAX_WORDS, top=top).extract_keywords`` over ``sentences``."""
    terms: dict[str, _Term] = {}
    edges: Counter[tuple[int, int]] = Counter()
    phrases: dict[str, _Phrase] = {}
    tags: dict[tuple[str, bool], str] = {}  # yake's get_tag, cached
    for sentence_id, sentence in enumerate(sentences):
        # The current run of words between punctuation: (discarded tag, word, lower, term).
        block: list[tuple[bool, str, str, _Term]] = []
        for position, word in enumerate(_tokens(sentence)):
            if not word.strip(_PUNCTUATION_CHARS):
                block = []
                continue
            tag = tags.get((word, position > 0)) or tags.setdefault(
                (word, position > 0), _tag(word, position)
            )
            lower = word.lower()
            term = _term(terms, lower, stopwords)
            term.tf += 1.0
            if tag == "a":
                term.tf_acronym += 1.0
            elif tag == "n":
                term.tf_name += 1.0
            term.sentences[sentence_id] = None
            discarded = tag in _DISCARDED_TAGS
            if not discarded and block and not block[-1][0]:
                edges[(block[-1][3].index, term.index)] += 1
            block.append((discarded, word, lower, term))
            _count_phrases(phrases, block)
    if not _score_terms(terms, edges, sentences=len(sentences)):
        return []
    return _best_distinct(phrases, edges, top=top)


def _best_distinct(
    phrases: dict[str, _Phrase], edges: Counter[tuple[int, int]], *, top: int
) -> list[tuple[str, float]]:
    """The ``top`` best valid phrases, each unlike the better ones (yake's deduplication)."""
    scored = []
    for phrase in phrases.values():
        if not phrase.valid_tags or phrase.terms[0].stopword or phrase.terms[-1].stopword:
            continue
        scored.append((_phrase_h(phrase, edges), phrase.text))
    # Stable on the order of first appearance, as yake's sorted() is.
    scored.sort(key=lambda item: item[0])
    chosen: list[tuple[str, float]] = []
    for h, text in scored:
        key = text.lower()
        if any(_similarity(key, other.lower()) > _DEDUP_LIMIT for other, _ in chosen):
            continue
        chosen.append((text, h))
        if len(chosen) == top:
            break
    return chosen


def _count_phrases(phrases: dict[str, _Phrase], block: list[tuple[bool, str, str, _Term]]) -> None:
    """Count the phrases of one to :data:`MAX_WORDS` words ending at the block's last word."""
    for size in range(1, min(MAX_WORDS, len(block)) + 1):
        parts = block[-size:]
        key = parts[0][2] if size == 1 else " ".join(part[2] for part in parts)
        phrase = phrases.get(key)
        tags_ok = not any(part[0] for part in parts)
        if phrase is None:
            text = parts[0][1] if size == 1 else " ".join(part[1] for part in parts)
            phrase = phrases[key] = _Phrase(text, tuple(part[3] for part in parts), tags_ok)
        elif tags_ok:
            phrase.valid_tags = True
        phrase.tf += 1.0


def _term(terms: dict[str, _Term], lower: str, stopwords: frozenset[str]) -> _Term:
    key = lower
    listed = key in stopwords
    if key.endswith("s") and len(key) > 3:
        key = key[:-1]
    term = terms.get(key)
    if term is None:
        bare = key.translate(_NO_PUNCTUATION)
        stopword = listed or key in stopwords or len(bare) < 3
        term = terms[key] = _Term(index=len(terms), stopword=stopword)
    return term


def _score_terms(
    terms: dict[str, _Term], edges: Counter[tuple[int, int]], *, sentences: int
) -> bool:
    """Each term's yake score ``h`` (lower is better); False when no term is a content word."""
    content = [term.tf for term in terms.values() if not term.stopword]
    if not content:
        return False
    mean = math.fsum(content) / len(content)
    std = math.sqrt(math.fsum((tf - mean) ** 2 for tf in content) / len(content))
    max_tf = max(term.tf for term in terms.values())
    out_degree: Counter[int] = Counter()
    out_weight: Counter[int] = Counter()
    in_degree: Counter[int] = Counter()
    in_weight: Counter[int] = Counter()
    for (left, right), count in edges.items():
        out_degree[left] += 1
        out_weight[left] += count
        in_degree[right] += 1
        in_weight[right] += count
    for term in terms.values():
        index = term.index
        right_share = out_degree[index] / out_weight[index] if out_weight[index] else 0.0
        left_share = in_degree[index] / in_weight[index] if in_weight[index] else 0.0
        share = term.tf / max_tf
        relatedness = (0.5 + left_share * share) + (0.5 + right_share * share)
        frequency = term.tf / (mean + std)
        spread = len(term.sentences) / sentences
        casing = max(term.tf_acronym, term.tf_name) / (1.0 + math.log(term.tf))
        position = math.log(math.log(3.0 + statistics.median(term.sentences)))
        term.h = (position * relatedness) / (
            casing + frequency / relatedness + spread / relatedness
        )
    return True


def _phrase_h(phrase: _Phrase, edges: Counter[tuple[int, int]]) -> float:
    """yake's candidate score: the product of its words' scores over their sum, per use;
    a stopword inside ("Department of Justice") weighs by how strongly it binds."""
    total, product = 0.0, 1.0
    terms = phrase.terms
    for index, term in enumerate(terms):
        if not term.stopword:
            total += term.h
            product *= term.h
            continue
        before = after = 0.0
        if index > 0:
            previous = terms[index - 1]
            link = edges.get((previous.index, term.index), 0)
            before = link / previous.tf
        if index < len(terms) - 1:
            following = terms[index + 1]
            link = edges.get((term.index, following.index), 0)
            after = link / following.tf
        binding = before * after
        product *= 1 + (1 - binding)
        total -= 1 - binding
    return product / ((total + 1) * phrase.tf)


def _similarity(first: str, second: str) -> float:
    """yake's ``seqm`` similarity: its pre-filter, then its character and word overlaps."""
    if first == second:
        return 1.0
    return _overlap(first, second) if _comparable(first, second) else 0.0


def _comparable(first: str, second: str) -> bool:
    """yake's pre-filter: similar lengths, same edges, a similar number of words."""
    longest = max(len(first), len(second))
    if abs(len(first) - len(second)) > longest * 0.6:
        return False
    if longest > 3 and (
        first[0] != second[0]
        or first[-1] != second[-1]
        or (min(len(first), len(second)) >= 3 and first[:2] != second[:2])
    ):
        return False
    return abs(first.count(" ") - second.count(" ")) <= 1


def _overlap(first: str, second: str) -> float:
    longest = max(len(first), len(second))
    length_ratio = min(len(first), len(second)) / longest
    if length_ratio < 0.3:
        return 0.0
    chars = set(first) | set(second)
    overlap = len(set(first) & set(second)) / len(chars)
    if overlap < 0.2:
        return 0.0
    if longest <= 4:
        return overlap * length_ratio
    words, other_words = first.split(), second.split()
    if len(words) > 1 or len(other_words) > 1:
        union = set(words) | set(other_words)
        word_overlap = len(set(words) & set(other_words)) / len(union)
        if word_overlap > 0.4:
            return word_overlap
    trigrams = {first[i : i + 3] for i in range(len(first) - 2)}
    other_trigrams = {second[i : i + 3] for i in range(len(second) - 2)}
    union_trigrams = trigrams | other_trigrams
    trigram_overlap = len(trigrams & other_trigrams) / len(union_trigrams) if union_trigrams else 0
    return min(0.3 * length_ratio + 0.2 * overlap + 0.5 * trigram_overlap, 1.0)


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
