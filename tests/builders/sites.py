"""HTML pages for the extraction and web-ingestion tests: articles with
navigation and footer boilerplate around a main text, in several languages."""

from __future__ import annotations

from collections.abc import Iterable

BOILERPLATE_NAV = "Home Products Pricing Careers"
BOILERPLATE_FOOTER = "Copyright Example Ltd. All rights reserved. Cookie settings"

PARAGRAPHS = {
    "en": (
        "The analytical engine weaves algebraic patterns just as the Jacquard loom weaves"
        " flowers and leaves. Its designers described a store and a mill, and the"
        " distinction survives in every computer built since.",
        "Punched cards carried both the numbers and the operations, so one machine could"
        " follow many different programmes without being rebuilt by its engineers.",
    ),
    "de": (
        "Die analytische Maschine webt algebraische Muster, so wie der Jacquard-Webstuhl"
        " Blumen und Blätter webt. Ihre Erbauer beschrieben einen Speicher und ein Rechenwerk,"
        " und diese Unterscheidung findet sich in jedem seither gebauten Rechner.",
        "Lochkarten trugen sowohl die Zahlen als auch die Operationen, sodass eine Maschine"
        " vielen verschiedenen Programmen folgen konnte, ohne umgebaut zu werden.",
    ),
}


def article(
    title: str,
    *,
    links: Iterable[str] = (),
    language: str = "en",
    author: str = "Ada Lovelace",
    published: str = "2024-05-01",
    extra: str = "",
) -> bytes:
    """A page: a navigation bar, an article with ``title`` and two paragraphs,
    the ``links`` in a list, and a footer."""
    items = "".join(f'<li><a href="{href}">Link to {href}</a></li>' for href in links)
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[language])
    nav = "".join(f'<a href="/{w.lower()}">{w}</a> ' for w in BOILERPLATE_NAV.split())
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        f'<meta name="author" content="{author}">'
        f'<meta property="article:published_time" content="{published}"></head>'
        f"<body><header><nav>{nav}</nav></header>"
        f"<main><article><h1>{title}</h1>{body}{extra}</article>"
        f"<aside><ul>{items}</ul></aside></main>"
        f"<footer><p>{BOILERPLATE_FOOTER}</p></footer></body></html>"
    ).encode()
