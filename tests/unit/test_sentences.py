"""Sentence segmentation: abbreviations, numbers, quotes, soft wraps, spans."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processing.extraction.analysis.sentences import (
    clean_sentence,
    has_final_punctuation,
    split_sentences,
)


def sentences_of(text: str) -> list[str]:
    return [clean_sentence(text[start:end]) for start, end in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones and Mrs. Brown in St. Petersburg. They talked.",
            ["Mr. Smith met Dr. Jones and Mrs. Brown in St. Petersburg.", "They talked."],
        ),
        (
            "Use a fruit, e.g. Apples, or a nut, i.e. A walnut. Then stop.",
            ["Use a fruit, e.g. Apples, or a nut, i.e. A walnut.", "Then stop."],
        ),
        (
            "He moved to the U.S. in 1990. The U.S. Senate met. Later he left.",
            ["He moved to the U.S. in 1990.", "The U.S. Senate met.", "Later he left."],
        ),
        (
            "Bring pens, paper, etc. to the exam. We sell pens, paper, etc. The shop is open.",
            [
                "Bring pens, paper, etc. to the exam.",
                "We sell pens, paper, etc.",
                "The shop is open.",
            ],
        ),
        (
            "See Fig. 3 and No. 12 for details. The answer was no. Then we left.",
            ["See Fig. 3 and No. 12 for details.", "The answer was no.", "Then we left."],
        ),
        (
            "Smith et al. (2020) showed this. Apple Inc. Was not involved.",
            ["Smith et al. (2020) showed this.", "Apple Inc.", "Was not involved."],
        ),
    ],
)
def test_abbreviations_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


def test_initials_do_not_end_sentences() -> None:
    text = "The Hobbit was written by J. R. R. Tolkien in England. It sold well."
    assert sentences_of(text) == [
        "The Hobbit was written by J. R. R. Tolkien in England.",
        "It sold well.",
    ]


def test_the_pronoun_i_ends_a_sentence() -> None:
    assert sentences_of("And so did I. The next day was sunny.") == [
        "And so did I.",
        "The next day was sunny.",
    ]


def test_decimal_numbers_and_versions_do_not_split() -> None:
    text = "Pi is about 3.14 and e is 2.718 roughly. Version 2.0.1 shipped in 2021."
    assert sentences_of(text) == [
        "Pi is about 3.14 and e is 2.718 roughly.",
        "Version 2.0.1 shipped in 2021.",
    ]


def test_ellipsis_splits_only_before_a_capital() -> None:
    text = "Wait... what happened? I don't know... Maybe nothing."
    assert sentences_of(text) == ["Wait... what happened?", "I don't know...", "Maybe nothing."]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    text = 'He said "Stop." Then he left. (It was late.) Everyone slept.'
    assert sentences_of(text) == [
        'He said "Stop."',
        "Then he left.",
        "(It was late.)",
        "Everyone slept.",
    ]


def test_exclamation_before_lower_case_continues_the_sentence() -> None:
    text = '"Heavens! what a virulent attack!" replied the prince. He sat down.'
    assert sentences_of(text) == [
        '"Heavens! what a virulent attack!" replied the prince.',
        "He sat down.",
    ]


def test_citation_markers_stay_with_their_sentence() -> None:
    text = "He grew up in Barmouth as a Liverpool fan.[2] Roberts says so.[3][4] Fine."
    assert sentences_of(text) == [
        "He grew up in Barmouth as a Liverpool fan.[2]",
        "Roberts says so.[3][4]",
        "Fine.",
    ]


def test_soft_wrapped_lines_join_into_sentences() -> None:
    prose = (
        "Extraction from PDF files produces text that is wrapped at the width of the "
        "page column, so a sentence often continues on the next line. A careful "
        "segmenter treats such a line break as a space. It must not end the sentence "
        "there, or summaries would quote half sentences."
    )
    wrapped = textwrap.fill(prose, width=60)
    assert wrapped.count("\n") >= 4
    assert sentences_of(wrapped) == [
        "Extraction from PDF files produces text that is wrapped at the width of the "
        "page column, so a sentence often continues on the next line.",
        "A careful segmenter treats such a line break as a space.",
        "It must not end the sentence there, or summaries would quote half sentences.",
    ]


def test_hyphenated_line_ends_are_joined() -> None:
    text = (
        "This long paragraph of extracted text is about a docu-\n"
        "ment that was hyphenated by the typesetter at the end of a\n"
        "line, which the summary must undo before quoting it back."
    )
    [sentence] = sentences_of(text)
    assert "a document that was hyphenated" in sentence
    assert "\n" not in sentence


def test_hyphenation_keeps_compounds_known_to_the_document() -> None:
    raw = "a well-\nknown fact"
    assert clean_sentence(raw, {"well-known"}) == "a well-known fact"
    assert clean_sentence(raw) == "a wellknown fact"
    assert clean_sentence("the Anglo-\nSaxon kings") == "the Anglo-Saxon kings"


def test_blank_line_ends_a_sentence_without_punctuation() -> None:
    text = "A first paragraph without a final period\n\nA second paragraph follows here."
    assert sentences_of(text) == [
        "A first paragraph without a final period",
        "A second paragraph follows here.",
    ]


def test_headings_end_before_the_next_line() -> None:
    body = "The report covers the financial year and everything that happened in it, in detail."
    text = f"INTRODUCTION\n{body}\n2.1 Related Work\n{body}\nResults\n{body}"
    assert sentences_of(text) == [
        "INTRODUCTION",
        body,
        "2.1 Related Work",
        body,
        "Results",
        body,
    ]


def test_text_set_in_capitals_wraps_like_other_text() -> None:
    text = (
        "THE SOFTWARE IS PROVIDED AS IS, WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\n"
        "IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY AND\n"
        "FITNESS FOR A PARTICULAR PURPOSE. IN NO EVENT SHALL THE AUTHORS BE LIABLE."
    )
    assert len(split_sentences(text)) == 2


def test_bullets_are_separate_and_wrapped_bullets_join() -> None:
    text = (
        "Important points follow in the list below, each on its own line of text:\n"
        "• first point\n"
        "• a second point that is long enough to be wrapped onto another line\n"
        "  and continues here\n"
        "- third point\n"
        "1. fourth point"
    )
    assert sentences_of(text) == [
        "Important points follow in the list below, each on its own line of text:",
        "• first point",
        "• a second point that is long enough to be wrapped onto another line and continues here",
        "- third point",
        "1. fourth point",
    ]


def test_short_lines_like_table_rows_are_separate() -> None:
    text = (
        "The season ended with a record number of goals scored by the club's forwards.\n"
        "Years Team Apps\n"
        "1986 Watford 63\n"
        "1990 Huddersfield 142"
    )
    assert sentences_of(text)[1:] == ["Years Team Apps", "1986 Watford 63", "1990 Huddersfield 142"]


def test_sentence_continues_across_a_form_feed_page_break() -> None:
    text = (
        "The committee considered the proposal at great length during the spring\n\f\n"
        "meeting and approved it unanimously. Work started soon after."
    )
    assert sentences_of(text) == [
        "The committee considered the proposal at great length during the spring meeting "
        "and approved it unanimously.",
        "Work started soon after.",
    ]


def test_non_latin_scripts_split_on_their_full_stops() -> None:
    assert sentences_of("안녕하세요. 저는 학생입니다. 한국어를 공부합니다.") == [
        "안녕하세요.",
        "저는 학생입니다.",
        "한국어를 공부합니다.",
    ]
    assert sentences_of("שלום עולם. זה משפט שני.") == ["שלום עולם.", "זה משפט שני."]
    assert sentences_of("他们赋有理性和良心。并应以弟兄关系的精神相对待。") == [
        "他们赋有理性和良心。",
        "并应以弟兄关系的精神相对待。",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It ends.", True),
        ('He said "stop!"', True),
        ("A fan.[2][3]", True),
        ("(See above.)", True),
        ("끝났습니다。", True),
        ("Results", False),
        ("Table [2]", False),
        ("Closing bracket]", False),
        ("", False),
        ('"', False),
    ],
)
def test_final_punctuation_is_found_behind_closers_and_citations(text: str, expected: bool) -> None:
    assert has_final_punctuation(text) is expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n", "\f"])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


def test_text_without_punctuation_is_one_sentence() -> None:
    text = "  just some words flowing on without any punctuation at all  "
    assert split_sentences(text) == [(2, len(text) - 2)]


def test_spans_map_to_the_original_text() -> None:
    text = '  Mr. Smith arrived.\n\nHe was   late!  "Why?" she asked.\n'
    spans = split_sentences(text)
    assert [text[start:end] for start, end in spans] == [
        "Mr. Smith arrived.",
        "He was   late!",
        '"Why?" she asked.',
    ]


_ALPHABET = st.sampled_from([*"ab AB.!?\n\n\f\t-\"')[]3,:;…。J", "Mr. ", "e.g. ", "U.S. "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_spans_are_ordered_trimmed_and_cover_all_text(text: str) -> None:
    """Every non-space character falls in exactly one span; spans never start or end in space."""
    spans = split_sentences(text)
    covered = 0
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        covered += sum(1 for char in text[start:end] if not char.isspace())
        previous_end = end
    assert covered == sum(1 for char in text if not char.isspace())
