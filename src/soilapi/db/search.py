"""The search index: every searchable text of every record, one row each.

A record's names, acronym, aliases, description, statements and the quotes of its sources live
in five tables; searching them where they are would take five scans and a merge per query.
`search_entries` holds them side by side instead, one row per text, with the field it came
from. The database keeps it current itself: statement-level triggers on the five source
tables (created by the migration that creates this table) insert, replace and delete the
entries of the rows each INSERT, UPDATE or DELETE touched, and deleting a record cascades. So
every writer (the seed loader, the benchmark's COPY, a future admin API) keeps it right without
knowing it exists, and no request ever rebuilds anything.

Two columns are generated from the text by PostgreSQL: `document`, the text's tsvector with
its field's weight (full text search, GIN), and `folded`, the text lower-cased and without
accents for the name fields only (trigram similarity, GIN), so typos and partial words are
matched on names, where they matter, and the long texts cost no trigram index.

`search_words` is the lexicon of the names: every word of a name field once, with its lexeme.
A query word with a typo ("Peatlnad") is no lexeme any document has, and comparing the whole
query with 400,000 names by trigrams costs tens of milliseconds (their trigrams are shared by
thousands of names); comparing each query word with the lexicon's words by trigrams costs a
fraction of one, and gives the lexemes the query probably meant ("peatland"), which the
tsvector's GIN index then finds (soilapi.repositories.search.widened). A trigger on
`search_entries` adds the words of each new name (the migration creates it); words are never
removed, as a word no name has any more widens a query to nothing.
"""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from soilapi.db.base import Base, enum_column
from soilapi.vocab import NAME_FIELDS, SearchField

# The text search configuration the documents are built with: PostgreSQL's `english` (Snowball
# stemming, English stop words) with `unaccent` in front of the stemmer, so "Petursdóttir" and
# "Petursdottir" are one lexeme. The migration creates it; a query's tsquery must use it too.
TEXT_SEARCH_CONFIG = "soilapi_english"
# lower(unaccent(text)) as an IMMUTABLE function: `unaccent()` itself is only STABLE (its
# dictionary could change), which a generated column refuses. The migration creates it with a
# SQL-standard body, whose references are bound when it is created (no search_path lookups).
FOLD_FUNCTION = "soilapi_fold"

# Each field's tsvector weight: names A, descriptions B, statements C, quotes D. Ranking gives
# each weight its own factor (soilapi.repositories.search.RANK_WEIGHTS).
WEIGHTS: dict[SearchField, str] = {
    SearchField.NAME: "A",
    SearchField.ACRONYM: "A",
    SearchField.ALIAS: "A",
    SearchField.DESCRIPTION: "B",
    SearchField.STATEMENT: "C",
    SearchField.SOURCE_QUOTE: "D",
}


def _weight_of_field() -> str:
    cases = " ".join(f"WHEN '{field}'::text THEN '{w}'::\"char\"" for field, w in WEIGHTS.items())
    return f'CASE (field)::text {cases} ELSE NULL::"char" END'


def _is_name_field() -> str:
    values = ", ".join(f"'{field}'::text" for field in NAME_FIELDS)
    return f"(field)::text = ANY (ARRAY[{values}])"


# Written as PostgreSQL prints them back (casts and all), so that alembic's comparison of the
# generated columns finds no difference.
DOCUMENT_SQL = (
    f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, text), {_weight_of_field()})"
)
FOLDED_SQL = f"CASE WHEN {_is_name_field()} THEN {FOLD_FUNCTION}(text) ELSE NULL::text END"


# A word of a name: a run of letters and digits of its folded text, as the trigger cuts it.
WORD_PATTERN = "[^[:alnum:]]+"


class SearchEntry(Base):
    """One searchable text of a record; written by triggers only (see the module)."""

    __tablename__ = "search_entries"

    # The row the text comes from: the record itself (name, acronym, description), or one of
    # its names, statements or sources. Triggers find an entry by it when that row changes.
    origin_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(as_uuid=True), primary_key=True)
    field: Mapped[SearchField] = mapped_column(enum_column(SearchField), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(sa.Text)
    document: Mapped[Any] = mapped_column(TSVECTOR, sa.Computed(DOCUMENT_SQL, persisted=True))
    folded: Mapped[str | None] = mapped_column(sa.Text, sa.Computed(FOLDED_SQL, persisted=True))

    __table_args__ = (
        sa.Index("ix_search_entries_document", "document", postgresql_using="gin"),
        sa.Index(
            "ix_search_entries_folded_trgm",
            "folded",
            postgresql_using="gin",
            postgresql_ops={"folded": "gin_trgm_ops"},
        ),
    )


class SearchWord(Base):
    """A word of the names in `search_entries`, with its lexeme; written by a trigger only."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    lexeme: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index(
            "ix_search_words_word_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )
