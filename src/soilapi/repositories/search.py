"""Search and name matching over `search_entries` (soilapi.db.search): the SQL of both.

A search is one statement: the entries whose tsvector has the query's words (GIN on
`document`) or, when no name has them, the names close to the query by trigrams (GIN on
`folded`: a typo, a part of a word), each scored, the best entry of each record kept, then a
keyset page of records by score. The scoring is written once, here:

- an entry of a name field (name, acronym, alias) that equals the query once both are
  lower-cased and stripped of accents scores 1: an exact name or acronym hit comes first;
- an entry with the words scores `ts_rank` of its weighted tsvector (names count 1,
  descriptions 0.5, statements 0.4, source quotes 0.3: RANK_WEIGHTS), divided by 1 + the log
  of its length, so shorter texts first;
- a name found by trigrams scores the mean of `word_similarity` (the query within the name)
  and `similarity` (the whole name); such names are looked for only among the names with, for
  each word of the query, that word when the lexicon has it, else a word of the lexicon close
  to it (`widened`);

all but exact hits capped at 0.99. Scores are kept to 6 decimals as integers, so the sort key
of a cursor (score, then the record's id) is exact.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, aggregate_order_by, distinct_on

from soilapi.db import models as m
from soilapi.db.search import (
    FOLD_FUNCTION,
    TEXT_SEARCH_CONFIG,
    WORD_PATTERN,
    SearchEntry,
    SearchWord,
)
from soilapi.db.session import Reader
from soilapi.repositories.paging import (
    ColumnElement,
    Slice,
    Window,
    compiled_once,
    cursor_values,
    keyset_condition,
    order_by,
    to_slice,
)
from soilapi.vocab import NAME_FIELDS, EntityKind, SearchField, SearchLanguage

# The text search configuration of each query language. Entries are indexed with English
# today; a language added here gets its own configuration (and its names their own entries).
LANGUAGES: dict[SearchLanguage, str] = {SearchLanguage.ENGLISH: TEXT_SEARCH_CONFIG}
# ts_rank's factor for each tsvector weight, in its order {D, C, B, A}: source quotes, statements,
# descriptions, names (soilapi.db.search.WEIGHTS says which field has which weight).
RANK_WEIGHTS = (0.3, 0.4, 0.5, 1.0)
SCORE_SCALE = 1_000_000
# The best entry of a record when two score the same: names before descriptions ... quotes.
FIELD_ORDER = tuple(SearchField)
# ts_headline's options: matched words in <mark>...</mark>; a name whole, a longer text cut
# to its two best fragments.
_MARKS = "StartSel=<mark>, StopSel=</mark>"
WHOLE = f"{_MARKS}, HighlightAll=true"
FRAGMENTS = f'{_MARKS}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'

# pg_trgm's default threshold of `<%` (pg_trgm.word_similarity_threshold), written out: the
# function form is compared with it where the operator would draw in the trigram index of
# 400,000 names (see `widened`).
WORD_SIMILARITY = 0.6

_ENTRIES = SearchEntry.__table__
_WORDS = SearchWord.__table__
_ENTITIES = m.Entity.__table__


@dataclass(frozen=True)
class SearchFilter:
    """A checked search (soilapi.services.search): the query and its filters."""

    text: str
    language: SearchLanguage = SearchLanguage.ENGLISH
    kinds: tuple[EntityKind, ...] | None = None
    countries: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Hit:
    """One record found, with the entry that scored best for it."""

    entity_id: uuid.UUID
    field: SearchField
    text: str
    score: float
    snippet: str


# The columns of a page of hits (`page_statement`), as both engines read a hit's fields from
# them: the resolvers through `Hit`, the SQL compiler (soilapi.repositories.json_query) as the
# columns of a plain row.
SEARCH_COLUMNS: dict[str, Any] = {
    "entity_id": sa.column("entity_id", sa.Uuid(as_uuid=True)),
    "field": sa.column("field", sa.Enum(SearchField, native_enum=False)),
    "text": sa.column("text", sa.Text()),
    "score": sa.column("score", sa.Float()),
    "snippet": sa.column("snippet", sa.Text()),
}


def _query() -> Any:
    return sa.bindparam("query", type_=sa.Text)


def config(language: SearchLanguage) -> ColumnElement:
    """The text search configuration of a language, as a constant of the SQL."""
    return sa.literal_column(f"'{LANGUAGES[language]}'::regconfig")


def words(language: SearchLanguage) -> ColumnElement:
    """The query's words as a tsquery: AND of stems, "quoted phrases", `or`, `-excluded`.

    A subquery, which PostgreSQL runs once (an InitPlan), and so its plans cannot see the
    query's words. Planned for the words at hand, a search cost 0.6-1 ms of planning at
    every run, a fifth of its database time; planned for any words, the function in place
    ran again for each entry compared. Computed once, every search of a shape shares one plan
    (its page sizes are in its text: `page_statement`), found as good (bench.search_costs).
    """
    return sa.select(sa.func.websearch_to_tsquery(config(language), _query())).scalar_subquery()


def folded_query() -> ColumnElement:
    """The query lower-cased, without accents: compared with the entries' `folded` names.
    Computed once, as `words` is."""
    return sa.select(getattr(sa.func, FOLD_FUNCTION)(_query(), type_=sa.Text)).scalar_subquery()


def _rank_weights() -> ColumnElement:
    return sa.literal_column(f"'{{{','.join(map(str, RANK_WEIGHTS))}}}'::real[]")


def _key(score: ColumnElement) -> ColumnElement:
    """A score times SCORE_SCALE, as an integer: an exact sort key for cursors."""
    return sa.cast(sa.func.round(sa.cast(score, sa.Float) * SCORE_SCALE), sa.Integer)


def _exact_or(entries: Any, other: ColumnElement) -> ColumnElement:
    """1 for a name equal to the query (case and accents aside), else `other` capped at 0.99."""
    exact = entries.c.folded == folded_query()
    best = sa.func.least(sa.literal(0.99, sa.Float), other)
    return _key(sa.case((exact, sa.literal(1.0, sa.Float)), else_=best))


def _columns(entries: Any, score: ColumnElement) -> list[ColumnElement]:
    return [
        entries.c.entity_id,
        entries.c.field,
        entries.c.origin_id,
        score.label("score_key"),
    ]


def widened(folded: ColumnElement, language: SearchLanguage) -> ColumnElement:
    """The words a (folded) text probably meant, as a tsquery: for each of its words (stop
    words aside), the word's own lexeme when the lexicon has the word (btree on
    `search_words.word`), else any lexeme of the lexicon's words that hold most of it by
    trigrams (`<%`, GIN on `search_words.word`: "peatlnad" gives peatland, "petursd"
    petursdottir); all of its words. NULL when no word has a close one.

    Names close to a text by trigrams are found among the names with these (GIN on
    `document`), not by comparing the text with every name: a query's trigrams ("soi",
    "oil") are shared by thousands of names, each of which the trigram index hands on to be
    compared (tens of milliseconds at scale 100, against one or two). A word the lexicon
    has is taken as typed: widened, a common word ("land") brought every name with a word
    holding it (dryland, peatland, rangeland: a third of the synthetic names) to be compared,
    50 ms for "Dryland Land Founadtion"; as typed, only the misspelt word is widened.
    """
    word = (
        sa.func.regexp_split_to_table(folded, WORD_PATTERN)
        .table_valued("word", with_ordinality="at")
        .render_derived(name="w")
    )
    known = _WORDS.alias("k")
    close = _WORDS.alias("l")
    as_typed = sa.select(known.c.lexeme).where(known.c.word == word.c.word).correlate(word)
    # Looked for only when the word is not in the lexicon: a one-time filter of each word.
    nearby = (
        sa.select(close.c.lexeme)
        .where(word.c.word.op("<%")(close.c.word), ~sa.exists(as_typed))
        .correlate(word)
    )
    lexemes = sa.union_all(as_typed, nearby).lateral("m")
    lexeme = sa.func.quote_literal(lexemes.c.lexeme)
    meant = (
        sa.select(
            sa.func.string_agg(sa.distinct(lexeme), sa.literal(" | ")).label("alternatives"),
            sa.func.min(word.c.at).label("at"),
        )
        .select_from(word.join(lexemes, sa.true()))
        .where(sa.func.length(sa.func.to_tsvector(config(language), word.c.word)) > 0)
        .group_by(word.c.word)
        .subquery("meant")
    )
    each = sa.literal("(").op("||")(meant.c.alternatives).op("||")(sa.literal(")"))
    # In the query's order, so that the same query always reads the same.
    joined = sa.func.string_agg(each, aggregate_order_by(sa.literal(" & "), meant.c.at))
    return sa.select(sa.cast(joined, TSQUERY)).scalar_subquery()


def close_names(entries: Any, folded: ColumnElement, meant: ColumnElement) -> ColumnElement:
    """Names of `entries` that hold most of a (folded) text by trigrams, among those with the
    lexemes it probably meant (`widened`)."""
    within = sa.func.word_similarity(folded, entries.c.folded) >= WORD_SIMILARITY
    return sa.and_(entries.c.document.op("@@")(meant), entries.c.folded.is_not(None), within)


def hits(language: SearchLanguage, name: str = "worded") -> Any:
    """Every matching entry with its score (see the module); `name` names its CTE, apart
    from another's in one statement (the SQL compiler's page and count).

    Trigrams are the fallback of words: names are compared by trigrams only when no name has
    the query's words (a typo, a part of a word no stem shares). Trigram candidates are many
    where names share their words (the synthetic registry's 380,000 names come from sixty
    words), and each costs a similarity computation, while the words' own matches are few and
    cheap; the fallback runs (an InitPlan's one-time filter) only when it is needed.
    """
    w = _ENTRIES.alias("w")
    # Divided by 1 + log(words in the text) (normalisation 1): shorter texts rank first.
    rank = sa.func.ts_rank(_rank_weights(), w.c.document, words(language), 1)
    worded = (
        sa.select(*_columns(w, _exact_or(w, rank)), w.c.folded)
        .where(w.c.document.op("@@")(words(language)))
        .cte(name)
    )
    named = sa.exists(sa.select(sa.literal(1)).where(worded.c.folded.is_not(None)))
    f = _ENTRIES.alias("f")
    folded = folded_query()
    closeness = (
        sa.func.word_similarity(folded, f.c.folded) + sa.func.similarity(folded, f.c.folded)
    ) / 2
    fuzzy = sa.select(*_columns(f, _exact_or(f, closeness))).where(
        close_names(f, folded, widened(folded, language)), ~named
    )
    listed = [worded.c[name] for name in ("entity_id", "field", "origin_id", "score_key")]
    return sa.union_all(sa.select(*listed), fuzzy).subquery("hits")


def _field_order(found: Any) -> ColumnElement:
    return sa.case({field.value: i for i, field in enumerate(FIELD_ORDER)}, value=found.c.field)


def _filters(f: SearchFilter, entity_id: ColumnElement) -> list[ColumnElement]:
    """The kinds and countries asked for, checked on each found record by its primary key.

    A scalar subquery rather than a join: the planner, unable to tell how few records a
    search finds, hashed every record of the kind first (60 ms at scale 100)."""
    records = _ENTITIES.alias("e")
    checks: list[ColumnElement] = []
    if f.kinds:
        kinds = sa.bindparam("kinds", type_=ARRAY(sa.String))
        checks.append(records.c.kind == sa.any_(kinds))
    if f.countries:
        countries = sa.bindparam("countries", type_=ARRAY(sa.String))
        checks.append(records.c.country_code == sa.any_(countries))
    if not checks:
        return []
    kept = sa.select(sa.and_(*checks)).where(records.c.id == entity_id).scalar_subquery()
    return [kept.is_(True)]


def search_values(f: SearchFilter) -> dict[str, Any]:
    """The binds of a search's statements (page and count): its query and filters."""
    values: dict[str, Any] = {"query": f.text}
    if f.kinds:
        values["kinds"] = [kind.value for kind in f.kinds]
    if f.countries:
        values["countries"] = list(f.countries)
    return values


def search_shape(f: SearchFilter) -> tuple[Any, ...]:
    """What of a search shapes its SQL (its values are binds: `search_values`)."""
    return (f.language, bool(f.kinds), bool(f.countries))


def _best_entries(language: SearchLanguage) -> Any:
    """The best-scoring matching entry of each record."""
    found = hits(language)
    return (
        sa.select(found.c.entity_id, found.c.field, found.c.origin_id, found.c.score_key)
        .ext(distinct_on(found.c.entity_id))
        .order_by(
            found.c.entity_id, found.c.score_key.desc(), _field_order(found), found.c.origin_id
        )
        .subquery("best")
    )


def page_statement(f: SearchFilter, window: Window) -> tuple[Any, int]:
    """The page's records in order, with their best entry, score and snippet
    (SEARCH_COLUMNS, then the sort key k0, k1): the resolvers run it as it is, the SQL
    compiler as the rows of its JSON, so the ranking is written once. Its LIMIT is the
    window's size + 1, in the text: with a bound LIMIT, the plan for any words looked worse
    than one for the words at hand, and PostgreSQL planned each search again.

    The page is cut first (score, then id: `sort`), and only its rows are joined to their
    records and given a headline: both cost far more per row than the ranking. Records are
    joined before the cut only to filter them by kind or country.
    """
    best = _best_entries(f.language)
    sort = [-best.c.score_key, best.c.entity_id]
    where = _filters(f, best.c.entity_id)
    page = (
        sa.select(
            best.c.entity_id,
            best.c.field,
            best.c.origin_id,
            best.c.score_key,
            *(c.label(f"k{i}") for i, c in enumerate(sort)),
        )
        .where(*where, *keyset_condition(sort, window, named=True))
        .order_by(*order_by(sort, window))
        .limit(sa.literal(window.limit + 1, sa.Integer))
        .subquery("page")
    )
    # The text of each of the page's entries, by its primary key: read before the cut, the
    # texts of every match went through the sorts that keep each record's best entry.
    entry = _ENTRIES.alias("t")
    text = entry.c.text
    escaped: ColumnElement = text
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        escaped = sa.func.replace(escaped, char, entity)
    names = [field.value for field in NAME_FIELDS]

    def headline(options: str) -> ColumnElement:
        return sa.func.ts_headline(config(f.language), escaped, words(f.language), options)

    is_name = page.c.field == sa.any_(sa.literal(names, ARRAY(sa.String)))
    snippet = sa.case((is_name, headline(WHOLE)), else_=headline(FRAGMENTS))
    keys = [page.c[f"k{i}"] for i in range(len(sort))]
    # The records themselves load by id (the request's entity loader, or the SQL compiler's
    # JSON): read here, their 18 detail subqueries tripled the planning of this statement,
    # which runs a custom plan each time (its costs depend on the query's words).
    scale = sa.literal_column(str(SCORE_SCALE), sa.Float)
    score = sa.cast(page.c.score_key, sa.Float) / scale  # a double, as Python divides
    stmt = sa.select(
        page.c.entity_id.label("entity_id"),
        page.c.field.label("field"),
        text.label("text"),
        score.label("score"),
        snippet.label("snippet"),
        *keys,
    )
    on_entry = sa.and_(entry.c.origin_id == page.c.origin_id, entry.c.field == page.c.field)
    stmt = stmt.select_from(page.join(entry, on_entry)).order_by(*order_by(keys, window))
    return stmt, len(sort)


def _window_form(window: Window) -> tuple[Any, ...]:
    return (
        None if window.after is None else len(window.after),
        None if window.before is None else len(window.before),
        window.from_end,
    )


def _hit(row: Any, key_len: int) -> tuple[Hit, ...]:
    keys = tuple(row[f"k{i}"] for i in range(key_len))
    hit = Hit(
        entity_id=row["entity_id"],
        field=SearchField(row["field"]),
        text=row["text"],
        score=row["score"],
        snippet=row["snippet"],
    )
    return (hit, *keys)


async def search_page(reader: Reader, f: SearchFilter, window: Window) -> Slice:
    """One page of hits, best first (ties by id); rows are `Hit`s, whose records the caller
    loads by id."""
    form = ("search-page", *search_shape(f), *_window_form(window), window.limit)
    prepared, key_len = compiled_once(form, lambda: page_statement(f, window))
    given = {**cursor_values(window), **search_values(f)}
    rows = await reader.fetch(prepared, given)
    return to_slice([_hit(row, key_len) for row in rows], key_len, window)


def count_select(f: SearchFilter) -> sa.Select[Any]:
    """How many records a search finds, all pages (binds: `search_values`)."""
    found = hits(f.language, "counted")
    count = sa.func.count(sa.distinct(found.c.entity_id))
    return sa.select(count).where(*_filters(f, found.c.entity_id))


async def search_count(reader: Reader, f: SearchFilter) -> int:
    """How many records the search finds, all pages."""
    prepared, _ = compiled_once(("search-count", *search_shape(f)), lambda: (count_select(f), 0))
    rows = await reader.fetch(prepared, search_values(f))
    return int(rows[0][0])


# --- name matching -------------------------------------------------------------------------


@dataclass(frozen=True)
class NameEntry:
    """A name of a candidate record, and how close it came to the closest probe: trigram
    `similarity` of the whole name, `word_similarity` of the probe within the name."""

    field: SearchField
    text: str
    folded: str
    similarity: float
    within: float


@dataclass(frozen=True)
class Candidate:
    """A record whose names came close to a name being matched (loaded by id later)."""

    id: uuid.UUID
    name: str
    country_code: str | None
    names: tuple[NameEntry, ...]


def _probes() -> Any:
    return (
        sa.func.unnest(sa.bindparam("probes", type_=ARRAY(sa.Text)))
        .table_valued("probe")
        .render_derived(name="p")
    )


def _close_names(entries: Any, probes: Any, close: ColumnElement) -> Any:
    """Names meeting a probe by `close`, each with its closest similarity to a probe (whole
    name) and word similarity (the probe within the name)."""
    probe = probes.c.probe
    similar = sa.func.max(sa.func.similarity(probe, entries.c.folded))
    within = sa.func.max(sa.func.word_similarity(probe, entries.c.folded))
    return (
        sa.select(
            entries.c.entity_id,
            entries.c.field,
            entries.c.text,
            entries.c.folded,
            similar.label("similarity"),
            within.label("within"),
        )
        .select_from(probes.join(entries, close))
        .group_by(entries.c.entity_id, entries.c.origin_id, entries.c.field)
    )


def candidates_statement(with_kinds: bool) -> tuple[Any, int]:
    """Records with a name meeting a probe, the `:limit` closest, each with all its names as
    JSON. A name meets a probe when it has all its words (GIN on `document`); when no name has
    the words of any probe, when it holds most of the probe by pg_trgm's word similarity
    (0.6 or more: typos), among the names with the words it probably meant (`widened`). As in
    `hits`, trigrams are the fallback: among names that share their words, they bring thousands
    of candidates, each compared. A whole
    name given is close to its record's name, and so is each of its parts: probes are the
    name's parts too (soilapi.services.matching)."""
    probes = _probes()
    entries = _ENTRIES.alias("w")
    words_of = sa.func.plainto_tsquery(config(SearchLanguage.ENGLISH), probes.c.probe)
    worded = _close_names(
        entries,
        probes,
        sa.and_(entries.c.document.op("@@")(words_of), entries.c.folded.is_not(None)),
    ).cte("worded")
    fuzzy_probes = _probes()
    meant = sa.select(
        fuzzy_probes.c.probe, widened(fuzzy_probes.c.probe, SearchLanguage.ENGLISH).label("meant")
    ).cte("meant")
    fuzzy_entries = _ENTRIES.alias("f")
    fuzzy = _close_names(
        fuzzy_entries, meant, close_names(fuzzy_entries, meant.c.probe, meant.c.meant)
    ).where(~sa.exists(sa.select(sa.literal(1)).select_from(worded)))
    columns = ("entity_id", "field", "text", "folded", "similarity", "within")
    names = sa.union_all(sa.select(*(worded.c[c] for c in columns)), fuzzy).subquery("names")
    found = _ENTITIES.alias("e")
    kinds = found.c.kind == sa.any_(sa.bindparam("kinds", type_=ARRAY(sa.String)))
    kept = sa.select(kinds).where(found.c.id == names.c.entity_id).scalar_subquery().is_(True)
    closest = sa.func.max(sa.func.greatest(names.c.similarity, names.c.within))
    best = (
        sa.select(names.c.entity_id, closest.label("best"))
        .where(*([kept] if with_kinds else []))
        .group_by(names.c.entity_id)
        .order_by(sa.desc("best"), names.c.entity_id)
        .limit(sa.bindparam("limit"))
        .subquery("best")
    )
    # Every name of each candidate, not only the close ones: a name given may join two
    # ("GSP Global Soil Partnership" is an acronym and a name).
    own = _ENTRIES.alias("n")

    def closest_by(function: str) -> ColumnElement:
        asked = _probes()
        measure = getattr(sa.func, function)(asked.c.probe, own.c.folded)
        return sa.select(sa.func.max(measure)).select_from(asked).scalar_subquery()

    row = sa.func.json_build_array(
        own.c.field,
        own.c.text,
        own.c.folded,
        closest_by("similarity"),
        closest_by("word_similarity"),
    )
    listed = (
        sa.select(sa.func.json_agg(row))
        .where(own.c.entity_id == best.c.entity_id, own.c.folded.is_not(None))
        .scalar_subquery()
    )
    record = _ENTITIES.alias("r")
    stmt = (
        sa.select(
            record.c.id,
            record.c.name,
            record.c.country_code,
            sa.cast(listed, sa.Text).label("close_names"),
        )
        .select_from(best.join(record, record.c.id == best.c.entity_id))
        .order_by(best.c.best.desc(), best.c.entity_id)
    )
    return stmt, 0


async def name_candidates(
    reader: Reader, probes: Sequence[str], kinds: Sequence[EntityKind] | None, limit: int
) -> list[Candidate]:
    """The `limit` records with names closest to any of the (folded) probes, closest first."""
    form = ("match-candidates", bool(kinds))
    prepared, _ = compiled_once(form, lambda: candidates_statement(bool(kinds)))
    values: dict[str, Any] = {"probes": list(dict.fromkeys(probes)), "limit": limit}
    if kinds:
        values["kinds"] = [kind.value for kind in kinds]
    found = []
    for row in await reader.fetch(prepared, values):
        names = tuple(
            NameEntry(SearchField(field), text, folded, float(similar), float(within))
            for field, text, folded, similar, within in _json_list(row["close_names"])
        )
        found.append(Candidate(row["id"], row["name"], row["country_code"], names))
    return found


def _json_list(raw: str | None) -> list[Any]:
    return list(orjson.loads(raw)) if raw else []
