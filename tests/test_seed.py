"""The seeded database, checked against what the four source documents say.

The seeds (src/soilapi/seed/documents/*.txt) are the source of truth; the expected numbers are
the canonical counts of /work/shared/domain-notes.md §2.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from soilapi.db.attributes import Attribute, AttributeType, table_attributes
from soilapi.db.models import DERIVED, DETAIL_MODELS
from soilapi.seed.dataset import DATA_DIR, DOCUMENTS_DIR, DatasetError, load_dataset
from soilapi.seed.loader import TableReport, load
from soilapi.vocab import EntityKind

JUNK = "Discover how our advanced solutions"


async def fetch(engine: AsyncEngine, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Run one read-only query and return its rows as dicts."""
    async with engine.connect() as conn:
        result = await conn.execute(sa.text(sql), params)
        return [dict(row) for row in result.mappings()]


async def fetch_one(engine: AsyncEngine, sql: str, **params: Any) -> dict[str, Any]:
    rows = await fetch(engine, sql, **params)
    assert len(rows) == 1, rows
    return rows[0]


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar_one()


def normalise(text: str) -> str:
    """Whitespace-insensitive form: runs of spaces, no-break spaces and newlines become one."""
    return " ".join(text.replace("\u00a0", " ").split())


# --- counts -------------------------------------------------------------------------------

KIND_COUNTS = {
    # kind: (detail table, rows)
    "organization": ("organizations", 49),
    "programme": ("programmes", 12),
    "initiative": ("initiatives", 6),
    "facility_block": ("facility_blocks", 2),
    "facility": ("facilities", 12),
    "strategic_objective": ("strategic_objectives", 24),
    "task_force": ("task_forces", 10),
    "alliance": ("alliances", 0),
    "partner_agreement": ("partner_agreements", 22),
    "agreement_instrument": ("agreement_instruments", 22),
    "output": ("outputs", 15),
    "event": ("events", 16),
    "person": ("people", 4),
    "post": ("posts", 4),
    "document": ("documents", 11),
    "citation": ("citations", 15),
    "sdg_target": ("sdg_targets", 1),
    "place": ("places", 19),
}


@pytest.mark.parametrize(("kind", "table", "expected"), [(k, *v) for k, v in KIND_COUNTS.items()])
async def test_count_per_kind(engine: AsyncEngine, kind: str, table: str, expected: int) -> None:
    in_entities = await scalar(engine, "SELECT count(*) FROM entities WHERE kind = :k", k=kind)
    # Every entity row of a kind has exactly one detail row, and vice versa.
    in_detail = await scalar(
        engine,
        f"SELECT count(*) FROM {table} d JOIN entities e ON e.id = d.id WHERE e.kind = :k",  # noqa: S608
        k=kind,
    )
    all_detail = await scalar(engine, f"SELECT count(*) FROM {table}")  # noqa: S608
    assert (in_entities, in_detail, all_detail) == (expected, expected, expected)


async def test_no_entity_of_an_unexpected_kind(engine: AsyncEngine) -> None:
    rows = await fetch(engine, "SELECT kind, count(*) AS n FROM entities GROUP BY kind")
    expected = {kind: n for kind, (_, n) in KIND_COUNTS.items() if n}
    assert {r["kind"]: r["n"] for r in rows} == expected
    assert sum(expected.values()) == 244


async def test_source_documents(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine, "SELECT key, file_name, sha256, line_count, content FROM source_documents"
    )
    assert sorted(r["key"] for r in rows) == ["000", "001", "002", "003"]
    sha_prefix = {"000": "d8d6ea980fdf", "001": "265c1a9cf73a", "002": "e60a21d9917b",
                  "003": "8a4e3b204c2d"}  # fmt: skip
    line_counts = {"000": 123, "001": 94, "002": 25, "003": 105}
    for row in rows:
        raw = (DOCUMENTS_DIR / row["file_name"]).read_bytes()
        # Stored verbatim: the same bytes as the file shipped in the package.
        assert row["content"] == raw.decode("utf-8"), row["key"]
        assert row["sha256"] == hashlib.sha256(raw).hexdigest()
        assert row["sha256"].startswith(sha_prefix[row["key"]])
        assert row["line_count"] == line_counts[row["key"]]
        assert row["file_name"].startswith(row["key"] + "_")


