"""Generators of small DOCX packages (and hostile ZIPs) for the DOCX extractor tests.

Packages are written with :mod:`zipfile` from WordprocessingML snippets, so a
test states exactly the markup it exercises. :func:`docx_package` builds a
package around a body; the helpers below build the snippets.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_NAMESPACES = (
    f'xmlns:w="{W_NS}" xmlns:r="{R_NS}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"'
)
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _XML_DECLARATION
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)

# --- WordprocessingML snippets -------------------------------------------------


def run(text: str) -> str:
    """A run holding ``text``."""
    return f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def paragraph(*content: str, style: str | None = None, properties: str = "") -> str:
    """A paragraph of runs; plain strings are wrapped in runs, markup (``<...``) is kept."""
    style_xml = f"<w:pStyle w:val={quoteattr(style)}/>" if style else ""
    ppr = f"<w:pPr>{style_xml}{properties}</w:pPr>" if style_xml or properties else ""
    body = "".join(item if item.startswith("<") else run(item) for item in content)
    return f"<w:p>{ppr}{body}</w:p>"


def cell(*blocks: str) -> str:
    """A table cell; plain strings become paragraphs."""
    inner = "".join(block if block.startswith("<") else paragraph(block) for block in blocks)
    return f"<w:tc><w:tcPr/>{inner or paragraph()}</w:tc>"


def table(rows: Iterable[Iterable[str]]) -> str:
    """A table; each cell given as a plain string or as :func:`cell` markup."""
    body = "".join(
        "<w:tr>"
        + "".join(item if item.startswith("<w:tc") else cell(item) for item in row)
        + "</w:tr>"
        for row in rows
    )
    return f"<w:tbl><w:tblPr/><w:tblGrid/>{body}</w:tbl>"


def content_control(inner: str, *, tag: str = "control") -> str:
    """A content control (``w:sdt``) around block or inline ``inner`` markup."""
    return (
        f"<w:sdt><w:sdtPr><w:tag w:val={quoteattr(tag)}/>"
        f'<w:placeholder><w:docPart w:val="DefaultPlaceholder"/></w:placeholder></w:sdtPr>'
        f"<w:sdtContent>{inner}</w:sdtContent></w:sdt>"
    )


def text_box(text: str) -> str:
    """A run holding a floating text box, as Word writes it: DrawingML with a VML fallback."""
    content = f"<w:txbxContent>{paragraph(text)}</w:txbxContent>"
    return (
        "<w:r><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
        f"<wps:wsp><wps:txbx>{content}</wps:txbx></wps:wsp>"
        "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><v:rect><v:textbox>{content}</v:textbox></v:rect></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )


def vml_text_box(text: str) -> str:
    """A run holding a legacy VML text box with no DrawingML alternative."""
    return (
        "<w:r><w:pict><v:shape><v:textbox><w:txbxContent>"
        f"{paragraph(text)}</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    )


def section(*refs: tuple[str, str], type_: str = "default") -> str:
    """A ``w:sectPr`` naming headers/footers: ``refs`` are ``(kind, rel_id)`` pairs."""
    items = "".join(
        f'<w:{kind}Reference w:type="{type_}" r:id="{rel_id}"/>' for kind, rel_id in refs
    )
    return f'<w:sectPr>{items}<w:pgSz w:w="12240" w:h="15840"/></w:sectPr>'


def header_part(*blocks: str, kind: str = "hdr") -> str:
    """A header (``hdr``) or footer (``ftr``) part; plain strings become paragraphs."""
    inner = "".join(block if block.startswith("<") else paragraph(block) for block in blocks)
    return f"{_XML_DECLARATION}<w:{kind} {_NAMESPACES}>{inner}</w:{kind}>"


def notes_part(kind: str, notes: Mapping[int, str], *, with_separators: bool = True) -> str:
    """A footnotes/endnotes part (``kind`` is ``footnote`` or ``endnote``)."""
    separators = (
        f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
        f'<w:{kind} w:type="continuationSeparator" w:id="0">'
        f"<w:p><w:r><w:continuationSeparator/></w:r></w:p></w:{kind}>"
        if with_separators
        else ""
    )
    items = "".join(
        f'<w:{kind} w:id="{note_id}">{paragraph(text)}</w:{kind}>'
        for note_id, text in notes.items()
    )
    return f"{_XML_DECLARATION}<w:{kind}s {_NAMESPACES}>{separators}{items}</w:{kind}s>"


def comments_part(comments: Mapping[int, str]) -> str:
    items = "".join(
        f'<w:comment w:id="{comment_id}" w:author="Reviewer">{paragraph(text)}</w:comment>'
        for comment_id, text in comments.items()
    )
    return f"{_XML_DECLARATION}<w:comments {_NAMESPACES}>{items}</w:comments>"


def styles_part(*styles: str) -> str:
    """A styles part from :func:`paragraph_style` snippets."""
    return f"{_XML_DECLARATION}<w:styles {_NAMESPACES}>{''.join(styles)}</w:styles>"


def paragraph_style(
    style_id: str,
    name: str,
    *,
    based_on: str | None = None,
    outline_level: int | None = None,
    default: bool = False,
) -> str:
    based = f"<w:basedOn w:val={quoteattr(based_on)}/>" if based_on else ""
    outline = (
        f'<w:pPr><w:outlineLvl w:val="{outline_level}"/></w:pPr>'
        if outline_level is not None
        else ""
    )
    default_attr = ' w:default="1"' if default else ""
    return (
        f'<w:style w:type="paragraph"{default_attr} w:styleId={quoteattr(style_id)}>'
        f"<w:name w:val={quoteattr(name)}/>{based}{outline}</w:style>"
    )


def core_properties(
    *,
    title: str | None = None,
    creator: str | None = None,
    subject: str | None = None,
    created: str | None = None,
    modified: str | None = None,
    language: str | None = None,
) -> str:
    def element(tag: str, value: str | None, attrs: str = "") -> str:
        return f"<{tag}{attrs}>{escape(value)}</{tag}>" if value is not None else ""

    w3cdtf = ' xsi:type="dcterms:W3CDTF"'
    return (
        _XML_DECLARATION
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + element("dc:title", title)
        + element("dc:subject", subject)
        + element("dc:creator", creator)
        + element("cp:lastModifiedBy", "Someone Else")
        + element("dc:language", language)
        + element("dcterms:created", created, w3cdtf)
        + element("dcterms:modified", modified, w3cdtf)
        + "</cp:coreProperties>"
    )


def app_properties(*, pages: int | None = None, application: str = "Microsoft Office Word") -> str:
    pages_xml = f"<Pages>{pages}</Pages>" if pages is not None else ""
    return (
        _XML_DECLARATION
        + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties">'
        f"<Application>{escape(application)}</Application>{pages_xml}</Properties>"
    )


def document_part(body: str, *, namespace: str = W_NS, prolog: str = "") -> str:
    """A main document part around ``body`` (the content of ``w:body``)."""
    namespaces = _NAMESPACES.replace(W_NS, namespace)
    return (
        f"{_XML_DECLARATION}{prolog}<w:document {namespaces}><w:body>{body}</w:body></w:document>"
    )


# --- packages -----------------------------------------------------------------


def docx_package(
    body: str = "",
    *,
    document: str | None = None,
    parts: Mapping[str, str | bytes] | None = None,
    relationships: Sequence[tuple[str, str, str]] = (),
    core: str | None = None,
    app: str | None = None,
) -> bytes:
    """A DOCX package.

    ``body`` is the content of ``w:body`` (or give the whole ``document`` part);
    ``parts`` maps further part names under ``word/`` (or full names containing
    a slash elsewhere) to content; ``relationships`` are ``(id, type, target)``
    of the main part, ``type`` being the last segment of the relationship type
    (``header``, ``footnotes``, ``styles``...).
    """
    entries: dict[str, str | bytes] = {"[Content_Types].xml": _CONTENT_TYPES}
    package_rels = [("rId1", "officeDocument", "word/document.xml")]
    if core is not None:
        entries["docProps/core.xml"] = core
        package_rels.append(
            (
                "rId2",
                "http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
                "core-properties",
                "docProps/core.xml",
            )
        )
    if app is not None:
        entries["docProps/app.xml"] = app
        package_rels.append(
            (
                "rId3",
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
                "extended-properties",
                "docProps/app.xml",
            )
        )
    entries["_rels/.rels"] = relationships_part(package_rels)
    entries["word/document.xml"] = document if document is not None else document_part(body)
    if relationships:
        entries["word/_rels/document.xml.rels"] = relationships_part(relationships)
    for name, content in (parts or {}).items():
        entries[
            name if name.startswith(("word/", "docProps/", "customXml/")) else f"word/{name}"
        ] = content
    return zip_bytes(entries)


def relationships_part(relationships: Iterable[tuple[str, str, str]]) -> str:
    items = "".join(
        f'<Relationship Id="{rel_id}" Type="{_full_type(rel_type)}" Target="{target}"/>'
        for rel_id, rel_type, target in relationships
    )
    return (
        _XML_DECLARATION
        + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + items
        + "</Relationships>"
    )


def _full_type(rel_type: str) -> str:
    return rel_type if "/" in rel_type else _REL_TYPE + rel_type


def zip_bytes(
    entries: Mapping[str, str | bytes], *, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """A ZIP archive of ``entries`` (text is encoded as UTF-8)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


