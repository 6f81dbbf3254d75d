"""DOCX extraction: reading order, structure, metadata, and refusal of hostile packages."""

from __future__ import annotations

import io
import random
import re
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from processing.extraction.errors import (
    CorruptDocumentError,
    DocumentError,
    EncryptedDocumentError,
    LimitsExceededError,
    ProcessingTimeoutError,
)
from processing.extraction.extractors.docx import TITLE_LEVEL, extract_docx
from processing.extraction.limits import MIB, Deadline, Limits
from processing.extraction.result import Extraction
from tests.builders.docx_files import (
    W_STRICT_NS,
    app_properties,
    billion_laughs_document,
    cell,
    comments_part,
    content_control,
    core_properties,
    document_part,
    docx_package,
    forge_declared_size,
    header_part,
    notes_part,
    paragraph,
    paragraph_style,
    run,
    section,
    set_encrypted_flag,
    styles_part,
    table,
    text_box,
    vml_text_box,
    zip_bytes,
)


def extract(data: bytes, limits: Limits | None = None) -> Extraction:
    return extract_docx(data, limits or Limits(), Deadline(30))


def body_text(body: str) -> str:
    return extract(docx_package(body)).text


def peak_allocation(action: Callable[[], object]) -> int:
    """Peak bytes allocated by Python while ``action`` runs (it may raise)."""
    tracemalloc.start()
    try:
        action()
    except DocumentError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


# --- reading order and structure ------------------------------------------------


def test_paragraphs_and_tables_keep_document_order() -> None:
    body = (
        paragraph("Before the table.")
        + table([["A1", "B1"], ["A2", "B2"]])
        + paragraph("After the table.")
    )
    assert body_text(body) == "Before the table.\nA1\tB1\nA2\tB2\nAfter the table."


def test_nested_table_text_is_present_inside_its_cell() -> None:
    nested = table([["inner one", "inner two"]])
    body = table([[cell("outer left"), cell("outer right", nested)]])
    assert body_text(body) == "outer left\touter right\ninner one\tinner two"


def test_cells_with_several_paragraphs_keep_them_on_separate_lines() -> None:
    body = table([[cell("first line", "second line"), "next cell"]])
    assert body_text(body) == "first line\nsecond line\tnext cell"


def test_vertically_merged_continuation_cells_are_not_repeated() -> None:
    merged_start = '<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>' + paragraph("Span")
    continued = "<w:tc><w:tcPr><w:vMerge/></w:tcPr>" + paragraph("hidden")
    body = table([[merged_start + "</w:tc>", "x"], [continued + "</w:tc>", "y"]])
    assert body_text(body) == "Span\tx\ny"


def test_block_and_inline_content_controls_are_read() -> None:
    body = (
        content_control(paragraph("Block control text."))
        + paragraph("Inline ", content_control(run("control"), tag="inline"), " text.")
        + content_control(table([["table in a control"]]))
    )
    assert body_text(body) == "Block control text.\nInline control text.\ntable in a control"


def test_rows_and_cells_wrapped_in_content_controls_are_read() -> None:
    row = "<w:tr>" + content_control(cell("wrapped cell")) + cell("plain cell") + "</w:tr>"
    body = "<w:tbl><w:tblPr/>" + content_control(row) + "</w:tbl>"
    assert body_text(body) == "wrapped cell\tplain cell"


def test_text_box_text_appears_once_despite_its_vml_fallback() -> None:
    body = paragraph("Anchor paragraph.", text_box("Boxed words")) + paragraph("Next.")
    text = body_text(body)
    assert text == "Anchor paragraph.\nBoxed words\nNext."
    assert text.count("Boxed words") == 1


def test_legacy_vml_text_box_is_read() -> None:
    assert body_text(paragraph("Shape:", vml_text_box("VML box text"))) == "Shape:\nVML box text"


def test_hyperlink_smart_tag_and_inserted_text_are_included() -> None:
    body = paragraph(
        "See ",
        f'<w:hyperlink r:id="rId9">{run("the link")}</w:hyperlink>',
        ", ",
        f'<w:smartTag w:element="place">{run("Paris")}</w:smartTag>',
        f'<w:ins w:id="1" w:author="a">{run(" and more")}</w:ins>',
        ".",
    )
    assert body_text(body) == "See the link, Paris and more."