async def test_party_to_relations(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT s.slug AS party, pa.ordinal, r.ordinal AS party_ordinal
        FROM relations r
        JOIN entities s ON s.id = r.subject_id
        JOIN partner_agreements pa ON pa.id = r.object_id
        WHERE r.predicate = 'party_to'
        """,
    )
    assert len(rows) == 23
    assert await scalar(engine, "SELECT count(*) FROM relations WHERE predicate = 'party_to'") == 23
    per_agreement = Counter(r["ordinal"] for r in rows)
    assert sorted(per_agreement) == list(range(1, 23))
    assert {o for o, n in per_agreement.items() if n != 1} == {19}
    item_19 = sorted((r["party_ordinal"], r["party"]) for r in rows if r["ordinal"] == 19)
    assert item_19 == [(1, "fao"), (2, "gsp")]
    item_20 = [r["party"] for r in rows if r["ordinal"] == 20]
    assert item_20 == ["un-decade-ecosystem-restoration"]


async def test_instruments_by_type(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        "SELECT instrument_type AS t, count(*) AS n FROM agreement_instruments GROUP BY 1",
    )
    assert {r["t"]: r["n"] for r in rows} == {
        "grant_agreement": 5,
        "secondment": 4,
        "memorandum_of_understanding": 5,
        "memorandum_of_agreement": 1,
        "hosting_agreement": 1,
        "funding_agreement": 3,
        "premises": 2,
        "invoice": 1,
    }


async def test_secondment_fte(engine: AsyncEngine) -> None:
    total = await scalar(
        engine,
        "SELECT sum(fte) FROM agreement_instruments WHERE instrument_type = 'secondment'",
    )
    assert total == Decimal("4.9")
    rows = await fetch(
        engine,
        """
        SELECT pa.ordinal, ai.fte FROM agreement_instruments ai
        JOIN partner_agreements pa ON pa.id = ai.agreement_id
        WHERE ai.instrument_type = 'secondment' ORDER BY pa.ordinal
        """,
    )
    assert [(r["ordinal"], r["fte"]) for r in rows] == [
        (1, Decimal(1)),
        (2, Decimal(1)),
        (3, Decimal("2.5")),
        (7, Decimal("0.4")),
    ]
    # FTE is only given for secondments.
    others = "SELECT count(*) FROM agreement_instruments WHERE instrument_type <> 'secondment'"
    assert await scalar(engine, others + " AND fte IS NOT NULL") == 0


async def test_agreements_without_instruments(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT pa.ordinal FROM partner_agreements pa
        WHERE NOT EXISTS (SELECT 1 FROM agreement_instruments ai WHERE ai.agreement_id = pa.id)
        ORDER BY pa.ordinal
        """,
    )
    assert [r["ordinal"] for r in rows] == [19, 20, 21, 22]


async def test_agreement_sort_dates_follow_their_instruments(engine: AsyncEngine) -> None:
    """The loader stores each agreement's earliest signature and start (soilapi.seed.loader.
    agreement_dates); worked out again here in SQL from the instruments, for every agreement."""
    rows = await fetch(
        engine,
        """
        SELECT pa.ordinal, pa.earliest_signed_date, pa.earliest_start_date,
               min(ai.signed_date) AS signed, min(coalesce(e.start_date, ai.signed_date)) AS began
        FROM partner_agreements pa
        LEFT JOIN agreement_instruments ai ON ai.agreement_id = pa.id
        LEFT JOIN entities e ON e.id = ai.id
        GROUP BY pa.id ORDER BY pa.ordinal
        """,
    )
    assert len(rows) == 22
    for row in rows:
        assert row["earliest_signed_date"] == row["signed"], row
        assert row["earliest_start_date"] == row["began"], row
    assert sum(r["signed"] is not None for r in rows) == 8
    assert sum(r["began"] is not None for r in rows) == 12


async def test_partner_ordinals_unique_and_complete(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT pa.ordinal, o.slug AS owner, pa.list_as_of_date, pa.list_as_of_precision
        FROM partner_agreements pa JOIN entities o ON o.id = pa.owner_id
        ORDER BY pa.ordinal
        """,
    )
    assert [r["ordinal"] for r in rows] == list(range(1, 23))
    assert {r["owner"] for r in rows} == {"4p1000"}
    # "Existing Partnerships (updated in October 2022)"
    assert {(r["list_as_of_date"], r["list_as_of_precision"]) for r in rows} == {
        (date(2022, 10, 1), "month")
    }


# --- spot checks --------------------------------------------------------------------------


async def entity(engine: AsyncEngine, slug: str) -> dict[str, Any]:
    return await fetch_one(engine, "SELECT * FROM entities WHERE slug = :slug", slug=slug)


@pytest.mark.parametrize(
    ("slug", "name", "start", "precision"),
    [
        ("gsp", "Global Soil Partnership", date(2012, 1, 1), "year"),
        ("esp", "European Soil Partnership", date(2013, 1, 1), "year"),
        ("easp", "Eurasian Subregional Soil Partnership", date(2013, 11, 1), "month"),
        ("aspir", "Pyrenean Subregional Soil Partnership", date(2021, 5, 27), "day"),
        ("wbsp", "Western Balkan Subregional Soil Partnership", date(2022, 11, 1), "month"),
    ],
)
async def test_partnership_dates(
    engine: AsyncEngine, slug: str, name: str, start: date, precision: str
) -> None:
    row = await entity(engine, slug)
    assert (row["name"], row["start_date"], row["start_precision"]) == (name, start, precision)
    assert row["kind"] == "organization"


async def test_acronyms(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        "SELECT slug, acronym FROM entities WHERE slug IN ('gsp', 'esp', 'easp', 'aspir', 'wbsp')",
    )
    assert {r["slug"]: r["acronym"] for r in rows} == {
        "gsp": "GSP",
        "esp": "ESP",
        "easp": "EASP",
        "aspir": "ASPir",
        "wbsp": "WBSP",
    }


async def test_wbsp_launched_in_budva(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT ev.slug, ev.start_date, ev.start_precision, place.name AS place,
               country.name AS country
        FROM relations r
        JOIN entities s ON s.id = r.subject_id
        JOIN entities ev ON ev.id = r.object_id
        JOIN events d ON d.id = ev.id
        JOIN entities place ON place.id = d.place_id
        JOIN places p ON p.id = place.id
        JOIN entities country ON country.id = p.parent_id
        WHERE s.slug = 'wbsp' AND r.predicate = 'launched_at'
        """,
    )
    assert rows == [
        {
            "slug": "wbsp-launch-budva-2022",
            "start_date": date(2022, 11, 1),
            "start_precision": "month",
            "place": "Budva",
            "country": "Montenegro",
        }
    ]


