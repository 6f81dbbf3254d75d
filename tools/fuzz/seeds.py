"""Seed documents: the shared corpus when it is present, and generated ones always.

Generated seeds come from the test builders, so a fresh clone fuzzes every
format and most structures the extractors handle (tables, notes, fields,
text boxes, page trees, encodings) without any file on disk. Corpus files
are read, never copied anywhere.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

#: Where the shared corpus sits beside the checkout, as ``tests/conftest.py`` has it.
DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
#: Larger seeds make each example slow; the corpus has enough small files.
DEFAULT_MAX_SEED_BYTES = 200 * 1024


@dataclass(frozen=True, slots=True)
class Seed:
    name: str
    data: bytes

    @property
    def kind(self) -> str:
        """``pdf``, ``zip`` or ``text``, from the leading bytes."""
        if b"%PDF-" in self.data[:1024]:
            return "pdf"
        if self.data.startswith(b"PK\x03\x04"):
            return "zip"
        return "text"


def load_seeds(
    corpus: Path | None = DEFAULT_CORPUS, *, max_bytes: int = DEFAULT_MAX_SEED_BYTES
) -> list[Seed]:
    """The generated seeds, then corpus files of at most ``max_bytes`` (if ``corpus`` exists)."""
    seeds = generated_seeds()
    if corpus is not None and corpus.is_dir():
        for path in sorted(corpus.rglob("*")):
            if path.is_file() and path.suffix in (".pdf", ".docx", ".txt"):
                size = path.stat().st_size
                if 0 < size <= max_bytes:
                    seeds.append(Seed(f"corpus/{path.relative_to(corpus)}", path.read_bytes()))
    return seeds


def generated_seeds() -> list[Seed]:
    """Small documents of every supported format, built in memory."""
    return [*_pdf_seeds(), *_docx_seeds(), *_text_seeds()]


def _pdf_seeds() -> list[Seed]:
    from tests.builders import hostile
    from tests.builders.pdfs import (
        SAMPLE_PDF_DATE,
        build_minimal_pdf,
        build_reportlab_pdf,
        encrypt_pdf,
    )

    minimal = build_minimal_pdf(
        [["Quarterly report", "Contact finance@example.com by 14 March 2026."], ["Page two"]],
        info={"Title": "Seed", "Author": "Fuzz", "CreationDate": SAMPLE_PDF_DATE},
    )
    return [
        Seed("gen/minimal.pdf", minimal),
        Seed("gen/scan.pdf", build_minimal_pdf([["a"], ["b"]], image_only_pages=[0])),
        Seed(
            "gen/reportlab.pdf",
            build_reportlab_pdf(
                [["Invoice 42 for EUR 1,250.00", "IBAN DE89 3704 0044 0532 0130 00"], ["Two"]],
                title="Invoice",
            ),
        ),
        Seed(
            "gen/owner-password.pdf",
            # Only an owner password: readers open it with the empty user password.
            encrypt_pdf(minimal, user_password="", owner_password="owner", algorithm="RC4-128"),  # noqa: S106
        ),
        Seed("gen/xref-loop.pdf", hostile.looping_xref_pdf()),
        Seed("gen/no-root.pdf", hostile.looping_xref_pdf(fallback=True)),
        Seed("gen/nested.pdf", hostile.deeply_nested_pdf(40, where="content")),
        Seed("gen/page-tree.pdf", hostile.page_tree_pdf(declared=3, real=3)),
        Seed("gen/cyclic-tree.pdf", hostile.cyclic_page_tree_pdf()),
    ]


def _docx_seeds() -> list[Seed]:
    from tests.builders import docx_files as d

    rich_body = "".join(
        (
            d.paragraph("Title of the seed", style="Title"),
            d.paragraph("Heading one", style="Heading1"),
            d.paragraph(
                "Body with ", "<w:r><w:tab/></w:r>", "a tab and a break", "<w:r><w:br/></w:r>"
            ),
            d.table([["a", "b"], [d.cell("c", d.table([["nested"]])), "d"]]),
            d.content_control(d.paragraph("inside a control")),
            d.paragraph(d.text_box("text in a box")),
            d.paragraph(
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                '<w:r><w:instrText>HYPERLINK "x"</w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
                "shown field",
                '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
            ),
            d.paragraph("Call +49 30 1234567 or mail a@example.org on 2026-03-14."),
            d.section(("header", "rIdH"), ("footer", "rIdF")),
        )
    )
    rich = d.docx_package(
        rich_body,
        parts={
            "header1.xml": d.header_part("Header text"),
            "footer1.xml": d.header_part("Footer text", kind="ftr"),
            "footnotes.xml": d.notes_part("footnote", {1: "A footnote"}),
            "comments.xml": d.comments_part({0: "A comment"}),
            "styles.xml": d.styles_part(
                d.paragraph_style("Heading1", "heading 1"),
                d.paragraph_style("Custom", "Custom", based_on="Heading1"),
            ),
        },
        relationships=[
            ("rIdH", "header", "header1.xml"),
            ("rIdF", "footer", "footer1.xml"),
            ("rIdN", "footnotes", "footnotes.xml"),
            ("rIdC", "comments", "comments.xml"),
            ("rIdS", "styles", "styles.xml"),
        ],
        core=d.core_properties(title="Seed", creator="Fuzz", created="2026-03-14T12:00:00Z"),
        app=d.app_properties(pages=3),
    )
    strict = d.docx_package(
        document=d.document_part(
            d.paragraph("Strict namespace").replace(d.W_NS, d.W_STRICT_NS),
            namespace=d.W_STRICT_NS,
        )
    )
    return [
        Seed("gen/rich.docx", rich),
        Seed("gen/plain.docx", d.docx_package(d.paragraph("Just one paragraph."))),
        Seed("gen/strict.docx", strict),
    ]


def _text_seeds() -> list[Seed]:
    sample = (
        "Meeting on 14 March 2026 in Zürich.\r\nBudget: $1,250.00 (12.5% up).\n"
        "Mail finance@example.com, see https://example.org/report?id=7 or call +1 202 555 0143.\n"
        "IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111, host 192.168.0.1.\n"
    )
    return [
        Seed("gen/utf8.txt", sample.encode()),
        Seed("gen/utf16.txt", codecs.BOM_UTF16_LE + sample.encode("utf-16-le")),
        Seed("gen/utf32be.txt", codecs.BOM_UTF32_BE + sample.encode("utf-32-be")),
        Seed("gen/cp1252.txt", "Déjà vu: café, naïve, Straße – “quoted”.\n".encode("cp1252")),
        Seed("gen/shift_jis.txt", "日本語のテキストです。会議は三月です。\n".encode("shift_jis")),
    ]
