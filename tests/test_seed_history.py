"""The seed loader's revisions, and contributors' facts living beside the seed's.

Contributors' writes are made here as the write pipeline makes them: the row change plus a
revision recorded with `record()` by actor "key:test". Each test runs in a transaction that is
rolled back, so the session's seeded database stays as the seed made it.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from soilapi.repositories.history import NewRevision, record
from soilapi.seed.dataset import DATA_DIR, DOCUMENTS_DIR, Dataset, load_dataset
from soilapi.seed.history import Conflict
from soilapi.seed.loader import SeedReport, entity_id, load
from soilapi.vocab import Operation

GSP = entity_id("gsp")
EFSN = "eurasian-food-security-network"
EFSN_ENTRY = """  - kind: organization
    slug: eurasian-food-security-network
    name: "Eurasian Food Security Network"
    description: "Network named in the title of the International Conference on the Eurasian Food Security Network and the Eurasian Soil Partnership (Moscow, November 2013)."
    attrs:
      org_class: collaboration
      category: network
    sources:
      - {lines: "40", quote: "International Conference on the Eurasian Food Security Network", evidence: stated}

"""  # noqa: E501 - the entry as the data file has it


@pytest.fixture
async def conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        tx = await connection.begin()
        try:
            yield connection
        finally:
            await tx.rollback()


def dataset_without_efsn(tmp_path: Path) -> Dataset:
    """The dataset with the Eurasian Food Security Network taken out of 000.yaml."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    text = (data / "000.yaml").read_text(encoding="utf-8")
    assert text.count(EFSN_ENTRY) == 1
    (data / "000.yaml").write_text(text.replace(EFSN_ENTRY, ""), encoding="utf-8")
    return load_dataset(data, DOCUMENTS_DIR)


async def rows(conn: AsyncConnection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await conn.execute(sa.text(sql), params)).mappings()]


async def one(conn: AsyncConnection, sql: str, **params: Any) -> Any:
    return (await conn.execute(sa.text(sql), params)).scalar_one()


async def contribute(
    conn: AsyncConnection, target: uuid.UUID, kind: str, diff: dict[str, Any], op: Operation
) -> None:
    """Record a contributor's revision, as the write pipeline does after its row change."""
    change = NewRevision(target, kind, op, diff, "key:test", "partner", {"statedBy": "fao"})
    await record(conn, [change])


REVISIONS_OF = """
    SELECT number, operation, actor, actor_role, diff, provenance FROM revisions
    WHERE target_id = :id ORDER BY id
"""


