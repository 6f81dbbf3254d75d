"""DOCX extraction: WordprocessingML walked in document order with a hardened parser.

The package is checked against the ZIP limits before any XML is parsed (see
:mod:`processing.extraction.extractors.ziplimits`). Parts are then inflated in bounded
chunks and fed to an lxml pull parser that resolves no entities, loads no
external DTD, reaches no network and keeps libxml2's size limits; a part with
an internal DTD is rejected outright, since Word never writes one. The body is
parsed one top-level block at a time and each block is freed once read, so
memory follows the largest block, not the document.

Text layout: one line per paragraph (empty ones dropped); table cells
separated by tabs and rows by newlines, a cell's own paragraphs by newlines;
text-box content after the paragraph that anchors it; then, each group after a
blank line, headers, footers, footnotes, endnotes and comments.

python-docx is not used: it inflates every part up front and exposes only
top-level paragraphs and tables, missing content controls, text boxes and
nested tables.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote

from processing.extraction.errors import CorruptDocumentError, LimitsExceededError
from processing.extraction.extractors.ziplimits import iter_part_chunks, open_archive
from processing.extraction.limits import Deadline, Limits
from processing.extraction.result import DocumentMetadata, Extraction, Heading

if TYPE_CHECKING:
    from lxml.etree import _Element

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_R_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CORE = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_EXTENDED = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"

_MAIN_PART = "word/document.xml"
_CORE_PART = "docProps/core.xml"
_APP_PART = "docProps/app.xml"

#: Paragraphs walked between two deadline checks.
_PARAGRAPHS_PER_CHECK = 256
# Footnote and endnote entries that only draw the separator line.
_NOTE_SEPARATORS = frozenset({"separator", "continuationSeparator", "continuationNotice"})
# Word stores built-in style names in English, other producers sometimes in
# the user's language; outline levels in the style catch the rest.
_HEADING_WORDS = frozenset(
    {
        "heading", "überschrift", "titre", "título", "titolo", "kop", "rubrik", "overskrift",
        "otsikko", "nagłówek", "заголовок", "nadpis", "cabeçalho", "encabezado",
    }
)  # fmt: skip
_TITLE_NAMES = frozenset(
    {
        "title",
        "titel",
        "tittel",
        "titre",
        "título",
        "titolo",
        "tytuł",
        "название",
        "otsikko",
        "rubrik",
    }
)
#: Level reported for the Title style, above Heading 1.
TITLE_LEVEL = 0
# outlineLvl 9 is "body text", not a heading.
_BODY_OUTLINE_LEVEL = 9


def _w_tags(*names: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{name}" for ns in (_W, _W_STRICT) for name in names)


# What each element means to the inline walk (inside a paragraph).
_TEXT, _TAB, _NEWLINE, _HYPHEN, _FIELD_CHAR, _SKIP, _TEXT_BOX, _ALTERNATE = range(8)
_INLINE_ACTIONS: dict[str, int] = {
    **dict.fromkeys(_w_tags("t"), _TEXT),
    f"{{{_MATH}}}t": _TEXT,
    **dict.fromkeys(_w_tags("tab", "ptab"), _TAB),
    **dict.fromkeys(_w_tags("br", "cr"), _NEWLINE),
    **dict.fromkeys(_w_tags("noBreakHyphen"), _HYPHEN),
    **dict.fromkeys(_w_tags("fldChar"), _FIELD_CHAR),
    # Properties, deleted and moved-away text, field codes: never shown text.
    **dict.fromkeys(
        _w_tags(
            "pPr", "rPr", "sdtPr", "sdtEndPr", "del", "moveFrom", "delText",
            "instrText", "delInstrText", "fldData", "sym", "softHyphen",
        ),
        _SKIP,
    ),
    **dict.fromkeys(_w_tags("txbxContent"), _TEXT_BOX),
    f"{{{_MC}}}AlternateContent": _ALTERNATE,
}  # fmt: skip

# What each element means to the block walk (body, cells, text boxes, notes).
_PARAGRAPH, _TABLE, _SECTION = range(8, 11)
_BLOCK_ACTIONS: dict[str, int] = {
    **dict.fromkeys(_w_tags("p"), _PARAGRAPH),
    **dict.fromkeys(_w_tags("tbl"), _TABLE),
    **dict.fromkeys(_w_tags("sectPr"), _SECTION),
    **dict.fromkeys(
        _w_tags(
            "sdtPr", "sdtEndPr", "tblPr", "tblGrid", "trPr", "tcPr", "del", "moveFrom",
            "bookmarkStart", "bookmarkEnd", "proofErr", "altChunk",
        ),
        _SKIP,
    ),
    f"{{{_MC}}}AlternateContent": _ALTERNATE,
}  # fmt: skip

# Wrappers that may stand between a table and its rows, or a row and its cells.
_ROW_WRAPPERS = _w_tags("sdt", "sdtContent", "customXml", "ins", "moveTo")
_ROWS = _w_tags("tr")
_CELLS = _w_tags("tc")
_PPR = _w_tags("pPr")
_PSTYLE = _w_tags("pStyle")
_OUTLINE = _w_tags("outlineLvl")
_SECT_PR = _w_tags("sectPr")
_TRPR = _w_tags("trPr")
_TCPR = _w_tags("tcPr")
_VMERGE = _w_tags("vMerge")
_DELETED = _w_tags("del")
_HEADER_REFS = _w_tags("headerReference", "footerReference")
_BODY = _w_tags("body")
_NOTE_ROOTS = _w_tags("hdr", "ftr", "footnotes", "endnotes", "comments")
_RELS_ROOT = frozenset({f"{{{_RELS}}}Relationships"})
_CORE_ROOT = frozenset({f"{{{_CORE}}}coreProperties"})
_APP_ROOT = frozenset({f"{{{_EXTENDED}}}Properties"})
_MC_CHOICE = f"{{{_MC}}}Choice"
_MC_FALLBACK = f"{{{_MC}}}Fallback"


def _w_attr(element: _Element, name: str) -> str | None:
    value = element.get(f"{{{_W}}}{name}")
    return value if value is not None else element.get(f"{{{_W_STRICT}}}{name}")


def _child(element: _Element, tags: frozenset[str]) -> _Element | None:
    for child in element:
        if child.tag in tags:
            return child
    return None


def extract_docx(data: bytes, limits: Limits, deadline: Deadline) -> Extraction:
    """Extract text, headings and core properties from a DOCX package.

    Raises :class:`LimitsExceededError` for ZIP bombs, too many entries or too
    much text, :class:`CorruptDocumentError` for a bad ZIP, a missing main part
    or malformed XML, and :class:`ProcessingTimeoutError` past ``deadline``.
    """
    try:
        with open_archive(data, limits) as archive:
            return _Package(archive, limits, deadline).extract()
    except RecursionError as exc:
        raise LimitsExceededError("the document's structure is nested too deeply") from exc
    except MemoryError as exc:
        raise LimitsExceededError("the document needs more memory than allowed") from exc


class _Text:
    """Text built piece by piece, with headings at their final offsets."""

    __slots__ = ("chunks", "headings", "length")

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.length = 0
        self.headings: list[Heading] = []

    def add(self, piece: str, separator: str, heading_level: int | None = None) -> None:
        """Append ``piece`` after ``separator`` (dropped at the start); empty pieces vanish."""
        if not piece:
            return
        if self.length:
            self.chunks.append(separator)
            self.length += len(separator)
        if heading_level is not None:
            stripped = piece.strip()
            lead = len(piece) - len(piece.lstrip())
            self.headings.append(Heading(heading_level, stripped, self.length + lead))
        self.chunks.append(piece)
        self.length += len(piece)

    def extend(self, other: _Text, separator: str) -> None:
        """Append everything in ``other``, shifting its headings."""
        if not other.length:
            return
        offset = self.length + (len(separator) if self.length else 0)
        self.add(other.value(), separator)
        self.headings.extend(
            Heading(heading.level, heading.text, heading.start + offset)
            for heading in other.headings
        )

    def value(self) -> str:
        joined = "".join(self.chunks)
        self.chunks = [joined]
        return joined


class _Style(NamedTuple):
    name: str | None
    based_on: str | None
    outline_level: int | None


class _Headings:
    """Heading levels of paragraph styles, through names, outline levels and ``basedOn``."""

    def __init__(self, styles: dict[str, _Style], default_style: str | None) -> None:
        self._styles = styles
        self._default = default_style
        self._levels: dict[str, int | None] = {}

    def level(self, properties: _Element | None) -> int | None:
        """The heading level of a paragraph with ``properties`` (its ``w:pPr``), if any."""
        style_id = self._default
        if properties is not None:
            outline = _child(properties, _OUTLINE)
            if outline is not None:
                direct = _parse_outline(outline)
                return None if direct is None else direct + 1
            style = _child(properties, _PSTYLE)
            if style is not None:
                style_id = _w_attr(style, "val")
        if style_id is None:
            return None
        if style_id not in self._levels:
            self._levels[style_id] = self._resolve(style_id, set())
        return self._levels[style_id]

    def _resolve(self, style_id: str, seen: set[str]) -> int | None:
        style = self._styles.get(style_id)
        if style is None:
            # No styles part, or a dangling id: Word's ids for built-in
            # styles ("Heading1", "Title") still say what they are.
            return _level_from_name(style_id)
        if style.name is not None:
            level = _level_from_name(style.name)
            if level is not None:
                return level
        if style.outline_level is not None:
            return style.outline_level + 1
        seen.add(style_id)
        if style.based_on is not None and style.based_on not in seen:
            return self._resolve(style.based_on, seen)
        return None


def _level_from_name(name: str) -> int | None:
    normalised = name.strip().casefold()
    if normalised in _TITLE_NAMES:
        return TITLE_LEVEL
    # "heading 1" ... "heading 9", also written without the space.
    digit = normalised[-1:]
    if digit.isdigit() and digit != "0" and normalised[:-1].rstrip() in _HEADING_WORDS:
        return int(digit)
    return None


def _parse_outline(element: _Element) -> int | None:
    """A 0-based outline level, or ``None`` for body text or an unreadable value."""
    try:
        level = int(_w_attr(element, "val") or "")
    except ValueError:
        return None
    return level if 0 <= level < _BODY_OUTLINE_LEVEL else None


class _Relationship(NamedTuple):
    type: str
    target: str


class _Package:
    """One open DOCX package: finds its parts and reads them in order."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits, deadline: Deadline) -> None:
        self._archive = archive
        self._limits = limits
        self._deadline = deadline
        # OPC part names compare case-insensitively.
        self._infos = {info.filename.casefold(): info for info in archive.infolist()}

    def extract(self) -> Extraction:
        package_rels = self._relationships("")
        main = _first_target(package_rels, "officeDocument") or _MAIN_PART
        if self._info(main) is None:
            raise CorruptDocumentError(f"the document has no main part ({main})")
        main_rels = self._relationships(main)
        walker = _Walker(self._read_headings(main_rels), self._deadline)

        text = _Text()
        for block in self._iter_children(main, _BODY):
            walker.walk_block(block, text)
            self._check_length(text.length)

        headers, footers = self._header_parts(walker.section_refs, main_rels)
        for names in (
            headers,
            footers,
            _all_targets(main_rels, "footnotes"),
            _all_targets(main_rels, "endnotes"),
            _all_targets(main_rels, "comments"),
        ):
            section = self._read_notes(walker, names)
            text.extend(section, "\n\n")
            self._check_length(text.length)

        metadata = self._read_metadata(package_rels)
        return Extraction(text=text.value(), metadata=metadata, headings=tuple(text.headings))

    def _check_length(self, length: int) -> None:
        if length > self._limits.max_text_chars:
            raise LimitsExceededError(
                f"the document holds more than {self._limits.max_text_chars} characters of text"
            )

    def _read_notes(self, walker: _Walker, names: Iterable[str]) -> _Text:
        """Text of header, footer, note or comment parts, each distinct text once."""
        section = _Text()
        seen: set[str] = set()
        for name in names:
            if self._info(name) is None:
                continue
            walker.start_part()
            part = _Text()
            # Blocks of a header or footer; whole notes and comments.
            for unit in self._iter_children(name, _NOTE_ROOTS):
                if _w_attr(unit, "type") in _NOTE_SEPARATORS:
                    continue
                unit_text = _Text()
                walker.walk_block(unit, unit_text)
                part.extend(unit_text, "\n")
                self._check_length(section.length + part.length)
            # The same header text in several parts (first page, odd, even)
            # says nothing new.
            value = part.value()
            if value not in seen:
                seen.add(value)
                section.extend(part, "\n")
        return section

    @staticmethod
    def _header_parts(
        refs: list[str], rels: dict[str, _Relationship]
    ) -> tuple[list[str], list[str]]:
        """Header and footer parts in the order sections reference them, each once."""
        kinds = ("header", "footer")
        named = [rels[ref] for ref in refs if ref in rels and rels[ref].type in kinds]
        if not named:
            # Nothing referenced (some producers omit sectPr): take them all.
            named = sorted(
                (rel for rel in rels.values() if rel.type in kinds), key=lambda r: r.target
            )
        headers = [rel.target for rel in named if rel.type == "header"]
        footers = [rel.target for rel in named if rel.type == "footer"]
        return list(dict.fromkeys(headers)), list(dict.fromkeys(footers))

    def _read_headings(self, rels: dict[str, _Relationship]) -> _Headings:
        styles: dict[str, _Style] = {}
        default: str | None = None
        name = _first_target(rels, "styles")
        if name is not None and self._info(name) is not None:
            for element in self._iter_children(name, _w_tags("styles")):
                if _local(element.tag) != "style" or _w_attr(element, "type") != "paragraph":
                    continue
                style_id = _w_attr(element, "styleId")
                if style_id is None:
                    continue
                if _w_attr(element, "default") in ("1", "true", "on"):
                    default = style_id
                styles[style_id] = _read_style(element)
        return _Headings(styles, default)

    def _read_metadata(self, rels: dict[str, _Relationship]) -> DocumentMetadata:
        core: dict[str, str] = {}
        name = _first_target(rels, "core-properties") or _CORE_PART
        if self._info(name) is not None:
            for element in self._iter_children(name, _CORE_ROOT):
                value = (element.text or "").strip()
                if value:
                    core[element.tag] = value
        app: dict[str, str] = {}
        name = _first_target(rels, "extended-properties") or _APP_PART
        if self._info(name) is not None:
            for element in self._iter_children(name, _APP_ROOT):
                value = (element.text or "").strip()
                if value:
                    app[_local(element.tag)] = value
        return DocumentMetadata(
            title=core.get(f"{{{_DC}}}title"),
            author=core.get(f"{{{_DC}}}creator"),
            subject=core.get(f"{{{_DC}}}subject"),
            creator=app.get("Application"),
            created=_iso_date(core.get(f"{{{_DCTERMS}}}created")),
            modified=_iso_date(core.get(f"{{{_DCTERMS}}}modified")),
            page_count=_page_count(app.get("Pages")),
            language=core.get(f"{{{_DC}}}language"),
        )

    def _relationships(self, source: str) -> dict[str, _Relationship]:
        """Relationships of part ``source`` ("" for the package), by id."""
        directory, filename = posixpath.split(source)
        rels_name = posixpath.join(directory, "_rels", f"{filename}.rels")
        if self._info(rels_name) is None:
            return {}
        rels: dict[str, _Relationship] = {}
        for element in self._iter_children(rels_name, _RELS_ROOT):
            if element.tag != f"{{{_RELS}}}Relationship" or element.get("TargetMode") == "External":
                continue
            rel_id, rel_type, target = element.get("Id"), element.get("Type"), element.get("Target")
            if rel_id is None or rel_type is None or not target:
                continue
            rels[rel_id] = _Relationship(
                type=rel_type.rstrip("/").rsplit("/", 1)[-1],
                target=_resolve_target(directory, target),
            )
        return rels

    def _info(self, name: str) -> zipfile.ZipInfo | None:
        return self._infos.get(name.casefold())

    def _iter_children(self, name: str, containers: frozenset[str]) -> Iterator[_Element]:
        """Parse part ``name`` and yield each child of its first ``containers`` element.

        A child is yielded once the parser has moved past it (its next sibling
        has started, or the part has ended) and is dropped from the tree when
        the caller moves on, so memory follows the largest child.
        """
        from lxml import etree

        info = self._info(name)
        if info is None:
            raise CorruptDocumentError(f"the document has no part {name!r}")
        # Start events of the container alone: an event per element would cost
        # more than the parsing.
        parser = etree.XMLPullParser(
            events=("start",),
            tag=sorted(containers),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        container: _Element | None = None
        try:
            for chunk in iter_part_chunks(self._archive, info, self._limits):
                self._deadline.check()
                parser.feed(chunk)
                for _event, element in parser.read_events():
                    if container is None and isinstance(element, etree._Element):
                        _reject_doctype(element, name)
                        container = element
                while container is not None and len(container) > 1:
                    yield container[0]
                    del container[0]
            parser.close()
        except etree.XMLSyntaxError as exc:
            raise CorruptDocumentError(f"the part {name!r} is not well-formed XML") from exc
        if container is not None:
            yield from list(container)


def _reject_doctype(root: _Element, name: str) -> None:
    # An internal DTD is the door to entity expansion; WordprocessingML never
    # needs one, so its presence alone condemns the part. (An external one is
    # never loaded: load_dtd and no_network are off.)
    if root.getroottree().docinfo.internalDTD is not None:
        raise CorruptDocumentError(f"the part {name!r} declares a DTD")


class _Walker:
    """Walks WordprocessingML blocks in reading order, writing into a :class:`_Text`."""

    def __init__(self, headings: _Headings, deadline: Deadline) -> None:
        self._headings = headings
        self._deadline = deadline
        self._paragraphs = 0
        # One flag per open complex field: True while in its instruction part.
        self._fields: list[bool] = []
        #: Relationship ids of headers and footers, in the order sections name them.
        self.section_refs: list[str] = []

    def start_part(self) -> None:
        self._fields = []

    def walk_block(self, element: _Element, text: _Text) -> None:
        action = _BLOCK_ACTIONS.get(element.tag)
        if action == _PARAGRAPH:
            self._walk_paragraph(element, text)
        elif action == _TABLE:
            self._walk_table(element, text)
        elif action == _SECTION:
            self._note_section(element)
        elif action == _ALTERNATE:
            chosen = _choose_alternative(element)
            if chosen is not None:
                self._walk_blocks(chosen, text)
        elif action != _SKIP:
            # Content controls, custom XML, revisions and note/comment/header
            # containers: their children are blocks again.
            self._walk_blocks(element, text)

    def _walk_blocks(self, container: _Element, text: _Text) -> None:
        for child in container:
            self.walk_block(child, text)

    def _walk_paragraph(self, paragraph: _Element, text: _Text) -> None:
        pieces: list[str] = []
        boxes: list[_Element] = []
        self._walk_inline(paragraph, pieces, boxes)
        # A field's instruction never hides text past its own paragraph, so a
        # field left open by a broken document cannot swallow the rest.
        self._fields = [False] * len(self._fields)
        # Edge whitespace is layout (indents, trailing spaces), not content.
        content = "".join(pieces).strip()
        properties = _child(paragraph, _PPR)
        if content:
            text.add(content, "\n", self._headings.level(properties))
        for box in boxes:
            self._walk_blocks(box, text)
        if properties is not None:
            section = _child(properties, _SECT_PR)
            if section is not None:
                self._note_section(section)
        self._paragraphs += 1
        if self._paragraphs % _PARAGRAPHS_PER_CHECK == 0:
            self._deadline.check()

    def _walk_inline(self, element: _Element, pieces: list[str], boxes: list[_Element]) -> None:
        for child in element:
            action = _INLINE_ACTIONS.get(child.tag)
            if action is None:
                # Runs, hyperlinks, smart tags, inline content controls,
                # insertions, simple fields, drawings: look inside.
                self._walk_inline(child, pieces, boxes)
            elif action == _TEXT:
                if child.text and not any(self._fields):
                    pieces.append(child.text)
            elif action == _TAB:
                pieces.append("\t")
            elif action == _NEWLINE:
                pieces.append("\n")
            elif action == _HYPHEN:
                pieces.append("-")
            elif action == _FIELD_CHAR:
                self._note_field_char(child)
            elif action == _TEXT_BOX:
                boxes.append(child)
            elif action == _ALTERNATE:
                chosen = _choose_alternative(child)
                if chosen is not None:
                    self._walk_inline(chosen, pieces, boxes)

    def _note_field_char(self, element: _Element) -> None:
        kind = _w_attr(element, "fldCharType")
        if kind == "begin":
            self._fields.append(True)
        elif kind == "separate" and self._fields:
            self._fields[-1] = False
        elif kind == "end" and self._fields:
            self._fields.pop()

    def _walk_table(self, table: _Element, text: _Text) -> None:
        table_text = _Text()
        for row in _iter_wrapped(table, _ROWS):
            properties = _child(row, _TRPR)
            if properties is not None and _child(properties, _DELETED) is not None:
                continue
            row_text = _Text()
            for cell in _iter_wrapped(row, _CELLS):
                if _continues_merge(cell):
                    continue
                cell_text = _Text()
                self._walk_blocks(cell, cell_text)
                row_text.extend(cell_text, "\t")
            table_text.extend(row_text, "\n")
        text.extend(table_text, "\n")

    def _note_section(self, section: _Element) -> None:
        for child in section:
            if child.tag in _HEADER_REFS:
                ref = child.get(f"{{{_R}}}id") or child.get(f"{{{_R_STRICT}}}id")
                if ref is not None:
                    self.section_refs.append(ref)


def _continues_merge(cell: _Element) -> bool:
    """Whether ``cell`` continues a vertical merge: Word shows only the first cell's text."""
    properties = _child(cell, _TCPR)
    merge = None if properties is None else _child(properties, _VMERGE)
    return merge is not None and _w_attr(merge, "val") in (None, "continue")


def _iter_wrapped(element: _Element, tags: frozenset[str]) -> Iterator[_Element]:
    """Children of ``element`` with ``tags``, also inside content controls and custom XML."""
    for child in element:
        if child.tag in tags:
            yield child
        elif child.tag in _ROW_WRAPPERS:
            yield from _iter_wrapped(child, tags)


def _choose_alternative(element: _Element) -> _Element | None:
    """The one branch of ``mc:AlternateContent`` to read: the first Choice, else Fallback.

    Both usually hold the same text box (DrawingML and VML), so reading both
    would duplicate it.
    """
    fallback = None
    for child in element:
        if child.tag == _MC_CHOICE:
            return child
        if child.tag == _MC_FALLBACK and fallback is None:
            fallback = child
    return fallback


def _read_style(element: _Element) -> _Style:
    name = based_on = None
    outline_level = None
    for child in element:
        local = _local(child.tag)
        if local == "name":
            name = _w_attr(child, "val")
        elif local == "basedOn":
            based_on = _w_attr(child, "val")
        elif local == "pPr":
            outline = _child(child, _OUTLINE)
            if outline is not None:
                outline_level = _parse_outline(outline)
    return _Style(name=name, based_on=based_on, outline_level=outline_level)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _first_target(rels: dict[str, _Relationship], kind: str) -> str | None:
    return next((rel.target for rel in rels.values() if rel.type == kind), None)


def _all_targets(rels: dict[str, _Relationship], kind: str) -> list[str]:
    return list(dict.fromkeys(rel.target for rel in rels.values() if rel.type == kind))


def _resolve_target(directory: str, target: str) -> str:
    """The part name a relationship target points to, from the source part's directory."""
    target = unquote(target)
    path = target[1:] if target.startswith("/") else posixpath.join(directory, target)
    return posixpath.normpath(path).lstrip("/")


def _iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _page_count(value: str | None) -> int | None:
    # A cached value Word writes on save; other producers write 0 or nothing.
    try:
        pages = int(value or "")
    except ValueError:
        return None
    return pages if pages > 0 else None
