"""The search index (`search_entries`) holds exactly the searchable texts of the registry.

Its triggers (in the migration) say in SQL which text of which table is which field; `expected`
below says it again in Python, and these tests prove the two agree: on the seeded database,
and after inserts, updates and deletes in each source table (in a transaction rolled back).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Entry = tuple[uuid.UUID, str, uuid.UUID, str]  # origin, field, record, text


async def expected(conn: AsyncConnection) -> set[Entry]:
    """Every entry the source tables call for."""
    found: set[Entry] = set()

    async def rows(sql: str) -> Any:
        return (await conn.execute(sa.text(sql))).all()

    for row_id, name, acronym, description in await rows(
        "SELECT id, name, acronym, description FROM entities"
    ):
        for field, text in (("name", name), ("acronym", acronym), ("description", description)):
            if text:
                found.add((row_id, field, row_id, text))
    for row_id, owner, value, kind in await rows(
        "SELECT id, entity_id, value, kind FROM entity_names"
    ):
        found.add((row_id, "acronym" if kind == "acronym" else "alias", owner, value))
    for row_id, owner, text in await rows("SELECT id, subject_id, text FROM statements"):
        found.add((row_id, "statement", owner, text))
    for row_id, owner, quote in await rows("SELECT id, entity_id, quote FROM entity_sources"):
        found.add((row_id, "source_quote", owner, quote))
    return found


async def indexed(conn: AsyncConnection) -> set[Entry]:
    rows = await conn.execute(
        sa.text("SELECT origin_id, field, entity_id, text FROM search_entries")
    )
    return {(r[0], r[1], r[2], r[3]) for r in rows}


async def test_the_seeded_index_holds_every_text(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        found, wanted = await indexed(conn), await expected(conn)
    assert found == wanted
    fields = {field for _, field, _, _ in found}
    assert fields == {"name", "acronym", "alias", "description", "statement", "source_quote"}
    assert len(found) == 1118


NEW = uuid.UUID("00000000-0000-4000-8000-00000000a001")
NAME = uuid.UUID("00000000-0000-4000-8000-00000000a002")
STATEMENT = uuid.UUID("00000000-0000-4000-8000-00000000a003")
SOURCE = uuid.UUID("00000000-0000-4000-8000-00000000a004")

WRITES = [
    # a new record with every kind of text
    """INSERT INTO entities (id, kind, slug, name, acronym, description)
       VALUES ('{new}', 'person', 'test-person', 'Þórunn Pétursdóttir', 'TP',
               'Eroded soils of Iceland')""",
    "INSERT INTO people (id, name_order_uncertain) VALUES ('{new}', false)",
    """INSERT INTO entity_names (id, entity_id, value, kind, document_id, line_start, line_end,
                                quote, evidence)
       SELECT '{name}', '{new}', 'Thorunn P.', 'variant', id, 1, 1, 'q', 'stated'
       FROM source_documents WHERE key = '002'""",
    """INSERT INTO statements (id, subject_id, property, text, document_id, line_start,
                              line_end, quote, evidence)
       SELECT '{statement}', '{new}', 'remark', 'Spoke on erosion', id, 1, 1, 'q', 'stated'
       FROM source_documents WHERE key = '002'""",
    """INSERT INTO entity_sources (id, entity_id, document_id, line_start, line_end, quote,
                                  evidence)
       SELECT '{source}', '{new}', id, 1, 1, 'Ms. Pétursdóttir', 'stated'
       FROM source_documents WHERE key = '002'""",
    # updates: a text changed, an acronym removed, a name moved to another record
    "UPDATE entities SET description = 'Secretary of the GSP', acronym = NULL WHERE slug = 'gsp'",
    "UPDATE statements SET text = 'Spoke on soil erosion' WHERE id = '{statement}'",
    """UPDATE entity_names SET entity_id = (SELECT id FROM entities WHERE slug = 'esp')
       WHERE id = '{name}'""",
    # deletes: a name, a source, and a record (its own texts and its rows' go with it)
    "DELETE FROM entity_names WHERE value = 'BLE'",
    "DELETE FROM entity_sources WHERE id = '{source}'",
    "DELETE FROM entities WHERE slug = 'thorunn-wolfram-petursdottir'",
]


async def test_triggers_keep_the_index_current(engine: AsyncEngine) -> None:
    ids = {"new": NEW, "name": NAME, "statement": STATEMENT, "source": SOURCE}
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            for write in WRITES:
                await conn.execute(sa.text(write.format(**ids)))
                assert await indexed(conn) == await expected(conn), write
            row = await conn.execute(
                sa.text(
                    "SELECT folded, document @@ websearch_to_tsquery('soilapi_english', "
                    "'Petursdottir') FROM search_entries WHERE origin_id = :id AND field = 'name'"
                ),
                {"id": NEW},
            )
            assert tuple(row.one()) == ("thorunn petursdottir", True)
        finally:
            await transaction.rollback()
        assert await indexed(conn) == await expected(conn)


async def lexicon(conn: AsyncConnection) -> dict[str, str]:
    rows = await conn.execute(sa.text("SELECT word, lexeme FROM search_words"))
    return {row[0]: row[1] for row in rows}


async def names_words(conn: AsyncConnection) -> set[str]:
    """Every word of every name field, cut and folded in SQL as the trigger does."""
    rows = await conn.execute(
        sa.text(
            "SELECT DISTINCT w FROM search_entries, "
            "regexp_split_to_table(folded, '[^[:alnum:]]+') AS w "
            "WHERE folded IS NOT NULL AND w <> ''"
        )
    )
    return {row[0] for row in rows}


async def test_the_lexicon_holds_every_word_of_the_names(engine: AsyncEngine) -> None:
    """`search_words`: each word of a name, acronym or alias once with its lexeme; stop words
    (no lexeme) and the words of descriptions, statements and quotes are not in it."""
    async with engine.connect() as conn:
        words = await lexicon(conn)
        named = await names_words(conn)
    stop_words = {"of", "the", "and", "on", "for", "in", "a", "to", "at", "by", "with", "from", "s"}
    # Every word of a name is there; words of names since changed stay (tests before this one
    # may have written), as a word no name has widens a query to nothing.
    assert named - stop_words <= set(words)
    assert not stop_words & set(words)
    assert words["petursdottir"] == "petursdottir"
    assert words["subregional"] == "subregion"
    assert words["partnerships"] == "partnership"
    assert words["inser"] == "inser"
    assert "compaction" not in words  # only in a statement


async def test_new_names_add_their_words(engine: AsyncEngine) -> None:
    ids = {"new": NEW, "name": NAME, "statement": STATEMENT, "source": SOURCE}
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            before = await lexicon(conn)
            for write in WRITES[:3]:
                await conn.execute(sa.text(write.format(**ids)))
            added = {w: lexeme for w, lexeme in (await lexicon(conn)).items() if w not in before}
            # "Þórunn Pétursdóttir" folds to "thorunn petursdottir", whose words are there
            # already; "TP" and the alias "Thorunn P." bring "tp" and "p".
            assert added == {"tp": "tp", "p": "p"}
        finally:
            await transaction.rollback()
