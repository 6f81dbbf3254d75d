"""Keyword extraction: top-N, score direction, determinism, duplicates, bounded input."""

from __future__ import annotations

from pathlib import Path

import pytest

from processing.extraction.analysis import keywords as keywords_module
from processing.extraction.analysis.keywords import SAMPLE_CHARS, extract_keywords

SOLAR = (
    "Solar panels convert sunlight into electricity. Solar Panels are cheap today. "
    "The efficiency of solar panels has improved. A solar panel lasts for decades. "
    "Battery storage keeps the electricity that solar panels produce. Battery storage "
    "systems are getting cheaper, and battery storage helps the electricity grid. "
    "Governments subsidise solar panels and battery storage. Wind turbines also feed the "
    "electricity grid, and the grid operator balances wind turbines against solar panels."
)


def normalized_words(phrase: str) -> frozenset[str]:
    return frozenset(keywords_module._normalize(word) for word in phrase.split())


@pytest.mark.parametrize("text", ["", "   ", "\n\t\f\n", "12 34 -- ... !!"])
def test_text_without_words_has_no_keywords(text: str) -> None:
    assert extract_keywords(text) == ()


def test_zero_requested_gives_no_keywords() -> None:
    assert extract_keywords(SOLAR, top=0) == ()


def test_returns_at_most_top_keywords() -> None:
    assert len(extract_keywords(SOLAR, top=3)) == 3
    assert 3 < len(extract_keywords(SOLAR)) <= 10


def test_scores_are_higher_for_better_keywords_and_sorted() -> None:
    keywords = extract_keywords(SOLAR)
    scores = [keyword.score for keyword in keywords]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == 1.0
    assert all(0.0 < score <= 1.0 for score in scores)
    assert scores[-1] < scores[0]


def test_keywords_name_the_topic() -> None:
    top = [keyword.text.lower() for keyword in extract_keywords(SOLAR, top=3)]
    assert any("solar" in phrase for phrase in top)
    assert any("battery storage" in phrase for phrase in extract_keywords_texts(SOLAR))


def extract_keywords_texts(text: str) -> list[str]:
    return [keyword.text.lower() for keyword in extract_keywords(text)]


def test_keywords_are_deterministic() -> None:
    assert extract_keywords(SOLAR) == extract_keywords(SOLAR)


def test_case_and_plural_variants_appear_once() -> None:
    texts = extract_keywords_texts(SOLAR)
    keys = [normalized_words(text) for text in texts]
    assert len(keys) == len(set(keys))
    assert sum(1 for text in texts if text in {"solar panel", "solar panels"}) <= 1


def test_no_keyword_is_contained_in_another_or_shares_two_words() -> None:
    keys = [normalized_words(text) for text in extract_keywords_texts(SOLAR)]
    for index, key in enumerate(keys):
        for other in keys[index + 1 :]:
            assert not key <= other
            assert not other <= key
            assert len(key & other) < 2


def test_possessives_do_not_glue_phrases() -> None:
    text = (
        "Anna Pavlovna's hand was cold. Anna Pavlovna's reception was grand. "
        "Everyone admired Anna Pavlovna's guests. Anna Pavlovna smiled at the prince."
    )
    texts = extract_keywords_texts(text)
    assert "anna pavlovna" in texts
    assert not any(text.startswith("anna pavlovna ") for text in texts)


def test_distinct_keeps_best_variant_and_rescales() -> None:
    ranked = [
        ("Solar panels", 0.01),
        ("solar panel", 0.02),
        ("Prince Andrew", 0.04),
        ("Prince", 0.05),
        ("thought Prince Andrew", 0.06),
        ("United States Trustee", 0.07),
        ("States Trustee include", 0.075),
        ("grid", 0.08),
    ]
    result = keywords_module._distinct(ranked, top=10)
    assert [(k.text, k.score) for k in result] == [
        ("Solar panels", 1.0),
        ("Prince Andrew", 0.25),
        ("United States Trustee", 0.142857),
        ("grid", 0.125),
    ]


