"""A board-minutes document longer than one Azure AI Language window, and a gazetteer
for the Language stand-in naming its people, organisations and places."""

from __future__ import annotations

PEOPLE = ("Margarethe Vossberg", "Tomasz Okonkwo-Lind", "Ines Carvalheira")
ORGANISATIONS = ("Hollerith Freight GmbH", "Baltic Lumen Energy")
PLACES = ("Rotterdam", "Tallinn", "Lyon")

GAZETTEER: dict[str, tuple[str, str | None, float]] = {
    **{name: ("Person", None, 0.97) for name in PEOPLE},
    **{name: ("Organization", None, 0.93) for name in ORGANISATIONS},
    **{name: ("Location", "GPE", 0.91) for name in PLACES},
    "chair": ("PersonType", None, 0.8),
}

_FILLER = (
    "The board reviewed the quarterly figures in detail and asked the finance team for a "
    "breakdown of costs by depot, which will be circulated before the next meeting. "
)


def board_minutes() -> str:
    """Minutes of about 12,000 characters: entities at the start, in the middle (around
    where the first 5,120-character window ends) and at the end."""
    opening = (
        "Minutes of the board meeting held in Rotterdam on 14 March 2026.\n\n"
        f"Present: {PEOPLE[0]} (chair), {PEOPLE[1]} (finance director) and {PEOPLE[2]} "
        "(secretary). Contact: secretary@hollerith.example or +31 10 555 0199.\n\n"
        f"1. {ORGANISATIONS[0]} reported revenue up 12.5% to EUR 4,200,000.\n\n"
    )
    paragraphs = [opening]
    while sum(map(len, paragraphs)) < 4_900:
        paragraphs.append(_FILLER)
    paragraphs.append(
        f"\n\n2. {PEOPLE[1]} presented the offer from {ORGANISATIONS[1]} to open a depot "
        f"in {PLACES[1]}. The board approved it.\n\n"
    )
    while sum(map(len, paragraphs)) < 11_500:
        paragraphs.append(_FILLER)
    paragraphs.append(
        f"\n\n3. The next meeting will be in {PLACES[2]}. {PEOPLE[0]} closed the meeting "
        f"and thanked {PEOPLE[2]} for the minutes.\n"
    )
    return "".join(paragraphs)
