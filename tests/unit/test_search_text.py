"""Query words, snippets and highlight spans; OData literals; search settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kernel.errors import SettingsError
from search.errors import QueryError
from search.odata import owner_filter, string_literal, time_literal
from search.records import Filters
from search.settings import SearchSettings
from search.text import SNIPPET_CHARS, query_terms, snippet


def test_query_words_are_lowercase_letters_and_digits_only() -> None:
    assert query_terms('Revenue "2026" OR content:(Dividend*) -x') == (
        "revenue",
        "2026",
        "or",
        "content",
        "dividend",
        "x",
    )
    assert query_terms("Genève genève GENÈVE") == ("genève",)
    assert query_terms("snake_case") == ("snake", "case")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (None, "empty_query"),
        ("", "empty_query"),
        ("'\"*()", "empty_query"),
        ("a" * 501, "query_too_long"),
        (" ".join(f"w{n}" for n in range(33)), "query_too_long"),
    ],
)
def test_unusable_queries_are_refused_with_a_code(query: str | None, code: str) -> None:
    with pytest.raises(QueryError) as caught:
        query_terms(query)
    assert caught.value.code == code


def test_a_short_chunk_is_its_own_snippet_with_every_match_marked() -> None:
    content = "Réunion: the RÉUNION of the board; reunion-free."
    found = snippet(content, ("réunion",))
    assert found.text == content and found.offset == 0
    assert [content[s:e] for s, e in found.highlights] == ["Réunion", "RÉUNION", "reunion"]


def test_a_long_chunk_is_cut_around_the_first_match_on_word_boundaries() -> None:
    content = " ".join(f"filler{n}" for n in range(200)) + " the dividend rises " + "tail " * 100
    found = snippet(content, ("dividend",))
    assert len(found.text) <= SNIPPET_CHARS
    assert content[found.offset : found.offset + len(found.text)] == found.text
    assert found.text.split()[0].startswith("filler") and content[found.offset - 1] == " "
    [(start, end)] = found.highlights
    assert found.text[start:end] == "dividend"
    assert start >= 40  # context before the match


def test_without_a_match_the_snippet_is_the_start_of_the_chunk() -> None:
    content = "word " * 200
    found = snippet(content, ())
    assert found.offset == 0 and len(found.text) <= SNIPPET_CHARS and found.highlights == ()


def test_odata_literals_double_quotes_and_format_utc() -> None:
    assert string_literal("O'Brien's") == "'O''Brien''s'"
    assert string_literal("') or (owner eq 'x") == "''') or (owner eq ''x'"
    paris = timezone(timedelta(hours=2))
    assert time_literal(datetime(2024, 5, 1, 14, 0, tzinfo=paris)) == "2024-05-01T12:00:00.000000Z"
    assert (
        owner_filter("a'b", Filters(document_id="d'1"))
        == "owner eq 'a''b' and document_id eq 'd''1'"
    )
    assert owner_filter(
        "a", Filters(created_after=datetime(2024, 1, 1, tzinfo=UTC), entity_type="e'")
    ) == (
        "owner eq 'a' and created_at ge 2024-01-01T00:00:00.000000Z"
        " and entity_types/any(t: t eq 'e''')"
    )


def test_settings_defaults_and_refusals() -> None:
    settings = SearchSettings.from_env({})
    assert (settings.endpoint, settings.index, settings.chunk_chars) == (None, "documents", 1000)
    assert settings.embeddings is None and settings.dimensions is None
    configured = SearchSettings.from_env(
        {
            "EMBEDDINGS_ENDPOINT": "http://127.0.0.1:1/v1",
            "EMBEDDINGS_MODEL": "m",
            "EMBEDDINGS_DIMENSIONS": "256",
        }
    )
    assert configured.dimensions == 256 and configured.embeddings is not None
    assert configured.embeddings.api_key is None
    for bad in (
        {"SEARCH_CHUNK_CHARS": "50"},
        {"SEARCH_CHUNK_OVERLAP_CHARS": "600"},
        {"SEARCH_CHUNK_OVERLAP_CHARS": "x"},
        {"EMBEDDINGS_ENDPOINT": "http://x/v1"},
        {
            "EMBEDDINGS_ENDPOINT": "http://x/v1",
            "EMBEDDINGS_MODEL": "m",
            "EMBEDDINGS_DIMENSIONS": "9999",
        },
    ):
        with pytest.raises(SettingsError):
            SearchSettings.from_env(bad)