def test_korean_and_hebrew_text_do_not_crash() -> None:
    korean = (
        "모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. "
        "인간은 천부적으로 이성과 양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다."
    )
    hebrew = (
        "כל בני אדם נולדו בני חורין ושווים בערכם ובזכויותיהם. "
        "כולם חוננו בתבונה ובמצפון, לפיכך חובה עליהם לנהוג איש ברעהו ברוח של אחוה."
    )
    for text in (korean, hebrew):
        keywords = extract_keywords(text)
        assert keywords
        assert all(keyword.text.split()[0] in text for keyword in keywords)


def test_language_is_chosen_from_stopwords() -> None:
    german = (
        "Die Solaranlage auf dem Dach des Hauses erzeugt mehr Strom, als die Familie "
        "im Sommer braucht. Der Überschuss wird in das Netz eingespeist und vergütet."
    )
    assert keywords_module._language(german) == "de"
    assert keywords_module._language(SOLAR) == "en"
    assert keywords_module._language("모든 인간은 태어날 때부터 자유로우며") == "en"


def test_stopword_lists_load_silently(capsys: pytest.CaptureFixture[str]) -> None:
    """YAKE prints a warning for lists that are not UTF-8; ours are read without it."""
    assert keywords_module._stopwords("sk")
    assert keywords_module._stopwords("lt")
    assert keywords_module._stopwords("zz") == frozenset()
    assert capsys.readouterr().out == ""


def test_yake_reads_a_bounded_sample_of_long_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """However long the text, YAKE's scoring sees at most about SAMPLE_CHARS characters."""
    seen: list[list[str]] = []
    original = keywords_module._score_phrases

    def spy(sentences: list[str], stopwords: frozenset[str], *, top: int) -> object:
        seen.append(sentences)
        return original(sentences, stopwords, top=top)

    monkeypatch.setattr(keywords_module, "_score_phrases", spy)
    paragraph = SOLAR + "\n\n"
    text = paragraph * (40 * SAMPLE_CHARS // len(paragraph))
    keywords = extract_keywords(text)
    [sentences] = seen
    sample = "\n".join(sentences)
    assert len(text) > 30 * SAMPLE_CHARS
    assert len(sample) <= SAMPLE_CHARS
    assert keywords


def test_scoring_matches_the_yake_package_on_prose() -> None:
    """The reimplemented scoring ranks the same phrases, with the same scores, as
    yake.KeywordExtractor on the same sentences and stopwords."""
    yake = pytest.importorskip("yake")
    sentences = keywords_module._sample(SOLAR).split("\n")
    stopwords = keywords_module._stopwords("en")
    ours = keywords_module._score_phrases(sentences, stopwords, top=20)
    extractor = yake.KeywordExtractor(lan="en", n=3, top=20, stopwords=set(stopwords))
    theirs = extractor.extract_keywords("\n".join(sentences))
    assert [text for text, _ in ours] == [text for text, _ in theirs]
    assert [round(score, 9) for _, score in ours] == [round(score, 9) for _, score in theirs]


def test_sample_covers_the_whole_text_evenly() -> None:
    paragraphs = [f"Paragraph {i} talks about topic{i} in some detail." for i in range(5_000)]
    text = "\n\n".join(paragraphs)
    sample = keywords_module._sample(text)
    assert "topic0 " in sample
    assert "topic4999" not in sample or sample.rstrip().endswith(".")
    mentioned = [i for i in range(5_000) if f"topic{i} " in sample]
    assert mentioned[-1] > 4_500
    assert mentioned[len(mentioned) // 2] in range(1_500, 3_500)


def test_short_text_is_read_whole_one_sentence_a_line() -> None:
    prose = "The solar panels on the roof of the town hall work well in every season."
    text = f"Results\n{prose}\nYears Team Apps\n1986 Watford 63"
    assert keywords_module._sample(text) == (
        f"Results.\n{prose}\nYears Team Apps.\n1986 Watford 63."
    )


@pytest.mark.corpus
def test_corpus_texts_give_keywords(corpus_dir: Path) -> None:
    text = (corpus_dir / "txt" / "norwich-city.txt").read_text(encoding="utf-8")
    keywords = extract_keywords(text)
    assert len(keywords) == 10
    assert any("roberts" in keyword.text.lower() for keyword in keywords)