def test_deleted_and_moved_away_text_is_excluded() -> None:
    body = paragraph(
        "Kept ",
        '<w:del w:id="1" w:author="a"><w:r><w:delText>removed words</w:delText></w:r></w:del>',
        '<w:moveFrom w:id="2" w:author="a"><w:r><w:t>moved away</w:t></w:r></w:moveFrom>',
        '<w:moveTo w:id="3" w:author="a"><w:r><w:t>moved here</w:t></w:r></w:moveTo>',
    )
    text = body_text(body)
    assert text == "Kept moved here"


def test_field_display_text_is_kept_and_field_codes_are_not() -> None:
    complex_field = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> PAGE \\* MERGEFORMAT </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + run("7")
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    simple_field = f'<w:fldSimple w:instr=" DATE ">{run("1 May 2024")}</w:fldSimple>'
    text = body_text(paragraph("Page ", complex_field, " on ", simple_field))
    assert text == "Page 7 on 1 May 2024"


def test_text_inside_a_field_instruction_is_not_shown() -> None:
    """A nested field's result inside an IF instruction is an argument, not display text."""

    def field_char(kind: str) -> str:
        return f'<w:r><w:fldChar w:fldCharType="{kind}"/></w:r>'

    def instruction(code: str) -> str:
        return f'<w:r><w:instrText xml:space="preserve">{code}</w:instrText></w:r>'

    if_field = (
        field_char("begin")
        + instruction(" IF ")
        + field_char("begin")
        + instruction(" MERGEFIELD Name ")
        + field_char("separate")
        + run("Alice")
        + field_char("end")
        + instruction(' = "Bob" "match" "no match" ')
        + field_char("separate")
        + run("no match")
        + field_char("end")
    )
    assert body_text(paragraph("Result: ", if_field, ".")) == "Result: no match."


def test_unterminated_field_hides_nothing_after_its_paragraph() -> None:
    broken = '<w:r><w:fldChar w:fldCharType="begin"/></w:r>' + run("lost in the code")
    assert body_text(paragraph("Start ", broken) + paragraph("Still here.")) == (
        "Start\nStill here."
    )


def test_tabs_and_breaks_become_whitespace() -> None:
    body = paragraph("left", "<w:r><w:tab/></w:r>", "right", "<w:r><w:br/></w:r>", "below")
    assert body_text(body) == "left\tright\nbelow"


def test_empty_paragraphs_leave_no_blank_lines() -> None:
    body = paragraph("one") + paragraph() + paragraph("   ") + paragraph("two")
    assert body_text(body) == "one\ntwo"


def test_strict_ooxml_namespace_is_read() -> None:
    document = document_part(paragraph("Strict text."), namespace=W_STRICT_NS)
    assert extract(docx_package(document=document)).text == "Strict text."


# --- headers, footers, notes, comments ------------------------------------------


def _relationships_for(parts: dict[str, str]) -> list[tuple[str, str, str]]:
    """Relationships rId10, rId11... to ``parts``, typed by their names."""
    return [
        (f"rId{index}", "header" if name.startswith("header") else "footer", name)
        for index, name in enumerate(parts, start=10)
    ]


def test_headers_and_footers_appear_once_each_across_sections() -> None:
    parts = {
        "header1.xml": header_part("Shared header"),
        "header2.xml": header_part("Second section header"),
        "footer1.xml": header_part("Shared footer", kind="ftr"),
    }
    rels = _relationships_for(parts)  # rId10 header1, rId11 header2, rId12 footer1
    first_section = paragraph(
        "Section one.", properties=section(("header", "rId10"), ("footer", "rId12"))
    )
    body = (
        first_section
        + paragraph("Section two.")
        + section(("header", "rId11"), ("header", "rId10"), ("footer", "rId12"))
    )
    text = extract(docx_package(body, parts=parts, relationships=rels)).text
    assert text == (
        "Section one.\nSection two.\n\nShared header\nSecond section header\n\nShared footer"
    )


def test_headers_with_identical_text_in_distinct_parts_are_kept_once() -> None:
    parts = {"header1.xml": header_part("Same words"), "header2.xml": header_part("Same words")}
    rels = _relationships_for(parts)
    body = paragraph("Body.") + section(("header", "rId10"), ("header", "rId11"))
    text = extract(docx_package(body, parts=parts, relationships=rels)).text
    assert text == "Body.\n\nSame words"