async def test_inser_launch_event(engine: AsyncEngine) -> None:
    row = await fetch_one(
        engine,
        """
        SELECT e.start_date, e.start_precision, d.category, d.attendance_mode,
               place.name AS place, country.name AS country
        FROM entities e JOIN events d ON d.id = e.id
        JOIN entities place ON place.id = d.place_id
        JOIN places p ON p.id = place.id
        JOIN entities country ON country.id = p.parent_id
        WHERE e.slug = 'inser-launch-rabat-2025'
        """,
    )
    assert row == {
        "start_date": date(2025, 9, 15),
        "start_precision": "day",
        "category": "launch_event",
        "attendance_mode": "mixed",
        "place": "Rabat",
        "country": "Morocco",
    }
    launched_at = await fetch(
        engine,
        """
        SELECT o.slug FROM relations r
        JOIN entities s ON s.id = r.subject_id JOIN entities o ON o.id = r.object_id
        WHERE s.slug = 'inser' AND r.predicate = 'launched_at'
        """,
    )
    assert launched_at == [{"slug": "inser-launch-rabat-2025"}]
    inser = await entity(engine, "inser")
    assert (inser["start_date"], inser["start_precision"]) == (date(2025, 9, 15), "day")


async def test_inser_quantities(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT s.slug, q.metric, q.value, q.qualifier FROM quantities q
        JOIN entities s ON s.id = q.subject_id
        WHERE s.slug IN ('inser', 'inser-launch-rabat-2025')
        ORDER BY q.metric
        """,
    )
    assert [(r["slug"], r["metric"], r["value"], r["qualifier"]) for r in rows] == [
        ("inser-launch-rabat-2025", "participants", Decimal(300), "more_than"),
        ("inser", "registered_members", Decimal(365), "exact"),
    ]


async def test_inser_launch_speakers_in_order_with_posts(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT r.ordinal, person.name AS person, post.name AS post, org.slug AS organization
        FROM relations r
        JOIN entities person ON person.id = r.subject_id
        JOIN entities ev ON ev.id = r.object_id
        LEFT JOIN relations h ON h.subject_id = person.id AND h.predicate = 'holds_post'
        LEFT JOIN entities post ON post.id = h.object_id
        LEFT JOIN posts p ON p.id = post.id
        LEFT JOIN entities org ON org.id = p.organization_id
        WHERE r.predicate = 'speaker_at' AND ev.slug = 'inser-launch-rabat-2025'
        ORDER BY r.ordinal
        """,
    )
    assert [(r["ordinal"], r["person"], r["post"], r["organization"]) for r in rows] == [
        (1, "Lifeng Li", "Director of FAO\u2019s Land and Water Division",
         "fao-land-and-water-division"),
        (2, "Ghaouti Lamiae", "Director General of INRA", "inra-morocco"),
        (3, "Yuxin Tong", "Land and Water Officer at FAO", "fao"),
        (4, "Thorunn Wolfram Petursdottir", "Secretary of the GSP", "gsp"),
    ]  # fmt: skip


