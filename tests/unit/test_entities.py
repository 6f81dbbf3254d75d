"""Entity recognition: each recogniser, overlap resolution, the composite and its limits."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processing.extraction.analysis.entities import (
    TYPE_PRIORITY,
    EntityRecognizer,
    default_recognizer,
    recognize_entities,
    resolve_overlaps,
    set_default_recognizer,
)
from processing.extraction.analysis.recognizers import (
    DateRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpAddressRecognizer,
    MoneyRecognizer,
    PaymentCardRecognizer,
    PercentRecognizer,
    PhoneRecognizer,
    Recognizer,
    UrlRecognizer,
    builtin_recognizers,
)
from processing.extraction.analysis.recognizers.amounts import parse_amount
from processing.extraction.analysis.recognizers.banking import mask_card_number
from processing.extraction.errors import UnsupportedTypeError
from processing.extraction.extractors.text import decode_text
from processing.extraction.result import Entity


def found(text: str, entity_type: str | None = None) -> list[tuple[str, str, str]]:
    """(type, text, value) of what the default recogniser reports, optionally of one type."""
    return [
        (entity.type, entity.text, entity.value)
        for entity in recognize_entities(text, max_entities=1_000)
        if entity_type is None or entity.type == entity_type
    ]


def values(text: str, entity_type: str) -> list[str]:
    return [value for _, _, value in found(text, entity_type)]


def assert_offsets_exact(text: str, entities: Iterable[Entity]) -> None:
    for entity in entities:
        if entity.type == "payment_card":
            assert len(entity.text) == entity.end - entity.start
        else:
            assert text[entity.start : entity.end] == entity.text, entity


# --- email -------------------------------------------------------------------


def test_email_is_found_with_exact_offsets_and_lower_cased_domain() -> None:
    text = "Write to John.Doe+news@Example.COM today."
    (entity,) = recognize_entities(text, max_entities=10)
    assert entity == Entity(
        "email", "John.Doe+news@Example.COM", "John.Doe+news@example.com", 9, 34
    )
    assert text[entity.start : entity.end] == entity.text


def test_email_excludes_a_trailing_full_stop() -> None:
    assert found("mail me at user@sub.example.co.uk.") == [
        ("email", "user@sub.example.co.uk", "user@sub.example.co.uk")
    ]


@pytest.mark.parametrize(
    "text",
    ["a@b", "x@example.c", "john..doe@example.com", "@example.com", "user@-bad-.com", "user@"],
)
def test_malformed_email_is_not_reported(text: str) -> None:
    assert found(text, "email") == []


# --- url ---------------------------------------------------------------------


def test_url_drops_trailing_punctuation_and_unbalanced_bracket() -> None:
    text = "Docs (see https://Example.COM/a/b?q=1&r=2). And www.example.org/x, too."
    assert found(text, "url") == [
        ("url", "https://Example.COM/a/b?q=1&r=2", "https://example.com/a/b?q=1&r=2"),
        ("url", "www.example.org/x", "www.example.org/x"),
    ]


def test_url_keeps_balanced_brackets_inside_it() -> None:
    text = "see (https://en.wikipedia.org/wiki/Foo_(bar)) now"
    assert values(text, "url") == ["https://en.wikipedia.org/wiki/Foo_(bar)"]


def test_url_wrapped_over_lines_is_joined_in_value_and_spans_the_break() -> None:
    text = "Archived (https://web.archiv\ne.org/web/2019/x.html). Next"
    (entity,) = recognize_entities(text, max_entities=10)
    assert entity.text == "https://web.archiv\ne.org/web/2019/x.html"
    assert entity.value == "https://web.archive.org/web/2019/x.html"
    assert text[entity.start : entity.end] == entity.text


def test_url_does_not_swallow_the_next_line_of_prose() -> None:
    text = (
        "Visit https://example.com/docs\nNext steps follow.\nSee https://example.com/a.\n1.2 Setup"
    )
    assert values(text, "url") == ["https://example.com/docs", "https://example.com/a"]


@pytest.mark.parametrize(
    "text", ["https://", "http://nohost", "www.example", "https://exa mple", "xhttps://example.com"]
)
def test_implausible_url_is_not_reported(text: str) -> None:
    assert found(text, "url") == []


def test_url_wins_over_an_email_inside_it() -> None:
    text = "Open https://x.example.com/?to=a@b.com now"
    assert found(text) == [
        ("url", "https://x.example.com/?to=a@b.com", "https://x.example.com/?to=a@b.com")
    ]


# --- phone -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Call (415) 555-2671 today", "+14155552671"),
        ("Call 415.555.2671 today", "+14155552671"),
        ("Call +1 (415) 555-2671", "+14155552671"),
        ("Call 1-800-555-0199 ext. 12", "+18005550199"),
        ("London +44 20 7946 0958.", "+442079460958"),
        ("Paris: +33 1 23 45 67 89", "+33123456789"),
        ("Intl +14155552671", "+14155552671"),
    ],
)
def test_phone_is_normalised_to_e164(text: str, value: str) -> None:
    (entity,) = recognize_entities(text, max_entities=10)
    assert (entity.type, entity.value) == ("phone", value)
    assert text[entity.start : entity.end] == entity.text


@pytest.mark.parametrize(
    "text",
    [
        "Due 2026-03-14 at noon",  # a date
        "Order / Rev: 2024-12-5678",  # digits grouped unlike a phone number
        "ID 4155552671 on file",  # bare digits without a +
        "run 12345678901234567890 end",  # a long digit run
        "IBAN DE89 3704 0044 0532 0130 01 (bad check digits)",  # inside an IBAN shape
        "card 4111 1111 1111 1112 (bad Luhn)",  # inside a card shape
        "host 192.168.100.200",  # a dotted quad
        "total 1,234,567,890",
    ],
)
def test_number_that_is_not_a_phone_is_not_reported_as_one(text: str) -> None:
    assert found(text, "phone") == []


def test_phone_recognizer_alone_finds_nothing_inside_a_date() -> None:
    assert list(PhoneRecognizer().recognize("2026-03-14")) == []


def test_phone_default_region_reads_national_numbers() -> None:
    text = "Ring 020 7946 0958"
    assert [e.value for e in PhoneRecognizer(default_region="GB").recognize(text)] == [
        "+442079460958"
    ]
    assert list(PhoneRecognizer(default_region="US").recognize(text)) == []


# --- date --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-03-14", "2026-03-14"),
        ("2026-03-14T10:00:00Z", "2026-03-14T10:00:00Z"),
        ("2026-03-14T10:00:00.250+0130", "2026-03-14T10:00:00.250+01:30"),
        ("2026-03-14 10:00", "2026-03-14T10:00:00"),
        ("2026/03/14", "2026-03-14"),
        ("14 March 2026", "2026-03-14"),
        ("14th of March, 2026", "2026-03-14"),
        ("March 14, 2026", "2026-03-14"),
        ("MARCH 14TH, 2026", "2026-03-14"),
        ("14 Mar 2026", "2026-03-14"),
        ("Mar. 14, 2026", "2026-03-14"),
        ("Sept 1, 2026", "2026-09-01"),
        ("29 Feb 2024", "2024-02-29"),
        ("14/03/2026", "2026-03-14"),
        ("03/14/2026", "2026-03-14"),
        ("14.03.2026", "2026-03-14"),
        ("05-05-2026", "2026-05-05"),
    ],
)
def test_date_is_normalised_to_iso_8601(text: str, value: str) -> None:
    sentence = f"On {text}, it began."
    (entity,) = recognize_entities(sentence, max_entities=10)
    assert (entity.type, entity.text, entity.value) == ("date", text, value)
    assert sentence[entity.start : entity.end] == text


def test_written_date_may_wrap_onto_the_next_line() -> None:
    assert values("signed on 14 March\n2026 in Paris", "date") == ["2026-03-14"]


@pytest.mark.parametrize(
    "text",
    [
        "Feb 30, 2026",
        "2026-02-30",
        "31 April 2026",
        "29 Feb 2023",
        "2026-13-01",
        "2026-03-14T25:00",
        "03/04/2026",  # March 4 or April 3: ambiguous
        "14/14/2026",
        "1.14.03.2026",  # part of a longer dotted number
        "0999-01-01",
        "March 2026",
        "14 March",
    ],
)
def test_invalid_or_ambiguous_date_is_not_reported(text: str) -> None:
    assert found(f"x {text} y", "date") == []


# --- money -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,234.56", "1234.56 USD"),
        ("€ 12,50", "12.50 EUR"),
        ("EUR 1.234,56", "1234.56 EUR"),
        ("EUR1,234", "1234 EUR"),
        ("1,234 USD", "1234 USD"),
        ("12,345.67 EUR", "12345.67 EUR"),
        ("1 234,56 €", "1234.56 EUR"),
        ("CHF 1'234.50", "1234.50 CHF"),
        ("£3m", "3000000 GBP"),
        ("$2.5bn", "2500000000 USD"),
        ("€1.2 billion", "1200000000 EUR"),
        ("US$5", "5 USD"),
        ("¥1,000", "1000 JPY"),
        ("20 €", "20 EUR"),
    ],
)
def test_money_value_is_amount_and_iso_code(text: str, value: str) -> None:
    sentence = f"It cost {text} in total."
    (entity,) = recognize_entities(sentence, max_entities=10)
    assert (entity.type, entity.text, entity.value) == ("money", text, value)


@pytest.mark.parametrize(
    "text",
    [
        "€ 12 345",  # plain-space groups before the amount: "€ 12" would be wrong
        "$1,23,456",  # inconsistent grouping
        "$0.125",
        "1.234,5.6 EUR",
        "100 EURO",
        "ALL 5 of them",  # a currency code that is an English word is not used
        "1234",
    ],
)
def test_doubtful_money_is_not_reported(text: str) -> None:
    assert found(text, "money") == []


def test_money_symbol_before_a_number_belongs_to_that_number() -> None:
    assert found("Daily 12 $250 PM", "money") == [("money", "$250", "250 USD")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1.234", "1234"),
        ("1,5", "1.5"),
        ("1'234'567", "1234567"),
        ("1.2.3", None),
        ("1,234,56", None),
        ("12,3456", None),
    ],
)
def test_parse_amount_handles_both_separator_conventions(raw: str, expected: str | None) -> None:
    assert parse_amount(raw) == expected


# --- percent -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12.5%", "12.5%"),
        ("12,5 %", "12.5%"),
        ("12 percent", "12%"),
        ("3 per cent", "3%"),
        ("−3.5 %", "-3.5%"),
        ("+2 pct", "+2%"),
        ("0,125%", "0.125%"),
    ],
)
def test_percent_value_uses_a_dot_and_a_percent_sign(text: str, value: str) -> None:
    assert found(f"rose {text} this year", "percent") == [("percent", text, value)]


def test_percent_range_reports_the_upper_bound_only() -> None:
    assert values("by 5-10% overall", "percent") == ["10%"]


def test_ambiguous_thousands_percent_is_not_reported() -> None:
    assert found("grew 1,234% since", "percent") == []


# --- iban --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
        ("BE68539007547034", "BE68539007547034"),
    ],
)
def test_valid_iban_is_reported_compact(text: str, value: str) -> None:
    sentence = f"Pay to {text}, thanks."
    assert found(sentence) == [("iban", text, value)]


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # wrong check digits
        "DE88370400440532013000",
        "DE89 3704 0044 0532 0130 0",  # too short for DE
        "XX89370400440532013000",  # unknown country
        "de89370400440532013000",  # lower case
    ],
)
def test_invalid_iban_is_not_reported(text: str) -> None:
    assert found(f"Pay to {text} now") == []


def test_iban_stops_at_its_country_length_and_a_second_one_is_found() -> None:
    text = "DE89 3704 0044 0532 0130 00 GB82 WEST 1234 5698 7654 32"
    assert values(text, "iban") == ["DE89370400440532013000", "GB82WEST12345698765432"]


# --- payment card ------------------------------------------------------------

CARDS = [
    ("4111 1111 1111 1111", "**** **** **** 1111", "************1111"),
    ("4111111111111111", "************1111", "************1111"),
    ("5555-5555-5555-4444", "****-****-****-4444", "************4444"),
    ("3782 822463 10005", "**** ****** *0005", "***********0005"),
    ("6011111111111117", "************1117", "************1117"),
]


@pytest.mark.parametrize(("number", "masked_text", "masked_value"), CARDS)
def test_card_is_masked_in_text_and_value_but_located_in_source(
    number: str, masked_text: str, masked_value: str
) -> None:
    text = f"Paid with {number}."
    (entity,) = recognize_entities(text, max_entities=10)
    assert (entity.type, entity.text, entity.value) == ("payment_card", masked_text, masked_value)
    assert text[entity.start : entity.end] == number


@pytest.mark.parametrize(("number", "masked_text", "masked_value"), CARDS)
def test_card_number_never_leaks_in_results(
    number: str, masked_text: str, masked_value: str
) -> None:
    text = f"card {number} call (415) 555-2671 on 2026-03-14 {number}"
    results = recognize_entities(text, max_entities=100)
    shown = repr(results)
    digits = "".join(char for char in number if char.isdigit())
    assert number not in shown
    assert digits not in shown
    assert digits[:-4] not in shown.replace(" ", "").replace("-", "")
    assert [e.text for e in results if e.type == "payment_card"] == [masked_text, masked_text]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # Luhn fails
        "4111111111111112",
        "1234 5678 9012 3452",  # Luhn passes, no issuer has this prefix
        "4111 1111 1111 111",  # Visa does not issue 15 digits
        "4111 11111111 1111",  # unusual grouping
    ],
)
def test_invalid_card_is_not_reported(text: str) -> None:
    assert found(f"card {text} end") == []


def test_mask_card_number_keeps_layout_and_last_four() -> None:
    assert mask_card_number("4111-1111-1111-1111") == "****-****-****-1111"


# --- ip address --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("192.168.1.1", "192.168.1.1"),
        ("10.0.0.1", "10.0.0.1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("fe80::1", "fe80::1"),
        ("::1", "::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ],
)
def test_ip_address_value_is_canonical(text: str, value: str) -> None:
    sentence = f"host {text} is up"
    assert found(sentence) == [("ip_address", text, value)]


def test_ip_address_next_to_port_or_prefix_is_found() -> None:
    assert values("at 10.0.0.1:8080 and 10.0.0.0/8.", "ip_address") == ["10.0.0.1", "10.0.0.0"]


@pytest.mark.parametrize(
    "text",
    [
        "999.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "v1.2.3.4",
        "version 1.2.3.4",
        "Section 2.3.59.1",
        "01.02.03.04",
        "10:30:45",
        "00:1A:2B:3C:4D:5E",
        "dead::beef",
        "std::vector",
    ],
)
def test_not_an_ip_address(text: str) -> None:
    assert found(f"see {text} here", "ip_address") == []


def test_outline_number_opening_a_line_is_not_an_ip_address() -> None:
    text = "Intro\n4.2.1.3 Setup of the thing\n2.3.59.1\n(12-12-2022)\n"
    assert found(text, "ip_address") == []


# --- overlap resolution, composite, limits -----------------------------------


def entity(entity_type: str, start: int, end: int, value: str = "v") -> Entity:
    return Entity(entity_type, "x" * (end - start), value, start, end)


@pytest.mark.parametrize(
    ("winner", "loser"),
    [
        (entity("iban", 0, 22), entity("phone", 4, 16)),
        (entity("payment_card", 0, 19), entity("phone", 0, 14)),
        (entity("url", 0, 40), entity("email", 20, 40)),
        (entity("date", 0, 10), entity("phone", 0, 10)),
    ],
)
def test_more_specific_type_wins_an_overlap(winner: Entity, loser: Entity) -> None:
    rank = {entity_type: index for index, entity_type in enumerate(TYPE_PRIORITY)}
    assert resolve_overlaps([loser, winner], rank) == (winner,)


def test_longer_span_wins_an_overlap_within_one_type() -> None:
    rank = {"ip_address": 0}
    short, long = entity("ip_address", 7, 16), entity("ip_address", 0, 16)
    assert resolve_overlaps([short, long], rank) == (long,)


def test_non_overlapping_entities_are_all_kept_sorted_by_start() -> None:
    rank = {"date": 0, "phone": 1}
    later, earlier, touching = (
        entity("date", 20, 30),
        entity("phone", 0, 10),
        entity("phone", 10, 20),
    )
    assert resolve_overlaps([later, earlier, touching], rank) == (earlier, touching, later)


class FixedRecognizer:
    """A stand-in backend returning fixed entities, as a cloud NER backend would."""

    def __init__(self, name: str, entities: Iterable[Entity]) -> None:
        self.name = name
        self._entities = tuple(entities)

    def recognize(self, text: str) -> Iterator[Entity]:
        yield from self._entities


def test_composite_merges_recognisers_and_ranks_unknown_types_last() -> None:
    text = "Ada Lovelace wrote on 1843-07-10."
    person = Entity("person", "Ada Lovelace", "Ada Lovelace", 0, 12)
    clash = Entity("organization", "1843", "1843", 22, 26)
    backend: Recognizer = FixedRecognizer("cloud", [person, clash])
    recognizer = EntityRecognizer([*builtin_recognizers(), backend])
    assert recognizer.recognize(text, max_entities=10) == (
        person,
        Entity("date", "1843-07-10", "1843-07-10", 22, 32),
    )


def test_recognize_entities_uses_an_installed_default_and_can_restore_it() -> None:
    person = Entity("person", "Ada", "Ada", 0, 3)
    try:
        set_default_recognizer(EntityRecognizer([FixedRecognizer("cloud", [person])]))
        assert recognize_entities("Ada", max_entities=5) == (person,)
    finally:
        set_default_recognizer(None)
    assert recognize_entities("Ada", max_entities=5) == ()
    assert len(default_recognizer().recognizers) == len(builtin_recognizers())


def test_max_entities_caps_the_result_keeping_the_earliest() -> None:
    text = " ".join(f"10.0.0.{n}" for n in range(1, 21))
    capped = recognize_entities(text, max_entities=5)
    assert [e.value for e in capped] == [f"10.0.0.{n}" for n in range(1, 6)]
    assert recognize_entities(text, max_entities=0) == ()


def test_empty_text_has_no_entities() -> None:
    assert recognize_entities("", max_entities=10) == ()


MIXED_DOCUMENT = """INVOICE 2026-0042 (issued 14 March 2026)
From: Billing <billing@acme.example> — https://acme.example/invoices/42.
Call (415) 555-2671 or +44 20 7946 0958.
Total: $1,234.56 incl. 8.5% tax; EU office: EUR 1.234,56.
Pay to DE89 3704 0044 0532 0130 00 by Mar. 28, 2026, or card 4111 1111 1111 1111.
Server 192.168.10.5 / 2001:db8::7 (version 1.2.3.4).
"""


def test_mixed_document_yields_every_type_in_order() -> None:
    entities = recognize_entities(MIXED_DOCUMENT, max_entities=100)
    assert [(e.type, e.text, e.value) for e in entities] == [
        ("date", "14 March 2026", "2026-03-14"),
        ("email", "billing@acme.example", "billing@acme.example"),
        ("url", "https://acme.example/invoices/42", "https://acme.example/invoices/42"),
        ("phone", "(415) 555-2671", "+14155552671"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("money", "$1,234.56", "1234.56 USD"),
        ("percent", "8.5%", "8.5%"),
        ("money", "EUR 1.234,56", "1234.56 EUR"),
        ("iban", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("date", "Mar. 28, 2026", "2026-03-28"),
        ("payment_card", "**** **** **** 1111", "************1111"),
        ("ip_address", "192.168.10.5", "192.168.10.5"),
        ("ip_address", "2001:db8::7", "2001:db8::7"),
    ]
    assert_offsets_exact(MIXED_DOCUMENT, entities)


def test_output_is_deterministic_across_instances() -> None:
    first = recognize_entities(MIXED_DOCUMENT * 3, max_entities=100)
    second = EntityRecognizer(builtin_recognizers()).recognize(MIXED_DOCUMENT * 3, max_entities=100)
    assert first == second == recognize_entities(MIXED_DOCUMENT * 3, max_entities=100)


def test_each_recogniser_has_a_stable_name() -> None:
    names = [r.name for r in builtin_recognizers()]
    assert names == [
        "email",
        "url",
        "phone",
        "date",
        "money",
        "percent",
        "iban",
        "payment_card",
        "ip_address",
    ]
    recognizers: list[Recognizer] = [
        EmailRecognizer(),
        UrlRecognizer(),
        PhoneRecognizer(),
        DateRecognizer(),
        MoneyRecognizer(),
        PercentRecognizer(),
        IbanRecognizer(),
        PaymentCardRecognizer(),
        IpAddressRecognizer(),
    ]
    assert [r.name for r in recognizers] == names


ENTITY_ALPHABET = st.sampled_from(
    [
        *"0123456789 \n.,-/:@$€%()+aZ",
        *("www.", "http://", "DE89", "4111", "March ", "EUR ", "x.com", "::", "  "),
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(ENTITY_ALPHABET, max_size=60).map("".join))
def test_results_are_sorted_disjoint_and_located_for_any_text(text: str) -> None:
    entities = recognize_entities(text, max_entities=1_000)
    assert_offsets_exact(text, entities)
    for before, after in itertools.pairwise(entities):
        assert before.end <= after.start
    for item in entities:
        assert 0 <= item.start < item.end <= len(text)
        assert item.type in TYPE_PRIORITY


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 150_000,
        "9" * 300_000,
        "a" * 300_000,
        "@a" * 150_000,
        "1." * 150_000,
        "a:" * 150_000,
        "http://" + "a" * 300_000,
        "$1," * 30_000,
        "DE89" * 75_000,
        ("1-2 " * 50_000) + "\n",
    ],
    ids=lambda text: repr(text[:8]),
)
def test_pathological_input_stays_fast(text: str) -> None:
    """A bound far above the expected time: it catches quadratic scans, not jitter."""
    started = time.perf_counter()
    recognize_entities(text, max_entities=10_000)
    assert time.perf_counter() - started < 20


@pytest.mark.corpus
def test_corpus_text_files_are_recognised_consistently(corpus_dir: Path) -> None:
    paths = sorted((corpus_dir / "txt").glob("*.txt"))
    assert paths
    for path in paths:
        data = path.read_bytes()
        if not data.strip():
            continue
        try:
            text, _ = decode_text(data)
        except UnsupportedTypeError:
            continue  # not text: the extractor's concern, not recognition's
        entities = recognize_entities(text, max_entities=10_000)
        assert_offsets_exact(text, entities)
        assert list(entities) == sorted(entities, key=lambda e: (e.start, e.end))
        assert entities == recognize_entities(text, max_entities=10_000)