def test_footnotes_endnotes_and_comments_follow_the_body() -> None:
    parts = {
        "footnotes.xml": notes_part("footnote", {1: "A footnote."}),
        "endnotes.xml": notes_part("endnote", {1: "An endnote."}),
        "comments.xml": comments_part({0: "A comment."}),
    }
    rels = [
        ("rId1", "footnotes", "footnotes.xml"),
        ("rId2", "endnotes", "endnotes.xml"),
        ("rId3", "comments", "comments.xml"),
    ]
    body = paragraph("Body text.")
    text = extract(docx_package(body, parts=parts, relationships=rels)).text
    assert text == "Body text.\n\nA footnote.\n\nAn endnote.\n\nA comment."


# --- headings -------------------------------------------------------------------


def test_headings_carry_levels_and_exact_offsets() -> None:
    styles = styles_part(
        paragraph_style("Normal", "Normal", default=True),
        paragraph_style("Title", "Title"),
        paragraph_style("Heading1", "heading 1", outline_level=0),
        paragraph_style("Heading2", "heading 2", outline_level=1),
        # Localised id and name, recognised by its outline level.
        paragraph_style("berschrift3", "Kapitelkopf", outline_level=2),
        # A localised name alone, as some producers write them.
        paragraph_style("Titre2", "Titre 2"),
        # A custom style that is a heading through its base.
        paragraph_style("ChapterHead", "Chapter Head", based_on="Heading2"),
    )
    body = (
        paragraph("The Title", style="Title")
        + paragraph("Intro text.")
        + paragraph("  Chapter One", style="Heading1")
        + table([["cell"]])
        + paragraph("Part A", style="Heading2")
        + paragraph("Deep", style="berschrift3")
        + paragraph("Custom", style="ChapterHead")
        + paragraph("Localised", style="Titre2")
        + paragraph("Direct outline", properties='<w:outlineLvl w:val="3"/>')
        + paragraph("Body outline", style="Heading1", properties='<w:outlineLvl w:val="9"/>')
        + paragraph("Plain.")
    )
    extraction = extract(
        docx_package(
            body, parts={"styles.xml": styles}, relationships=[("rId1", "styles", "styles.xml")]
        )
    )
    found = [(heading.level, heading.text) for heading in extraction.headings]
    assert found == [
        (TITLE_LEVEL, "The Title"),
        (1, "Chapter One"),
        (2, "Part A"),
        (3, "Deep"),
        (2, "Custom"),
        (2, "Localised"),
        (4, "Direct outline"),
    ]
    for heading in extraction.headings:
        assert extraction.text[heading.start : heading.start + len(heading.text)] == heading.text


def test_heading_offsets_stay_exact_after_headers_are_appended() -> None:
    parts = {"header1.xml": header_part("Header"), "styles.xml": styles_part()}
    rels = [("rId1", "styles", "styles.xml"), ("rId10", "header", "header1.xml")]
    body = (
        paragraph("Lead.") + paragraph("Heading", style="Heading1") + section(("header", "rId10"))
    )
    extraction = extract(docx_package(body, parts=parts, relationships=rels))
    [heading] = extraction.headings
    assert (heading.level, heading.start) == (1, len("Lead.\n"))


def test_python_docx_headings_and_core_properties_are_read() -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Annual Report"
    document.core_properties.author = "Ada Lovelace"
    document.core_properties.subject = "Finance"
    document.core_properties.language = "en-GB"
    document.add_heading("Report", level=0)
    document.add_heading("Overview", level=1)
    document.add_paragraph("Revenue grew.")
    document.add_heading("Details", level=2)
    buffer = io.BytesIO()
    document.save(buffer)

    extraction = extract(buffer.getvalue())
    assert extraction.text == "Report\nOverview\nRevenue grew.\nDetails"
    assert [(h.level, h.text, h.start) for h in extraction.headings] == [
        (TITLE_LEVEL, "Report", 0),
        (1, "Overview", 7),
        (2, "Details", 30),
    ]
    metadata = extraction.metadata
    assert (metadata.title, metadata.author, metadata.subject, metadata.language) == (
        "Annual Report",
        "Ada Lovelace",
        "Finance",
        "en-GB",
    )


# --- metadata -------------------------------------------------------------------


def test_core_and_app_properties_become_metadata() -> None:
    data = docx_package(
        paragraph("Text."),
        core=core_properties(
            title="Quarterly Plan",
            creator="Grace Hopper",
            subject="Planning",
            created="2024-03-15T05:45:00Z",
            modified="2024-03-16T10:00:30Z",
            language="fr-FR",
        ),
        app=app_properties(pages=12),
    )
    metadata = extract(data).metadata
    assert metadata.title == "Quarterly Plan"
    assert metadata.author == "Grace Hopper"
    assert metadata.subject == "Planning"
    assert metadata.created == "2024-03-15T05:45:00+00:00"
    assert metadata.modified == "2024-03-16T10:00:30+00:00"
    assert metadata.language == "fr-FR"
    assert metadata.page_count == 12
    assert metadata.creator == "Microsoft Office Word"