async def test_the_first_load_recorded_one_creation_per_record_and_relation(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        found = await rows(
            conn,
            """SELECT kind = 'relation' AS relation, operation, actor, actor_role, number,
                      count(*) AS n
               FROM revisions GROUP BY 1, 2, 3, 4, 5""",
        )
        unrevised = await one(
            conn,
            """SELECT (SELECT count(*) FROM entities WHERE revision <> 1)
                    + (SELECT count(*) FROM relations WHERE revision <> 1)""",
        )
    per_file = Counter({(r["relation"], r["actor"]): r["n"] for r in found})
    assert {(r["operation"], r["actor_role"], r["number"]) for r in found} == {
        ("create", "seed", 1)
    }
    assert sum(n for (relation, _), n in per_file.items() if not relation) == 244
    assert sum(n for (relation, _), n in per_file.items() if relation) == 203
    assert {actor for _, actor in per_file} == {f"seed:00{i}.yaml" for i in range(4)}
    assert unrevised == 0


async def test_a_record_s_creation_holds_its_fields_with_their_precision(
    conn: AsyncConnection,
) -> None:
    (created,) = await rows(conn, REVISIONS_OF, id=entity_id("aspir"))
    diff = created["diff"]
    assert (created["number"], created["operation"]) == (1, "create")
    assert (created["actor"], created["actor_role"]) == ("seed:000.yaml", "seed")
    assert diff["kind"] == [None, "organization"]
    assert diff["name"] == [None, "Pyrenean Subregional Soil Partnership"]
    assert diff["acronym"] == [None, "ASPir"]
    assert diff["start"] == [None, "2021-05-27"]
    assert diff["org_class"] == [None, "collaboration"]
    variant = {
        "value": "Pyrenean Subregional SoilPartnership",
        "kind": "variant",
        "source": {
            "document": "000",
            "lines": {"start": 117, "end": 117},
            "quote": "Pyrenean Subregional SoilPartnership",
            "evidence": "stated",
        },
    }
    assert diff["names"] == [None, [variant]]
    assert all(before is None for before, _ in diff.values())
    (easp,) = await rows(conn, REVISIONS_OF, id=entity_id("easp"))
    assert easp["diff"]["start"] == [None, "2013-11"]  # a month, not "2013-11-01"


async def test_a_relation_s_creation_carries_its_excerpt_as_provenance(
    conn: AsyncConnection,
) -> None:
    speaker = await one(
        conn,
        """SELECT r.id FROM relations r JOIN entities s ON s.id = r.subject_id
           JOIN entities o ON o.id = r.object_id
           WHERE s.slug = 'lifeng-li' AND r.predicate = 'speaker_at'
             AND o.slug = 'inser-launch-rabat-2025'""",
    )
    (created,) = await rows(conn, REVISIONS_OF, id=speaker)
    assert created["actor"] == "seed:002.yaml"
    assert created["diff"]["subject"] == [None, "lifeng-li"]
    assert created["diff"]["object"] == [None, "inser-launch-rabat-2025"]
    assert created["provenance"]["document"] == "002"
    assert "Opening remarks by Mr. Lifeng Li" in created["provenance"]["quote"]
    assert created["diff"]["source"] == [None, created["provenance"]]


async def test_the_same_seed_twice_writes_nothing(conn: AsyncConnection) -> None:
    version = "SELECT coalesce(max(version), 0) FROM data_versions"
    before = (await one(conn, version), await one(conn, "SELECT count(*) FROM revisions"))
    report = await load(conn, load_dataset())
    after = (await one(conn, version), await one(conn, "SELECT count(*) FROM revisions"))
    assert (report.changes(), report.revisions, report.conflicts) == (0, 0, [])
    assert after == before


async def test_a_repair_is_an_update_with_its_diff(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("UPDATE entities SET name = 'Tampered' WHERE slug = 'gsp'"))
    report = await load(conn, load_dataset())
    assert report.revisions == 1
    latest = (await rows(conn, REVISIONS_OF, id=GSP))[-1]
    assert latest["number"] == 2
    assert latest["operation"] == "update"
    assert latest["actor"] == "seed:000.yaml"
    assert latest["diff"] == {"name": ["Tampered", "Global Soil Partnership"]}
    assert await one(conn, "SELECT revision FROM entities WHERE slug = 'gsp'") == 2


async def test_a_contributed_value_outlives_the_seed_and_is_reported(
    conn: AsyncConnection, caplog: pytest.LogCaptureFixture
) -> None:
    await conn.execute(sa.text("UPDATE entities SET name = 'GSP of FAO' WHERE slug = 'gsp'"))
    diff = {"name": ["Global Soil Partnership", "GSP of FAO"]}
    await contribute(conn, GSP, "organization", diff, Operation.UPDATE)
    revisions = await one(conn, "SELECT count(*) FROM revisions")
    report = await load(conn, load_dataset())
    assert report.conflicts == [Conflict("gsp", "name", "Global Soil Partnership", "GSP of FAO")]
    assert (report.changes(), report.revisions) == (0, 0)
    assert await one(conn, "SELECT name FROM entities WHERE slug = 'gsp'") == "GSP of FAO"
    assert await one(conn, "SELECT count(*) FROM revisions") == revisions
    assert 'gsp: name: the seed says "Global Soil Partnership"' in caplog.text


async def test_the_seed_still_changes_the_fields_nobody_contributed(
    conn: AsyncConnection,
) -> None:
    await conn.execute(sa.text("UPDATE entities SET name = 'GSP of FAO' WHERE slug = 'gsp'"))
    diff = {"name": ["Global Soil Partnership", "GSP of FAO"]}
    await contribute(conn, GSP, "organization", diff, Operation.UPDATE)
    # The seed's acronym drifted in the database (no revision says who): the seed's to repair.
    await conn.execute(sa.text("UPDATE entities SET acronym = 'G.S.P.' WHERE slug = 'gsp'"))
    report = await load(conn, load_dataset())
    assert len(report.conflicts) == 1
    gsp = (await rows(conn, "SELECT name, acronym FROM entities WHERE slug = 'gsp'"))[0]
    assert gsp == {"name": "GSP of FAO", "acronym": "GSP"}
    latest = (await rows(conn, REVISIONS_OF, id=GSP))[-1]
    assert (latest["actor"], latest["diff"]) == ("seed:000.yaml", {"acronym": ["G.S.P.", "GSP"]})


CONTRIBUTED_ORG = uuid.UUID("00000000-0000-4000-8000-00000000c0de")


async def add_contributed_org(conn: AsyncConnection, related_to: str) -> uuid.UUID:
    """A contributor's organisation, an alias it gave the GSP, and a relation of theirs."""
    org = {"id": CONTRIBUTED_ORG}
    await conn.execute(
        sa.text(
            """INSERT INTO entities (id, kind, slug, name)
               VALUES (:id, 'organization', 'contributed-org', 'Contributed Org')"""
        ),
        org,
    )
    await conn.execute(sa.text("INSERT INTO organizations (id) VALUES (:id)"), org)
    await contribute(
        conn, CONTRIBUTED_ORG, "organization", {"name": [None, "Contributed Org"]}, Operation.CREATE
    )
    relation = uuid.UUID("00000000-0000-4000-8000-00000000beef")
    await conn.execute(
        sa.text(
            """INSERT INTO relations (id, subject_id, predicate, object_id, rank, document_id,
                                      line_start, line_end, quote, evidence)
               SELECT :rel, :org, 'member_of', e.id, 'normal', d.id, 40, 40, 'Eurasian',
                      'stated'
               FROM entities e, source_documents d WHERE e.slug = :slug AND d.key = '000'"""
        ),
        {"rel": relation, "org": CONTRIBUTED_ORG, "slug": related_to},
    )
    await contribute(
        conn, relation, "relation", {"predicate": [None, "member_of"]}, Operation.CREATE
    )
    await conn.execute(
        sa.text(
            """INSERT INTO entity_names (id, entity_id, value, kind, document_id, line_start,
                                         line_end, quote, evidence)
               SELECT gen_random_uuid(), :gsp, 'Soil Partnership', 'alias', id, 7, 7,
                      'Established in 2012', 'stated' FROM source_documents WHERE key = '000'"""
        ),
        {"gsp": GSP},
    )
    alias = {"value": "Soil Partnership", "kind": "alias"}
    await contribute(conn, GSP, "organization", {"names": [[], [alias]]}, Operation.UPDATE)
    return relation


async def test_contributors_records_relations_and_sub_facts_are_never_deleted(
    conn: AsyncConnection,
) -> None:
    relation = await add_contributed_org(conn, "gsp")
    report = await load(conn, load_dataset())
    assert (report.changes(), report.revisions) == (0, 0)
    assert await one(conn, "SELECT slug FROM entities WHERE id = :id", id=CONTRIBUTED_ORG)
    assert await one(conn, "SELECT count(*) FROM relations WHERE id = :id", id=relation) == 1
    names = "SELECT value FROM entity_names WHERE entity_id = :id"
    assert [r["value"] for r in await rows(conn, names, id=GSP)] == ["Soil Partnership"]
    (conflict,) = report.conflicts
    assert (conflict.record, conflict.field, conflict.seed) == ("gsp", "names", [])
    assert [item["value"] for item in conflict.contributed] == ["Soil Partnership"]


async def test_a_fact_removed_from_the_seed_is_retired_with_its_last_values(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    report = await load(conn, dataset_without_efsn(tmp_path))
    assert report.revisions == 1
    assert await one(conn, "SELECT count(*) FROM entities WHERE slug = :s", s=EFSN) == 0
    retired = (await rows(conn, REVISIONS_OF, id=entity_id(EFSN)))[-1]
    assert (retired["number"], retired["operation"]) == (2, "retire")
    assert retired["actor"] == "seed:000.yaml"  # the file of the record's last seed revision
    assert retired["diff"]["name"] == ["Eurasian Food Security Network", None]
    assert retired["diff"]["org_class"] == ["collaboration", None]
    assert retired["diff"]["category"] == ["network", None]
    assert retired["provenance"]["lines"] == {"start": 40, "end": 40}
    assert retired["provenance"]["quote"] == (
        "International Conference on the Eurasian Food Security Network"
    )


async def test_a_record_a_contributor_relies_on_is_not_retired(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    await add_contributed_org(conn, EFSN)
    report: SeedReport = await load(conn, dataset_without_efsn(tmp_path))
    assert await one(conn, "SELECT count(*) FROM entities WHERE slug = :s", s=EFSN) == 1
    assert report.revisions == 0
    assert Conflict(EFSN, "(retired by the seed)", None, "contributors' rows point at it") in (
        report.conflicts
    )


async def test_a_contribution_diffed_by_column_names_is_recognised(
    conn: AsyncConnection,
) -> None:
    """A writer may name columns in its diff (`start_date`, `start_precision`): same field."""
    sql = "UPDATE entities SET start_date = '2013-01-01', start_precision = 'year' WHERE id = :id"
    await conn.execute(sa.text(sql), {"id": GSP})
    diff = {"start_date": ["2012-01-01", "2013-01-01"], "start_precision": ["year", "year"]}
    await contribute(conn, GSP, "organization", diff, Operation.UPDATE)
    report = await load(conn, load_dataset())
    assert report.conflicts == [Conflict("gsp", "start", "2012", "2013")]
    assert report.revisions == 0