def forge_declared_size(archive: bytes, name: str, size: int) -> bytes:
    """``archive`` with the central directory claiming ``size`` uncompressed bytes for ``name``.

    The data is untouched: this is how a lying header looks to a reader.
    """
    encoded = name.encode()
    data = bytearray(archive)
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46 : position + 46 + name_length]) == encoded:
            struct.pack_into("<L", data, position + 24, size)
            return bytes(data)
        position = data.find(b"PK\x01\x02", position + 4)
    raise KeyError(name)


def set_encrypted_flag(archive: bytes, name: str) -> bytes:
    """``archive`` with ``name`` marked as encrypted in both of its headers."""
    encoded = name.encode()
    data = bytearray(archive)
    for signature, flag_at, name_length_at, name_at in (
        (b"PK\x03\x04", 6, 26, 30),
        (b"PK\x01\x02", 8, 28, 46),
    ):
        position = data.find(signature)
        while position >= 0:
            name_length = struct.unpack_from("<H", data, position + name_length_at)[0]
            if bytes(data[position + name_at : position + name_at + name_length]) == encoded:
                flags = struct.unpack_from("<H", data, position + flag_at)[0]
                struct.pack_into("<H", data, position + flag_at, flags | 0x1)
            position = data.find(signature, position + 4)
    return bytes(data)


def billion_laughs_document(levels: int = 10, fan_out: int = 10) -> str:
    """A document part whose DTD defines the classic exponential entity."""
    entities = ['<!ENTITY lol0 "lol">']
    entities.extend(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * fan_out}">' for level in range(1, levels)
    )
    prolog = f"<!DOCTYPE w:document [{''.join(entities)}]>"
    body = f"<w:p><w:r><w:t>&lol{levels - 1};</w:t></w:r></w:p>"
    return document_part(body, prolog=prolog)
