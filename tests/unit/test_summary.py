"""Extractive summary: selection, order, budgets, spans, odd inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processing.extraction.analysis import summary as summary_module
from processing.extraction.analysis.sentences import clean_sentence
from processing.extraction.analysis.summary import (
    CHARS_PER_SENTENCE,
    MAX_CANDIDATES,
    MAX_SENTENCE_CHARS,
    summarize,
)
from processing.extraction.result import Summary

SOLAR = [
    "Solar panels convert sunlight into electricity for homes and businesses.",
    "The efficiency of solar panels has improved steadily over the last decade.",
    "Installing solar panels on a roof lowers the electricity bill of a household.",
    "Batteries store the electricity that solar panels produce during the day.",
    "Governments offer subsidies that make solar panels cheaper to install.",
    "My grandmother bakes excellent apple pie with cinnamon every Sunday.",
    "Cheap solar panels and batteries let villages without a grid get electricity.",
    "Solar panels need little maintenance apart from cleaning the glass surface.",
]


def solar_text() -> str:
    return " ".join(SOLAR)


def assert_spans_match(text: str, result: Summary) -> None:
    for sentence in result.sentences:
        assert 0 <= sentence.start < sentence.end <= len(text)
        assert sentence.text == clean_sentence(text[sentence.start : sentence.end], ())
    assert result.text == " ".join(sentence.text for sentence in result.sentences)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\f\n"])
def test_empty_or_blank_text_gives_an_empty_summary(text: str) -> None:
    assert summarize(text) == Summary(text="", sentences=())


def test_zero_sentences_requested_gives_an_empty_summary() -> None:
    assert summarize(solar_text(), max_sentences=0) == Summary(text="", sentences=())


def test_single_sentence_is_its_own_summary() -> None:
    text = "  The quarterly report shows steady growth in every region.  "
    result = summarize(text)
    assert [s.text for s in result.sentences] == [text.strip()]
    assert result.text == text.strip()
    assert_spans_match(text, result)


def test_text_of_stopwords_only_still_gets_a_summary() -> None:
    text = "It is what it is. It is what it is. So be it."
    result = summarize(text)
    assert [s.text for s in result.sentences] == ["It is what it is.", "So be it."]
    assert_spans_match(text, result)


def test_text_without_punctuation_still_gets_a_summary() -> None:
    text = "quarterly report steady growth every region\nnew offices opened in three cities"
    result = summarize(text)
    assert result.sentences
    assert_spans_match(text, result)


def test_overlong_unpunctuated_text_is_shortened_on_a_word_boundary() -> None:
    text = " ".join(f"word{i % 50} topic{i % 7}" for i in range(2_000))
    result = summarize(text)
    [sentence] = result.sentences
    assert sentence.start == 0
    assert sentence.end - sentence.start <= MAX_SENTENCE_CHARS
    assert text[sentence.end] == " "
    assert_spans_match(text, result)


def test_max_sentences_is_respected() -> None:
    text = solar_text()
    for wanted in (1, 2, 3, 5):
        assert len(summarize(text, max_sentences=wanted).sentences) == wanted
    assert len(summarize(text, max_sentences=50).sentences) < len(SOLAR)


def test_chosen_sentences_keep_document_order() -> None:
    text = solar_text()
    starts = [s.start for s in summarize(text, max_sentences=4).sentences]
    assert starts == sorted(starts)
    assert len(starts) == 4


def test_off_topic_sentence_is_not_chosen() -> None:
    result = summarize(solar_text(), max_sentences=3)
    assert all("apple pie" not in s.text for s in result.sentences)
    assert all("solar" in s.text.lower() for s in result.sentences)


def test_summary_is_deterministic() -> None:
    text = solar_text() * 3 + "\n\n" + solar_text()[::-1]
    assert summarize(text) == summarize(text)


def test_summary_does_not_depend_on_hash_seed() -> None:
    """Set iteration order changes with PYTHONHASHSEED; the summary must not."""
    script = (
        "import json, sys\n"
        "from processing.extraction.analysis.summary import summarize\n"
        "s = summarize(sys.stdin.read(), max_sentences=3)\n"
        "print(json.dumps([[x.start, x.end] for x in s.sentences]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=solar_text(),
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) == 3


def test_near_duplicate_sentences_are_not_both_chosen() -> None:
    duplicate = "Solar panels convert sunlight into electricity for many homes and businesses."
    text = solar_text() + " " + duplicate
    result = summarize(text, max_sentences=5)
    chosen = {s.text for s in result.sentences}
    assert not {SOLAR[0], duplicate} <= chosen
    assert len(result.sentences) == 5


def test_exact_repeats_are_chosen_once() -> None:
    text = " ".join([SOLAR[0]] * 6 + SOLAR[1:])
    texts = [s.text for s in summarize(text, max_sentences=5).sentences]
    assert len(texts) == len(set(texts))


def test_spans_point_into_the_original_text() -> None:
    text = "  Title of the report\n\n" + textwrap.fill(solar_text(), width=58) + "\n"
    result = summarize(text, max_sentences=3)
    assert len(result.sentences) == 3
    assert_spans_match(text, result)
    for sentence in result.sentences:
        assert "\n" not in sentence.text
        assert " ".join(text[sentence.start : sentence.end].split()) == sentence.text


def test_hyphenated_line_ends_are_joined_in_the_summary() -> None:
    text = (
        "The efficiency of the new photovoltaic docu-\n"
        "ment processing pipeline improved a lot this year.\n\n" + solar_text()
    )
    joined = [s.text for s in summarize(text, max_sentences=8).sentences if "pipeline" in s.text]
    assert joined == [
        "The efficiency of the new photovoltaic document processing pipeline improved a lot "
        "this year."
    ]


def test_headings_tables_urls_and_shouting_are_not_chosen() -> None:
    junk = [
        "SOLAR PANELS AND ELECTRICITY FOR HOMES AND BUSINESSES EVERYWHERE.",
        "Solar panels | 2019 | 2020 | 2021 | 12.5 | 13.1 | 14.2 | 15.0 | 16.3.",
        "Solar panels and electricity (https://example.com/solar/panels/electricity).",
        "Solar panels electricity homes",
        "2019 2020 2021 2022 solar 1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5.",
        "Solar   12   panels   13   electricity   14   homes   15.",
    ]
    text = "\n\n".join(junk + SOLAR)
    chosen = {s.text for s in summarize(text, max_sentences=5).sentences}
    assert chosen
    assert not chosen & set(junk)


def test_character_budget_limits_long_sentences() -> None:
    long_sentences = [
        f"Solar panels number {word} " + "convert sunlight into electricity " * 12 + "today."
        for word in ("one", "two", "three", "four", "five", "six")
    ]
    assert all(300 < len(s) < MAX_SENTENCE_CHARS for s in long_sentences)
    result = summarize(" ".join(long_sentences), max_sentences=3)
    total = sum(s.end - s.start for s in result.sentences)
    assert result.sentences
    assert total <= CHARS_PER_SENTENCE * 3


def test_only_a_bounded_number_of_candidates_reach_selection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pairwise (MMR) step sees at most MAX_CANDIDATES sentences, however long the text."""
    seen: list[int] = []
    original = summary_module._select

    def spy(text: str, best: list[object], *args: object, **kwargs: object) -> object:
        seen.append(len(best))
        return original(text, best, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(summary_module, "_select", spy)
    syllables = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi")
    words = [a + b + c for a in syllables for b in syllables for c in syllables[:2]]
    text = " ".join(
        f"Report {i} says {words[(i * 7) % 97]} and {words[(i * 13) % 101]} output near "
        f"{words[(i * 29) % 103]} grew while {words[(i * 3) % 107]} fell."
        for i in range(MAX_CANDIDATES * 10)
    )
    result = summarize(text)
    assert seen == [MAX_CANDIDATES]
    assert len(result.sentences) == 5


def test_korean_text_gets_a_summary() -> None:
    text = (
        "모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. "
        "인간은 천부적으로 이성과 양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다. "
        "모든 사람은 인종, 피부색, 성, 언어, 종교에 따른 어떠한 종류의 차별도 받지 않는다. "
        "모든 사람은 생명과 신체의 자유와 안전에 대한 권리를 가진다."
    )
    result = summarize(text, max_sentences=2)
    assert len(result.sentences) == 2
    assert_spans_match(text, result)


def test_hebrew_text_gets_a_summary() -> None:
    text = (
        "כל בני אדם נולדו בני חורין ושווים בערכם ובזכויותיהם. "
        "כולם חוננו בתבונה ובמצפון, לפיכך חובה עליהם לנהוג איש ברעהו ברוח של אחוה. "
        "כל אדם זכאי לחיים, לחירות ולבטחון אישי ללא הבדל גזע או דת."
    )
    result = summarize(text, max_sentences=2)
    assert len(result.sentences) == 2
    assert_spans_match(text, result)


def test_chinese_text_without_spaces_gets_a_summary() -> None:
    text = (
        "人人生而自由，在尊严和权利上一律平等。"
        "他们赋有理性和良心，并应以兄弟关系的精神相对待。"
        "人人有资格享有本宣言所载的一切权利和自由，不分种族、肤色、性别、语言、宗教。"
    )
    result = summarize(text, max_sentences=2)
    assert len(result.sentences) == 2
    assert_spans_match(text, result)


_PIECES = st.sampled_from(
    [
        "Solar panels work. ",
        "The grid needs storage and solar panels in every region today. ",
        "TABLE 1 ",
        "12.5 | 13 ",
        "\n",
        "\n\n",
        "docu-\nment ",
        "안녕하세요 세계 ",
        "שלום עולם. ",
        "人人生而自由。",
        "Mr. Smith ",
        "https://example.com ",
        "It is. ",
        "   ",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join), st.integers(min_value=1, max_value=6))
def test_any_text_gives_a_well_formed_summary(text: str, wanted: int) -> None:
    result = summarize(text, max_sentences=wanted)
    assert len(result.sentences) <= wanted
    starts = [s.start for s in result.sentences]
    assert starts == sorted(set(starts))
    assert_spans_match(text, result)
    if any(char.isalnum() for char in text):
        assert result.sentences


@pytest.mark.corpus
def test_corpus_texts_summarise_with_valid_spans(corpus_dir: Path) -> None:
    for path in sorted((corpus_dir / "txt").glob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        result = summarize(text[:400_000])
        assert_spans_match(text, result)
        assert len(result.sentences) <= 5
