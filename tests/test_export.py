"""The full dump (`soilapi export`, `GET /export.jsonl|csv`): every record once, global IDs
that `node(id:)` resolves, partial dates with their precision, and the feed cursor it is at."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.conftest import Api, app_client

from soilapi.cli import export_dump
from soilapi.graphql import ids
from soilapi.graphql.dump import ENCODERS
from soilapi.graphql.pagination import feed_cursor
from soilapi.services import export

NODES = """query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Entity { slug } } }"""


async def jsonl_entries(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with export.open_dump(engine, ENCODERS) as dump:
        return [orjson.loads(line) async for line in export.jsonl(dump)]


async def last_revision(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT max(id) FROM revisions"))).scalar_one())


async def test_the_dump_has_every_record_and_relation_once(engine: AsyncEngine) -> None:
    header, *entries = await jsonl_entries(engine)
    async with engine.connect() as conn:
        slugs = (await conn.execute(sa.text("SELECT slug FROM entities"))).scalars().all()
        relations = (await conn.execute(sa.text("SELECT id::text FROM relations"))).scalars()
        relation_ids = set(relations.all())
    records = [e for e in entries if e["type"] == "record"]
    linked = [e for e in entries if e["type"] == "relation"]
    assert (len(records), len(linked), len(entries)) == (244, 203, 447)
    assert sorted(e["slug"] for e in records) == sorted(slugs)
    # A relation's `id` is its global ID, as `Relation.id` and `relationRetire` have it.
    assert {e["id"] for e in linked} == {ids.encode("Relation", uuid.UUID(r)) for r in relation_ids}
    assert len({e["id"] for e in records}) == 244
    assert header["type"] == "header"
    assert (header["format"], header["version"]) == ("soilapi-dump", 1)


async def test_the_cursor_is_the_feed_position_of_the_snapshot(engine: AsyncEngine) -> None:
    header = (await jsonl_entries(engine))[0]
    latest = await last_revision(engine)
    assert header["revision"] == latest
    assert header["cursor"] == feed_cursor(latest)


async def test_global_ids_resolve_with_node(engine: AsyncEngine, api: Api) -> None:
    records = [e for e in await jsonl_entries(engine) if e["type"] == "record"]
    found: dict[str, str] = {}
    for start in range(0, len(records), 100):
        ids = [e["id"] for e in records[start : start + 100]]
        nodes = (await api.data(NODES, {"ids": ids}))["nodes"]
        found.update((node["id"], node["slug"]) for node in nodes)
    assert found == {e["id"]: e["slug"] for e in records}


async def test_partial_dates_keep_their_precision(engine: AsyncEngine) -> None:
    by_slug = {e.get("slug"): e for e in await jsonl_entries(engine)}
    assert by_slug["gsp"]["start"] == {"iso": "2012", "precision": "YEAR"}
    assert by_slug["easp"]["start"] == {"iso": "2013-11", "precision": "MONTH"}
    assert by_slug["aspir"]["start"] == {"iso": "2021-05-27", "precision": "DAY"}
    assert by_slug["aspir"]["end"] is None


async def test_a_record_carries_attributes_names_and_sources(engine: AsyncEngine) -> None:
    aspir = next(e for e in await jsonl_entries(engine) if e.get("slug") == "aspir")
    assert aspir["kind"] == "organization"
    assert aspir["attributes"]["orgClass"] == "collaboration"
    assert aspir["names"] == [
        {
            "value": "Pyrenean Subregional SoilPartnership",
            "kind": "variant",
            "source": {
                "document": "000",
                "lines": {"start": 117, "end": 117},
                "quote": "Pyrenean Subregional SoilPartnership",
                "evidence": "stated",
            },
        }
    ]
    assert aspir["sources"]
    assert {s["source"]["document"] for s in aspir["sources"]} == {"000"}
    assert aspir["revision"] >= 1


async def test_a_relation_carries_its_ends_and_excerpt(engine: AsyncEngine) -> None:
    entries = await jsonl_entries(engine)
    ids = {e["slug"]: e["id"] for e in entries if e["type"] == "record"}
    (speech,) = [
        e
        for e in entries
        if e["type"] == "relation"
        and e["predicate"] == "speaker_at"
        and e["subject"] == ids["lifeng-li"]
        and e["object"] == ids["inser-launch-rabat-2025"]
    ]
    assert speech["source"]["document"] == "002"
    assert "Opening remarks by Mr. Lifeng Li" in speech["source"]["quote"]


async def test_the_http_download_streams_with_the_cursor_in_a_header(
    engine: AsyncEngine,
) -> None:
    latest = await last_revision(engine)
    async with app_client(engine) as http:
        jsonl = await http.get("/export.jsonl", headers={"accept-encoding": "gzip"})
        table = await http.get("/export.csv", headers={"accept-encoding": "identity"})
    assert jsonl.status_code == 200
    assert jsonl.headers["content-encoding"] == "gzip"
    assert jsonl.headers["soilapi-feed-cursor"] == feed_cursor(latest)
    lines = jsonl.text.splitlines()  # httpx undoes the gzip
    assert orjson.loads(lines[0])["cursor"] == feed_cursor(latest)
    assert len(lines) == 1 + 447
    assert table.status_code == 200
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    assert table.headers["soilapi-feed-cursor"] == feed_cursor(latest)
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert len(rows) == 447
    gsp = next(r for r in rows if r["slug"] == "gsp")
    assert (gsp["start"], gsp["startPrecision"], gsp["type"]) == ("2012", "YEAR", "record")
    assert "content-encoding" not in table.headers


async def test_the_command_writes_a_csv_and_its_header_beside_it(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "dump.csv"
    assert await export_dump(database_url, "csv", target) == 0
    header = orjson.loads((tmp_path / "dump.csv.header.json").read_bytes())
    assert header["cursor"] == feed_cursor(await last_revision(engine))
    with target.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [r["type"] for r in rows].count("record") == 244
    assert [r["type"] for r in rows].count("relation") == 203
