"""Offline providers in the pipeline: language detection (py3langid) and the optional
spaCy named entities, tested with a blank pipeline and an entity ruler."""

from __future__ import annotations

from pathlib import Path

import pytest

from processing.extraction.analysis.language import detect_language
from processing.extraction.options import AnalysisOptions
from processing.extraction.pipeline import run_pipeline

GERMAN = (
    "Der Vorstand hat in seiner Sitzung am Montag beschlossen, die Niederlassung in "
    "München zu erweitern. Die Mitarbeiter wurden darüber informiert und sollen bis "
    "Ende des Monats ihre Vorschläge einreichen."
)
FRENCH = (
    "Le conseil d'administration s'est réuni à Paris pour examiner les comptes de "
    "l'exercice. Les membres ont approuvé le budget à l'unanimité et remercié les "
    "commissaires aux comptes pour leur travail."
)
ENGLISH = (
    "The board met in London to review the annual accounts. The members approved the "
    "budget unanimously and thanked the auditors for their careful work this year."
)


@pytest.mark.parametrize(("text", "code"), [(GERMAN, "de"), (FRENCH, "fr"), (ENGLISH, "en")])
def test_pipeline_detects_the_language_offline(text: str, code: str) -> None:
    """German, French and English documents get metadata.language as ISO 639-1 with a
    confidence, without any network."""
    metadata = run_pipeline(text.encode(), "doc.txt").metadata
    assert metadata.language == code
    assert metadata.language_confidence is not None and metadata.language_confidence > 0.9


def test_text_without_letters_has_no_language() -> None:
    assert detect_language("12 34 56 -- 78.9") is None
    assert run_pipeline(b"12 34 56 -- 78.9\n", "n.txt").metadata.language is None


def test_a_long_document_is_sampled_at_start_middle_and_end() -> None:
    """The detector reads a bounded sample, so a long text costs no more than a short one
    and gives the majority language."""
    text = ENGLISH + " " + (GERMAN + " ") * 400
    detected = detect_language(text)
    assert detected is not None and detected[0] == "de"


@pytest.fixture(scope="module")
def ruler_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blank English spaCy pipeline with an entity ruler, saved where SPACY_MODEL can
    name it (spacy.load takes a path as well as a package)."""
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PERSON", "pattern": "Margarethe Vossberg"},
            {"label": "ORG", "pattern": "Hollerith Freight"},
            {"label": "GPE", "pattern": "Rotterdam"},
            {"label": "LOC", "pattern": "North Sea"},
            {"label": "DATE", "pattern": "Monday"},
        ]
    )
    path = tmp_path_factory.mktemp("spacy") / "ruler"
    nlp.to_disk(path)
    return path


def test_spacy_entities_join_the_result_with_mapped_types_and_offsets(ruler_pipeline: Path) -> None:
    """SPACY_MODEL's labels are mapped (PERSON, ORG, GPE, LOC), numeric labels are left
    to the patterns, offsets index the text, and the pattern entities stay."""
    text = (
        "On Monday Margarethe Vossberg of Hollerith Freight flew from Rotterdam over the "
        "North Sea; write to board@hollerith.example."
    )
    result = run_pipeline(
        text.encode(), "s.txt", options=AnalysisOptions(spacy_model=str(ruler_pipeline))
    )
    spacy_entities = {(e.type, e.subtype, e.text) for e in result.entities if e.source == "spacy"}
    assert spacy_entities == {
        ("person", None, "Margarethe Vossberg"),
        ("organization", None, "Hollerith Freight"),
        ("location", "gpe", "Rotterdam"),
        ("location", None, "North Sea"),
    }
    assert ("email", "pattern") in {(e.type, e.source) for e in result.entities}
    for entity in result.entities:
        assert result.text[entity.start : entity.end] == entity.text
    assert "spacy" in result.timings_ms


def test_a_missing_spacy_pipeline_is_a_warning(tmp_path: Path) -> None:
    """A SPACY_MODEL that is not installed never fails the document."""
    result = run_pipeline(
        b"Margarethe Vossberg lives in Rotterdam.",
        "s.txt",
        options=AnalysisOptions(spacy_model=str(tmp_path / "no-such-pipeline")),
    )
    assert "spacy_unavailable" in {w.code for w in result.warnings}