async def test_ghaouti_lamiae_name_order_uncertain(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT e.slug, p.given_name, p.family_name, p.name_order_uncertain
        FROM people p JOIN entities e ON e.id = p.id ORDER BY e.slug
        """,
    )
    assert [tuple(r.values()) for r in rows] == [
        ("ghaouti-lamiae", None, None, True),
        ("lifeng-li", "Lifeng", "Li", False),
        ("thorunn-wolfram-petursdottir", "Thorunn Wolfram", "Petursdottir", False),
        ("yuxin-tong", "Yuxin", "Tong", False),
    ]


INSTRUMENT_SQL = """
    SELECT i.slug, ai.instrument_type, i.start_date, i.start_precision, i.end_date,
           i.end_precision, ai.signed_date, ai.signed_precision, ai.duration_months,
           ai.end_is_derived, party.slug AS party
    FROM agreement_instruments ai
    JOIN entities i ON i.id = ai.id
    JOIN partner_agreements pa ON pa.id = ai.agreement_id
    JOIN relations r ON r.object_id = pa.id AND r.predicate = 'party_to'
    JOIN entities party ON party.id = r.subject_id
    WHERE pa.ordinal = :ordinal
"""


async def test_agreement_5_giz_grant_stated_period(engine: AsyncEngine) -> None:
    row = await fetch_one(engine, INSTRUMENT_SQL, ordinal=5)
    assert row["party"] == "giz"
    assert row["instrument_type"] == "grant_agreement"
    assert (row["start_date"], row["start_precision"]) == (date(2021, 12, 1), "day")
    assert (row["end_date"], row["end_precision"]) == (date(2023, 3, 31), "day")
    assert row["end_is_derived"] is False
    sources = await fetch(
        engine,
        """
        SELECT s.evidence FROM entity_sources s JOIN entities e ON e.id = s.entity_id
        WHERE e.slug = :slug AND s.property = 'end'
        """,
        slug=row["slug"],
    )
    assert [s["evidence"] for s in sources] == ["stated"]


async def test_agreement_11_afris_mou_derived_end(engine: AsyncEngine) -> None:
    row = await fetch_one(engine, INSTRUMENT_SQL, ordinal=11)
    assert row["party"] == "afris"
    assert row["instrument_type"] == "memorandum_of_understanding"
    assert (row["signed_date"], row["signed_precision"]) == (date(2021, 9, 1), "day")
    assert row["duration_months"] == 36
    assert (row["end_date"], row["end_precision"]) == (date(2024, 9, 1), "day")
    assert row["end_is_derived"] is True
    sources = await fetch(
        engine,
        """
        SELECT s.evidence FROM entity_sources s JOIN entities e ON e.id = s.entity_id
        WHERE e.slug = :slug AND s.property = 'end'
        """,
        slug=row["slug"],
    )
    assert [s["evidence"] for s in sources] == ["derived"]


async def test_every_derived_end_is_signed_plus_duration(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT pa.ordinal, ai.signed_date, ai.duration_months, i.end_date, ai.end_is_derived,
               EXISTS (SELECT 1 FROM entity_sources s WHERE s.entity_id = i.id
                       AND s.property = 'end' AND s.evidence = 'derived') AS has_derived_source
        FROM agreement_instruments ai
        JOIN entities i ON i.id = ai.id
        JOIN partner_agreements pa ON pa.id = ai.agreement_id
        WHERE ai.end_is_derived OR ai.duration_months IS NOT NULL
        ORDER BY pa.ordinal
        """,
    )
    # "1 yr."/"3 yr."/"5 yr." with a signing date: items 9, 11-16 and 18.
    assert [r["ordinal"] for r in rows] == [9, 11, 12, 13, 14, 15, 16, 18]
    for r in rows:
        signed: date = r["signed_date"]
        months = signed.month - 1 + r["duration_months"]
        expected = signed.replace(year=signed.year + months // 12, month=months % 12 + 1)
        assert (r["end_date"], r["end_is_derived"], r["has_derived_source"]) == (
            expected,
            True,
            True,
        ), r


async def test_cf4_code_inferred_and_no_cf1(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT f.code, e.name, f.code_inferred, b.slug AS block
        FROM facilities f JOIN entities e ON e.id = f.id JOIN entities b ON b.id = f.block_id
        ORDER BY f.code
        """,
    )
    codes = [r["code"] for r in rows]
    assert codes == ["CF2", "CF3", "CF4", "CF5", "CF6", "CF7",
                     "GF1", "GF2", "GF3", "GF4", "GF5", "GF6"]  # fmt: skip
    assert "CF1" not in codes
    assert [r["code"] for r in rows if r["code_inferred"]] == ["CF4"]
    cf4 = rows[codes.index("CF4")]
    assert (cf4["name"], cf4["block"]) == ("Soil Health Programs", "4p1000-core-facilities")
    notes = await fetch(
        engine,
        """
        SELECT n.code, n.evidence FROM quality_notes n JOIN entities e ON e.id = n.subject_id
        WHERE e.slug = '4p1000-cf4'
        """,
    )
    assert {"code": "facility_code_inferred", "evidence": "inferred"} in notes
    cf1 = "SELECT count(*) FROM entities WHERE name ILIKE '%CF1%' OR slug ILIKE '%cf1%'"
    assert await scalar(engine, cf1) == 0


OBJECTIVES_BY_FACILITY = {
    "CF2": [],
    "CF3": ["C1", "A6", "C4"],
    "CF4": ["A1", "B1"],
    "CF5": ["A2", "A3", "A4", "D1", "D2"],
    "CF6": ["D4", "C3"],
    "CF7": ["F2", "F3"],
    "GF1": ["B2", "B3", "B4", "E1"],
    "GF2": ["A5"],
    "GF3": ["C2", "F1"],
    "GF4": ["D3"],
    "GF5": ["E2"],
    "GF6": ["E3"],
}


async def test_objective_labels_unique_each_in_one_facility(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT o.label, o.goal_letter, f.code, o.position
        FROM strategic_objectives o JOIN facilities f ON f.id = o.facility_id
        ORDER BY f.code, o.position
        """,
    )
    labels = [r["label"] for r in rows]
    assert len(labels) == 24
    assert len(set(labels)) == 24
    per_goal = {"A": 6, "B": 4, "C": 4, "D": 4, "E": 3, "F": 3}
    expected_labels = {f"{goal}{n}" for goal, top in per_goal.items() for n in range(1, top + 1)}
    assert set(labels) == expected_labels
    assert all(r["goal_letter"] == r["label"][0] for r in rows)
    by_facility: dict[str, list[str]] = {code: [] for code in OBJECTIVES_BY_FACILITY}
    for r in rows:
        by_facility[r["code"]].append(r["label"])
    assert by_facility == OBJECTIVES_BY_FACILITY
    # The 10 task forces are those of the Global Facilities' objectives.
    tf = await fetch(
        engine,
        """
        SELECT o.label FROM task_forces t JOIN strategic_objectives o ON o.id = t.objective_id
        JOIN facilities f ON f.id = o.facility_id WHERE f.code LIKE 'GF%'
        """,
    )
    assert sorted(r["label"] for r in tf) == sorted(
        label
        for code, ls in OBJECTIVES_BY_FACILITY.items()
        if code.startswith("GF")
        for label in ls
    )


async def test_document_symbols(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine, "SELECT e.slug, d.symbol FROM documents d JOIN entities e ON e.id = d.id"
    )
    symbols = {r["slug"]: r["symbol"] for r in rows}
    assert len(symbols) == 11
    expected = {
        "cbd-sbstta-24-inf-8": "CBD/SBSTTA/24/INF/8",
        "cbd-sbstta-24-7-rev1": "CBD/SBSTTA/24/7/Rev.1",
        "cbd-sbstta-24-l7": "CBD/SBSTTA/24/L.7",
        "cbd-sbstta-24-inf-14": "CBD/SBSTTA/24/INF/14",
        "cbd-sbi-3-inf-6": "CBD/SBI/3/INF/6",
        "cgrfa-14-13-19": "CGRFA-14/13/19",
        "cgrfa-16-17-inf-23": "CGRFA-16/17/Inf.23",
        "unep-ea-3-res-6": "UNEP/EA.3/Res.6",
    }
    assert {slug: symbols[slug] for slug in expected} == expected
    # The two COP decisions carry their decision numbers; the WBSP MoU has no symbol.
    assert symbols["cbd-cop-decision-viii-23"].endswith("VIII/23")
    assert symbols["cbd-cop-decision-14-30"].endswith("14/30")
    assert symbols["wbsp-mou-2022"] is None
    assert sum(s is not None for s in symbols.values()) == 10
    # Each symbol is also findable as a document_symbol identifier.
    ids = await fetch(
        engine,
        """
        SELECT e.slug, i.value FROM entity_identifiers i JOIN entities e ON e.id = i.entity_id
        WHERE i.scheme = 'document_symbol'
        """,
    )
    assert {(r["slug"], r["value"]) for r in ids} >= set(expected.items())


async def test_counted_citations_are_footnotes_1_to_15_of_003(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT c.footnote, sd.key FROM citations c
        JOIN source_documents sd ON sd.id = c.source_document_id ORDER BY c.footnote
        """,
    )
    assert [(r["footnote"], r["key"]) for r in rows] == [(n, "003") for n in range(1, 16)]


async def test_sdg_target(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT t.goal, t.target, s.slug AS contributor FROM sdg_targets t
        JOIN relations r ON r.object_id = t.id AND r.predicate = 'contributes_to'
        JOIN entities s ON s.id = r.subject_id
        """,
    )
    assert rows == [{"goal": 15, "target": "15.3", "contributor": "inser"}]


# --- provenance ---------------------------------------------------------------------------


async def test_every_entity_has_a_source(engine: AsyncEngine) -> None:
    rows = await fetch(
        engine,
        """
        SELECT e.slug FROM entities e
        WHERE NOT EXISTS (SELECT 1 FROM entity_sources s WHERE s.entity_id = e.id)
        """,
    )
    assert rows == []
    assert await scalar(engine, "SELECT count(*) FROM entity_sources") > 244


@pytest.mark.parametrize("slug", ["fao", "gsp"])
async def test_fao_and_gsp_sourced_from_all_four_documents(engine: AsyncEngine, slug: str) -> None:
    rows = await fetch(
        engine,
        """
        SELECT DISTINCT sd.key FROM entity_sources s
        JOIN entities e ON e.id = s.entity_id
        JOIN source_documents sd ON sd.id = s.document_id
        WHERE e.slug = :slug ORDER BY sd.key
        """,
        slug=slug,
    )
    assert [r["key"] for r in rows] == ["000", "001", "002", "003"]


PROVENANCE_TABLES = [
    "entity_sources",
    "relations",
    "quantities",
    "statements",
    "entity_names",
    "entity_identifiers",
    "quality_notes",
]


@pytest.mark.parametrize("table", PROVENANCE_TABLES)
async def test_every_quote_is_in_the_lines_it_cites(engine: AsyncEngine, table: str) -> None:
    documents = {
        r["id"]: (r["key"], r["content"].split("\n"))
        for r in await fetch(engine, "SELECT id, key, content FROM source_documents")
    }
    rows = await fetch(
        engine,
        f"SELECT id, document_id, line_start, line_end, quote, evidence FROM {table}",  # noqa: S608
    )
    assert rows, f"{table} is empty"
    bad = []
    for row in rows:
        key, lines = documents[row["document_id"]]
        start, end = row["line_start"], row["line_end"]
        if not 1 <= start <= end <= len(lines):
            bad.append((key, start, end, row["quote"], "lines out of range"))
            continue
        excerpt = normalise("\n".join(lines[start - 1 : end]))
        quote = normalise(row["quote"])
        if not quote or quote not in excerpt:
            bad.append((key, start, end, row["quote"]))
        assert row["evidence"] in {"stated", "derived", "inferred"}
    assert bad == []


# --- junk ---------------------------------------------------------------------------------


async def test_placeholder_junk_never_loaded(engine: AsyncEngine) -> None:
    """No text column holds the placeholder, except the verbatim copy of the document itself."""
    columns = await fetch(
        engine,
        """
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema()
          AND data_type IN ('text', 'character varying', 'ARRAY')
        ORDER BY table_name, column_name
        """,
    )
    checked = {(c["table_name"], c["column_name"]) for c in columns}
    # Sanity: the scan really covers the places a fact could be written.
    assert {("entities", "name"), ("entities", "description"), ("statements", "text"),
            ("quality_notes", "note"), ("source_documents", "notes"),
            ("facility_blocks", "column_headers"), ("relations", "quote")} <= checked  # fmt: skip
    hits = []
    async with engine.connect() as conn:
        for table, column in sorted(checked):
            query = (
                sa.select(sa.func.count())
                .select_from(sa.table(table))
                .where(sa.cast(sa.column(column), sa.Text).ilike(f"%{JUNK}%"))
            )
            n = (await conn.execute(query)).scalar_one()
            if n and (table, column) != ("source_documents", "content"):
                hits.append((table, column, n))
        # The verbatim source does contain it (4 times), so the scan would find a leak.
        content = sa.text("SELECT content FROM source_documents WHERE key = '000'")
        assert (await conn.execute(content)).scalar_one().count(JUNK) == 4
    assert hits == []


@pytest.mark.parametrize("junk", ["Read more", "No labels"])
async def test_link_text_and_footer_are_not_entities(engine: AsyncEngine, junk: str) -> None:
    pattern = f"%{junk}%"
    named = await fetch(
        engine,
        """
        SELECT slug, name FROM entities
        WHERE name ILIKE :p OR acronym ILIKE :p OR description ILIKE :p
        """,
        p=pattern,
    )
    aliases = await fetch(engine, "SELECT value FROM entity_names WHERE value ILIKE :p", p=pattern)
    said = await fetch(engine, "SELECT text FROM statements WHERE text ILIKE :p", p=pattern)
    assert (named, aliases, said) == ([], [], [])
    # The text is in the source, so the checks above are not vacuous.
    in_source = await scalar(
        engine, "SELECT count(*) FROM source_documents WHERE content LIKE :p", p=pattern
    )
    assert in_source == 1


# --- idempotent loading -------------------------------------------------------------------


def changes(reports: list[TableReport]) -> dict[str, tuple[int, int, int]]:
    """Tables the run touched, as (inserted, updated, deleted)."""
    return {
        r.table: (r.inserted, r.updated, r.deleted)
        for r in reports
        if r.inserted or r.updated or r.deleted
    }


async def relation_count(conn: AsyncConnection) -> int:
    return int((await conn.execute(sa.text("SELECT count(*) FROM relations"))).scalar_one())


SPEAKER_SQL = """
    SELECT r.id FROM relations r
    JOIN entities s ON s.id = r.subject_id JOIN entities o ON o.id = r.object_id
    WHERE s.slug = 'lifeng-li' AND r.predicate = 'speaker_at'
      AND o.slug = 'inser-launch-rabat-2025'
"""


async def test_reloading_changes_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as conn, conn.begin() as tx:
        try:
            reports = (await load(conn, load_dataset())).tables
        finally:
            await tx.rollback()
    assert changes(reports) == {}
    totals = {r.table: r.total for r in reports}
    assert totals["entities"] == 244
    assert totals["organizations"] == 49
    assert totals["source_documents"] == 4
    assert {"relations", "quantities", "statements", "entity_sources"} <= set(totals)


async def test_reloading_repairs_exactly_what_was_changed(engine: AsyncEngine) -> None:
    async with engine.connect() as conn, conn.begin() as tx:
        try:
            before = await relation_count(conn)
            speaker = (await conn.execute(sa.text(SPEAKER_SQL))).scalar_one()
            await conn.execute(sa.text("DELETE FROM relations WHERE id = :id"), {"id": speaker})
            await conn.execute(sa.text("UPDATE entities SET name = 'Tampered' WHERE slug = 'gsp'"))
            reports = (await load(conn, load_dataset())).tables
            assert changes(reports) == {"relations": (1, 0, 0), "entities": (0, 1, 0)}
            # Back to the dataset's content, under the same stable id.
            assert (await conn.execute(sa.text(SPEAKER_SQL))).scalar_one() == speaker
            assert await relation_count(conn) == before
            name = "SELECT name FROM entities WHERE slug = 'gsp'"
            assert (await conn.execute(sa.text(name))).scalar_one() == "Global Soil Partnership"
            again = (await load(conn, load_dataset())).tables
            assert changes(again) == {}
        finally:
            await tx.rollback()
    assert (await entity(engine, "gsp"))["name"] == "Global Soil Partnership"


async def test_reloading_removes_rows_the_dataset_does_not_have(engine: AsyncEngine) -> None:
    async with engine.connect() as conn, conn.begin() as tx:
        try:
            await conn.execute(
                sa.text(
                    """
                    INSERT INTO statements (id, subject_id, property, ordinal, text, document_id,
                                            line_start, line_end, quote, evidence)
                    SELECT gen_random_uuid(), e.id, 'note', 99, 'stray', sd.id, 7, 7,
                           'Established in 2012', 'stated'
                    FROM entities e, source_documents sd
                    WHERE e.slug = 'gsp' AND sd.key = '000'
                    """
                )
            )
            reports = (await load(conn, load_dataset())).tables
            assert changes(reports) == {"statements": (0, 0, 1)}
            stray = "SELECT count(*) FROM statements WHERE text = 'stray'"
            assert (await conn.execute(sa.text(stray))).scalar_one() == 0
        finally:
            await tx.rollback()


# --- the validator ------------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the data files; the documents stay the real ones."""
    target = tmp_path / "data"
    target.mkdir()
    for path in sorted(DATA_DIR.glob("*.yaml")):
        shutil.copy(path, target / path.name)
    assert sorted(p.name for p in target.iterdir()) == [
        "000.yaml",
        "001.yaml",
        "002.yaml",
        "003.yaml",
    ]
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_unmodified_copy_is_valid(data_copy: Path) -> None:
    ds = load_dataset(data_copy, DOCUMENTS_DIR)
    assert len(ds.entities) == 244
    assert len(ds.texts) == 4


def test_quote_not_in_document_is_rejected(data_copy: Path) -> None:
    edit(
        data_copy / "002.yaml",
        'quote: "Opening remarks by Mr. Lifeng Li"',
        'quote: "Closing remarks by Mr. Lifeng Li"',
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(data_copy, DOCUMENTS_DIR)
    message = str(info.value)
    assert "002.yaml" in message
    assert "Closing remarks by Mr. Lifeng Li" in message
    assert "lifeng-li speaker_at inser-launch-rabat-2025" in message
    assert len(message.splitlines()) == 1


def test_quote_from_other_lines_is_rejected(data_copy: Path) -> None:
    # The words exist in the document, but not on the cited line.
    edit(data_copy / "000.yaml",
         '{lines: "7", quote: "Established in 2012, the GSP aims"',
         '{lines: "9", quote: "Established in 2012, the GSP aims"')  # fmt: skip
    with pytest.raises(DatasetError, match=r"000\.yaml: .*gsp.*quote not found in 000:9-9"):
        load_dataset(data_copy, DOCUMENTS_DIR)


def test_unknown_slug_in_relation_is_rejected(data_copy: Path) -> None:
    edit(
        data_copy / "002.yaml",
        "{s: yuxin-tong, p: holds_post, o: fao-land-and-water-officer,",
        "{s: yuxin-tong, p: holds_post, o: fao-land-and-water-officr,",
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(data_copy, DOCUMENTS_DIR)
    message = str(info.value)
    assert "unknown slug 'fao-land-and-water-officr'" in message
    assert "yuxin-tong holds_post fao-land-and-water-officr" in message
    assert len(message.splitlines()) == 1


def test_objective_label_needs_a_goal_letter(data_copy: Path) -> None:
    """The `goalLetters` filter accepts vocab.GOAL_LETTERS: no objective may have another."""
    edit(data_copy / "001.yaml", "attrs: {label: A1,", "attrs: {label: G1,")
    with pytest.raises(DatasetError, match=r"001\.yaml: .*goal letter \(ABCDEF\).*'G1'"):
        load_dataset(data_copy, DOCUMENTS_DIR)


def test_unknown_slug_error_names_the_file(data_copy: Path) -> None:
    """FORMAT.md: an unknown slug "is an error that names the file and the record"."""
    edit(
        data_copy / "002.yaml",
        "{s: yuxin-tong, p: holds_post, o: fao-land-and-water-officer,",
        "{s: yuxin-tong, p: holds_post, o: fao-land-and-water-officr,",
    )
    with pytest.raises(DatasetError, match=r"002\.yaml"):
        load_dataset(data_copy, DOCUMENTS_DIR)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        # on an entity
        ("002.yaml", "    slug: rabat\n", "    slug: rabat\n    colour: red\n",
         r"002\.yaml: entities\[\d+\] rabat: unknown keys \['colour'\]"),
        # in an entity's attrs
        ("002.yaml", "      attendance_mode: mixed\n",
         "      attendance_mode: mixed\n      capacity: 300\n",
         r"002\.yaml: entities\[\d+\] inser-launch-rabat-2025 attrs: unknown keys \['capacity'\]"),
        # on a relation
        ("002.yaml", "{s: jrc, p: unit_of, o: european-commission,",
         "{s: jrc, p: unit_of, o: european-commission, since: 1958,",
         r"002\.yaml: relations\[\d+\] jrc unit_of european-commission: unknown keys \['since'\]"),
        # at the top of a file
        ("003.yaml", "genre: progress report\n", "genre: progress report\nauthor: FAO\n",
         r"003\.yaml: file: unknown keys \['author'\]"),
    ],
)  # fmt: skip
def test_unknown_key_is_rejected(
    data_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(data_copy / file, old, new)
    with pytest.raises(DatasetError, match=expected):
        load_dataset(data_copy, DOCUMENTS_DIR)


# --- attributes follow the model -----------------------------------------------------------


def test_a_new_column_is_a_checked_seed_attribute() -> None:
    """A column added to a kind's model is an `attrs:` key at once: its type, whether it is
    required and, for a reference, the kind it must name all come from the column."""
    metadata = sa.MetaData()
    DETAIL_MODELS[EntityKind.ORGANIZATION].__table__.to_metadata(metadata)
    table = sa.Table(
        "widgets",
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("website", sa.Text),
        sa.Column("staff", sa.Integer, nullable=False),
        sa.Column("opened_date", sa.Date),
        sa.Column("opened_precision", sa.String(5)),
        sa.Column("maker_id", sa.ForeignKey("organizations.id")),
        sa.Column("score", sa.Integer, info=DERIVED),
    )
    assert table_attributes(table) == (
        Attribute("website", AttributeType.TEXT, required=False),
        Attribute("staff", AttributeType.INTEGER, required=True),
        Attribute("opened", AttributeType.PARTIAL_DATE, required=False),
        Attribute("maker", AttributeType.REFERENCE, False, None, (EntityKind.ORGANIZATION,)),
    )
    with pytest.raises(TypeError, match=r"gadgets\.shape: no seed attribute type"):
        table_attributes(sa.Table("gadgets", metadata, sa.Column("shape", sa.JSON)))


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        # an enum column: its values
        ("002.yaml", "attendance_mode: mixed\n", "attendance_mode: sideways\n",
         r"inser-launch-rabat-2025 attrs\.attendance_mode: 'sideways' is not one of: in_person"),
        # a reference: the kind of the table its foreign key names
        ("002.yaml", "      place: rabat\n", "      place: lifeng-li\n",
         r"attrs\.place: 'lifeng-li' is a person, expected place"),
        # a column neither nullable nor defaulted: required
        ("001.yaml", "code: CF2, code_inferred: false, position: 1}", "code: CF2}",
         r"4p1000-cf2: attrs\.position is required for facility"),
        # a derived column is not written in seed files
        ("001.yaml", "attrs: {label: A1,", "attrs: {goal_letter: A, label: A1,",
         r"001\.yaml: entities\[\d+\] .* attrs: unknown keys \['goal_letter'\]"),
    ],
)  # fmt: skip
def test_attributes_are_checked_as_their_columns_say(
    data_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(data_copy / file, old, new)
    with pytest.raises(DatasetError, match=expected):
        load_dataset(data_copy, DOCUMENTS_DIR)
