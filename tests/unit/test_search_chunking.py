"""Chunking: sentence-aligned chunks within the size, overlapping by sentences,
never across a page, each with its page and nearest heading; long sentences cut
at words; every character of the text inside some chunk."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.chunking import TextLayout, chunk_spans


def sentences(count: int, words: int = 12) -> str:
    return " ".join(
        f"Sentence {n} " + " ".join(f"w{n}x{k}" for k in range(words)) + "." for n in range(count)
    )


def test_chunks_stay_within_the_size_and_end_on_sentence_ends() -> None:
    text = sentences(60)
    spans = chunk_spans(TextLayout(text), 1000, 100)
    assert len(spans) > 3
    assert all(span.end - span.start <= 1000 for span in spans)
    assert all(text[span.end - 1] == "." for span in spans)
    assert all(text[span.start : span.start + 8] == "Sentence" for span in spans)


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    text = sentences(60)
    spans = chunk_spans(TextLayout(text), 1000, 100)
    for before, after in itertools.pairwise(spans):
        assert after.start < before.end  # an overlap
        assert before.end - after.start <= 200  # of about the overlap (a short sentence)
        assert after.end > before.end  # and new text


def test_no_overlap_when_it_is_zero() -> None:
    text = sentences(60)
    spans = chunk_spans(TextLayout(text), 1000, 0)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_pages_are_chunked_apart_and_keep_their_numbers() -> None:
    one, two = sentences(3), sentences(2)
    text = one + "\n\n" + two
    layout = TextLayout(text, pages=[(1, 0, len(one)), (2, len(one) + 2, len(text))])
    spans = chunk_spans(layout, 1000, 100)
    assert [(s.page, text[s.start : s.end]) for s in spans] == [(1, one), (2, two)]


def test_each_chunk_carries_the_nearest_heading_before_it() -> None:
    text = "Intro text here.\n\nTerms\n\nPayment is due in thirty days. " + sentences(20)
    layout = TextLayout(text, headings=[(18, "Terms")])
    spans = chunk_spans(layout, 300, 0)
    assert spans[0].heading is None
    assert {s.heading for s in spans[1:]} == {"Terms"}


def test_a_sentence_longer_than_the_size_is_cut_at_words() -> None:
    text = " ".join(f"word{n}" for n in range(500))  # no sentence end at all
    spans = chunk_spans(TextLayout(text), 200, 20)
    assert all(s.end - s.start <= 200 for s in spans)
    assert all(text[s.start - 1] == " " for s in spans[1:])
    assert " ".join(text[s.start : s.end] for s in spans) == text


def test_blank_text_has_no_chunks() -> None:
    assert chunk_spans(TextLayout("  \n\n "), 1000, 100) == []
    with pytest.raises(ValueError, match="overlap"):
        chunk_spans(TextLayout("x"), 100, 100)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab .!?\n"), max_size=3000),
    st.integers(min_value=50, max_value=400),
    st.integers(min_value=0, max_value=25),
)
def test_every_word_lies_in_a_chunk_and_every_chunk_fits(
    text: str, size: int, overlap: int
) -> None:
    spans = chunk_spans(TextLayout(text), size, overlap)
    covered = set()
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert span.end - span.start <= size
        assert not text[span.start].isspace() and not text[span.end - 1].isspace()
        covered.update(range(span.start, span.end))
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())
    assert [s.start for s in spans] == sorted(s.start for s in spans)