def test_missing_properties_leave_metadata_empty() -> None:
    metadata = extract(docx_package(paragraph("Text."))).metadata
    assert (metadata.title, metadata.author, metadata.created, metadata.page_count) == (
        None,
        None,
        None,
        None,
    )


def test_unreadable_dates_and_zero_pages_become_none() -> None:
    data = docx_package(
        paragraph("Text."),
        core=core_properties(created="last tuesday"),
        app=app_properties(pages=0),
    )
    metadata = extract(data).metadata
    assert (metadata.created, metadata.page_count) == (None, None)


# --- hostile and broken packages --------------------------------------------------


def test_zip_declaring_huge_sizes_is_refused_before_inflating() -> None:
    data = forge_declared_size(docx_package(paragraph("tiny")), "word/document.xml", 200 * MIB)
    assert len(data) < 4096
    with pytest.raises(LimitsExceededError):
        extract(data)
    assert peak_allocation(lambda: extract(data)) < 2 * MIB


def test_highly_compressible_huge_part_is_refused_before_inflating() -> None:
    padding = b" " * (16 * MIB)
    data = docx_package(paragraph("small"), parts={"word/media/padding.bin": padding})
    del padding
    assert len(data) < 200 * 1024
    with pytest.raises(LimitsExceededError) as raised:
        extract(data)
    assert raised.value.code == "limits_exceeded"
    assert peak_allocation(lambda: extract(data)) < 2 * MIB


def test_one_bomb_part_is_refused_even_when_the_archive_ratio_is_modest() -> None:
    incompressible = random.Random(7).randbytes(2 * MIB)
    bomb = b" " * (16 * MIB)
    data = docx_package(
        paragraph("x"), parts={"word/media/photo.bin": incompressible, "word/media/b.bin": bomb}
    )
    assert (len(bomb) + len(incompressible)) / len(data) < 100
    with pytest.raises(LimitsExceededError, match="part"):
        extract(data)


def test_many_small_compressible_parts_are_refused_by_the_archive_ratio() -> None:
    chunk = b" " * (MIB - 1)
    parts = {f"word/media/part{index}.bin": chunk for index in range(24)}
    data = docx_package(paragraph("x"), parts=parts)
    with pytest.raises(LimitsExceededError, match="archive inflates"):
        extract(data)


def test_part_above_the_part_limit_is_refused() -> None:
    data = docx_package(paragraph("x" * 5000))
    with pytest.raises(LimitsExceededError):
        extract(data, Limits(max_zip_part_bytes=4096))


def test_archive_total_above_the_limit_is_refused() -> None:
    data = docx_package(paragraph("x" * 5000))
    with pytest.raises(LimitsExceededError):
        extract(data, Limits(max_zip_uncompressed_bytes=4096))


def test_part_inflating_past_its_declared_size_reads_only_the_declared_bytes() -> None:
    filler = "<w:p/>" * (1 * MIB)
    data = forge_declared_size(docx_package(filler), "word/document.xml", 1000)
    with pytest.raises(CorruptDocumentError):
        extract(data)
    assert peak_allocation(lambda: extract(data)) < 2 * MIB


def test_too_many_entries_is_refused() -> None:
    entries = {f"word/media/image{index}.png": b"x" for index in range(30)}
    data = docx_package(paragraph("text"), parts=entries)
    with pytest.raises(LimitsExceededError, match="entries"):
        extract(data, Limits(max_zip_entries=20))


def test_entries_are_counted_before_zipfile_builds_its_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = {f"x/{index}": b"" for index in range(30)}
    data = docx_package(paragraph("text"), parts=entries)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("zipfile.ZipFile was reached")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(LimitsExceededError, match="entries"):
        extract(data, Limits(max_zip_entries=20))


def test_default_entry_limit_refuses_thousands_of_entries() -> None:
    entries = {f"x/{index}": b"" for index in range(Limits().max_zip_entries + 1)}
    data = docx_package(paragraph("text"), parts=entries)
    with pytest.raises(LimitsExceededError):
        extract(data)


def test_billion_laughs_is_refused_quickly_without_expansion() -> None:
    data = docx_package(document=billion_laughs_document())
    started = time.perf_counter()
    with pytest.raises((CorruptDocumentError, LimitsExceededError)):
        extract(data)
    assert time.perf_counter() - started < 1.0
    assert peak_allocation(lambda: extract(data)) < 2 * MIB


