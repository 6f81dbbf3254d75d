"""The pipeline's public function: one versioned result, or a coded DocumentError."""

from __future__ import annotations

import codecs
import json
import random
from pathlib import Path

import jsonschema
import pytest

from processing.extraction.errors import DOCUMENT_ERROR_CODES, DocumentError
from processing.extraction.limits import Limits
from processing.extraction.pipeline import run_pipeline
from tests.builders.docx_files import core_properties, docx_package, paragraph
from tests.builders.pdfs import build_reportlab_pdf

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "processing/extraction/schema/result.schema.json").read_text())

PARAGRAPHS = [
    "The board met on 14 March 2026 to review the annual budget of $2,400,000.",
    "Revenue grew by 12.5% while operating costs fell for the third year running.",
    "Questions about the budget should go to finance@example.org before April.",
    "The committee will publish its final recommendations in the autumn report.",
]


def test_pdf_result_matches_the_schema_with_pages_and_entities() -> None:
    pdf = build_reportlab_pdf([PARAGRAPHS[:2], PARAGRAPHS[2:]], title="Budget", author="Ann")
    result = run_pipeline(pdf, "budget.pdf")
    document = result.to_dict()
    jsonschema.validate(document, SCHEMA)
    assert document["document"]["content_type"] == "application/pdf"
    assert document["metadata"]["title"] == "Budget"
    assert document["metadata"]["page_count"] == 2
    assert [p["number"] for p in document["pages"]] == [1, 2]
    for page in result.pages:
        assert result.text[page.start : page.end].strip()
    types = {e.type for e in result.entities}
    assert {"date", "money", "percent", "email"} <= types
    for entity in result.entities:
        assert result.text[entity.start : entity.end] == entity.text
    assert result.summary.sentences
    assert result.keywords
    assert set(result.timings_ms) >= {"detect", "extract", "entities", "keywords", "summary"}


def test_docx_result_has_headings_and_metadata() -> None:
    docx = docx_package(
        paragraph("Annual review", style="Heading1")
        + paragraph(PARAGRAPHS[0])
        + paragraph(PARAGRAPHS[1]),
        core=core_properties(title="Review"),
    )
    result = run_pipeline(docx, "review.docx")
    jsonschema.validate(result.to_dict(), SCHEMA)
    assert result.metadata.title == "Review"
    [heading] = result.headings
    assert (heading.level, heading.text) == (1, "Annual review")
    assert result.text[heading.start :].startswith("Annual review")


def test_text_result_reports_encoding_and_word_count() -> None:
    data = codecs.BOM_UTF16_LE + " ".join(PARAGRAPHS).encode("utf-16-le")
    result = run_pipeline(data, "notes.txt")
    jsonschema.validate(result.to_dict(), SCHEMA)
    assert result.metadata.encoding == "utf-16-le"
    assert result.metadata.word_count == len(" ".join(PARAGRAPHS).split())


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"   \n\t  \n", "empty"),
        (b"MZ\x90\x00" + bytes(range(256)) * 8, "unsupported_type"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, "corrupt"),
    ],
)
def test_bad_documents_fail_with_their_code(data: bytes, code: str) -> None:
    with pytest.raises(DocumentError) as info:
        run_pipeline(data, "x")
    assert info.value.code == code


def test_too_large_is_refused_before_parsing() -> None:
    with pytest.raises(DocumentError) as info:
        run_pipeline(b"x" * 2000, "x.txt", limits=Limits(max_document_bytes=1000))
    assert info.value.code == "too_large"


def test_analysis_is_bounded_with_a_warning() -> None:
    text = (" ".join(PARAGRAPHS) + "\n") * 50
    result = run_pipeline(text.encode(), "long.txt", limits=Limits(max_analysis_chars=500))
    assert "analysis_truncated" in {w.code for w in result.warnings}
    assert all(e.end <= 500 for e in result.entities)


def test_entity_count_is_capped_with_a_warning() -> None:
    text = " ".join(f"user{i}@example.org" for i in range(50))
    result = run_pipeline(text.encode(), "emails.txt", limits=Limits(max_entities=10))
    assert len(result.entities) == 10
    assert "entities_truncated" in {w.code for w in result.warnings}


def test_random_bytes_never_raise_anything_but_document_errors() -> None:
    rng = random.Random(11)
    prefixes = [b"", b"%PDF-1.4\n", b"PK\x03\x04", codecs.BOM_UTF8]
    for _ in range(60):
        data = rng.choice(prefixes) + rng.randbytes(rng.randint(1, 2048))
        try:
            run_pipeline(data, "fuzz")
        except DocumentError as exc:
            assert exc.code in DOCUMENT_ERROR_CODES