def test_small_entity_declaration_is_refused_not_expanded() -> None:
    document = billion_laughs_document(levels=2, fan_out=3)
    with pytest.raises(CorruptDocumentError, match="DTD"):
        extract(docx_package(document=document))


def test_external_entity_is_never_resolved() -> None:
    prolog = '<!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/hostname">]>'
    body = "<w:p><w:r><w:t>&secret;</w:t></w:r></w:p>"
    data = docx_package(document=document_part(body, prolog=prolog))
    with pytest.raises(CorruptDocumentError):
        extract(data)


def test_bytes_that_are_not_a_zip_are_corrupt() -> None:
    with pytest.raises(CorruptDocumentError):
        extract(b"PK\x03\x04 this is not really a zip archive")


def test_truncated_zip_is_corrupt() -> None:
    data = docx_package(paragraph("some text " * 100))
    with pytest.raises(CorruptDocumentError):
        extract(data[: len(data) // 2])


def test_package_without_main_document_is_corrupt() -> None:
    data = zip_bytes({"[Content_Types].xml": "<Types/>", "word/other.xml": "<x/>"})
    with pytest.raises(CorruptDocumentError, match="main part"):
        extract(data)


def test_malformed_document_xml_is_corrupt() -> None:
    data = docx_package(document=document_part("<w:p><w:r><w:t>unclosed</w:r></w:p>"))
    with pytest.raises(CorruptDocumentError):
        extract(data)


def test_document_cut_off_mid_element_is_corrupt() -> None:
    data = docx_package(document=document_part(paragraph("text"))[:-30])
    with pytest.raises(CorruptDocumentError):
        extract(data)


def test_corrupted_member_data_is_corrupt() -> None:
    data = bytearray(docx_package(paragraph("text " * 200)))
    payload_at = data.find(b"word/document.xml") + len("word/document.xml") + 20
    data[payload_at : payload_at + 20] = b"\xff" * 20
    with pytest.raises(CorruptDocumentError):
        extract(bytes(data))


def test_encrypted_members_are_reported_as_encrypted() -> None:
    data = set_encrypted_flag(docx_package(paragraph("secret")), "word/document.xml")
    with pytest.raises(EncryptedDocumentError):
        extract(data)


def test_text_beyond_max_text_chars_is_refused() -> None:
    data = docx_package(paragraph("word " * 100) * 5)
    with pytest.raises(LimitsExceededError, match="characters"):
        extract(data, Limits(max_text_chars=1000))


def test_expired_deadline_stops_extraction() -> None:
    data = docx_package(paragraph("text"))
    with pytest.raises(ProcessingTimeoutError):
        extract_docx(data, Limits(), Deadline(-1))


def test_deeply_nested_markup_fails_with_a_document_error() -> None:
    depth = 5000
    body = '<w:customXml w:element="x">' * depth + paragraph("deep") + "</w:customXml>" * depth
    with pytest.raises((CorruptDocumentError, LimitsExceededError)):
        extract(docx_package(body))


# --- the real-world corpus ------------------------------------------------------------

_WORD = re.compile(r"\w+")


@pytest.mark.corpus
def test_every_corpus_docx_yields_text_or_a_document_error(corpus_dir: Path) -> None:
    files = sorted((corpus_dir / "docx").glob("*.docx"))
    assert files, "the corpus holds no DOCX files"
    for path in files:
        data = path.read_bytes()
        started = time.perf_counter()
        try:
            extraction = extract_docx(data, Limits(), Deadline(60))
        except DocumentError:
            continue
        assert time.perf_counter() - started < 30, path.name
        assert _WORD.search(extraction.text), path.name
        for heading in extraction.headings:
            assert (
                extraction.text[heading.start : heading.start + len(heading.text)] == heading.text
            ), path.name


@pytest.mark.corpus
def test_corpus_rich_tables_text_inside_content_controls_is_recovered(corpus_dir: Path) -> None:
    """Tables inside block content controls, missed by paragraph+table walking, are read."""
    path = corpus_dir / "docx" / "docx_rich_tables_01.docx"
    if not path.exists():
        pytest.skip("docx_rich_tables_01.docx is not in the corpus")
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("word/document.xml").decode()
    reference = {
        token.casefold()
        for token in _WORD.findall(" ".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)))
    }
    extracted = {token.casefold() for token in _WORD.findall(extract(path.read_bytes()).text)}
    assert len(reference & extracted) / len(reference) > 0.99
