"""The floor: each operation's data fetched with hand-written SQL, shaped like soilapi's answer.

Same arguments as the `.graphql` files (kept in step by hand), same JSON shape (global IDs,
upper-case enum values, `{iso}` dates, cursors), one statement per list level with per-parent
`LATERAL ... LIMIT` pages. No GraphQL, no ORM: this is what the data costs to fetch and encode.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from soilapi.vocab import EntityKind, Predicate

Json = dict[str, Any]
Handler = Callable[[asyncpg.Connection, Json], Awaitable[Json]]
# GraphQL type name of each kind, as soilapi.graphql.types.node.TYPE_NAMES has them (the
# harness checks they agree; the floor does not import soilapi's GraphQL stack).
TYPE_NAMES = {kind: "".join(part.title() for part in kind.split("_")) for kind in EntityKind}
ORG_TREE = [Predicate.SUB_ORGANIZATION_OF, Predicate.UNIT_OF, Predicate.TECHNICAL_NETWORK_OF]


def gid(type_name: str, entity_id: uuid.UUID) -> str:
    """A soilapi global ID."""
    return base64.urlsafe_b64encode(f"{type_name}:{entity_id}".encode()).decode().rstrip("=")


def ungid(global_id: str) -> tuple[str, uuid.UUID] | None:
    """Type name and id of a global ID, None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, raw_id = raw.partition(":")
        return type_name, uuid.UUID(raw_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def iso(value: date | None, precision: str | None) -> Json | None:
    """A `PartialDate { iso }`."""
    if value is None:
        return None
    if precision == "year":
        return {"iso": f"{value.year:04d}"}
    if precision == "month":
        return {"iso": f"{value.year:04d}-{value.month:02d}"}
    return {"iso": value.isoformat()}


def upper(value: str | None) -> str | None:
    """A stored enum value as GraphQL spells it."""
    return None if value is None else value.upper()


def cursor(*values: Any) -> str:
    """An opaque keyset cursor."""
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode()


def grouped(rows: Sequence[asyncpg.Record], key: str = "parent") -> dict[Any, list[Any]]:
    """Rows per parent, in the order they came."""
    out: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def sized(sql: str, limit: int) -> str:
    """The statement with its page size written in.

    A literal LIMIT lets PostgreSQL's generic plan (used for a prepared statement after five
    runs) know how few rows are wanted and walk an index instead of sorting; with `LIMIT $n` it
    kept re-planning each run and the first list was 2-5x slower at scale 100 (PostGraphile
    inlines its limits too).
    """
    return sql.replace("{limit}", str(int(limit)))


def per_parent(inner: str) -> str:
    """Wrap `inner` (which sees `p.parent`, and returns `k1, k2, k3` sort keys) in a LATERAL."""
    # Built from this module's constants only; values always go in as parameters.
    return (
        "SELECT p.parent, c.* FROM unnest($1::uuid[]) WITH ORDINALITY AS p(parent, n) "  # noqa: S608
        f"CROSS JOIN LATERAL ({inner}) AS c ORDER BY p.n, c.k1, c.k2, c.k3"
    )


SOURCES = per_parent(
    "SELECT s.quote, s.evidence, s.line_start, s.line_end, d.key, "
    "d.key AS k1, s.line_start AS k2, s.id AS k3 "
    "FROM entity_sources s JOIN source_documents d ON d.id = s.document_id "
    "WHERE s.entity_id = p.parent ORDER BY d.key, s.line_start, s.id LIMIT {limit}"
)
INCOMING = per_parent(
    "SELECT e.id, e.name, e.acronym, coalesce(r.ordinal, 2147483647) AS k1, e.name AS k2, "
    "r.id AS k3 FROM relations r JOIN entities e ON e.id = r.subject_id "
    "WHERE r.object_id = p.parent AND r.predicate = ANY($2::text[]) "
    "ORDER BY k1, e.name, r.id LIMIT {limit}"
)


async def _sources(conn: asyncpg.Connection, ids: list[uuid.UUID], first: int) -> dict[Any, Json]:
    rows = grouped(await conn.fetch(sized(SOURCES, first), ids))
    return {
        parent: {"nodes": [
            {"quote": r["quote"], "evidence": upper(r["evidence"]),
             "lines": {"start": r["line_start"], "end": r["line_end"]},
             "document": {"key": r["key"]}}
            for r in rows.get(parent, [])
        ]}
        for parent in ids
    }  # fmt: skip


async def _entity_by_slug(conn: asyncpg.Connection, slug: str, kind: str) -> asyncpg.Record:
    return await conn.fetchrow(
        "SELECT id, name, acronym FROM entities WHERE slug = $1 AND kind = $2", slug, kind
    )


async def list_filtered(conn: asyncpg.Connection, _: Json) -> Json:
    """(1) organizations(countries: ["DE"], first: 20)."""
    first = 20
    rows = await conn.fetch(
        # The category comes per row of the page: joining `organizations` first makes
        # PostgreSQL hash all 20,000 of them at scale 100 (3x slower).
        "SELECT e.id, e.slug, e.name, e.acronym, e.country_code, e.start_date, e.start_precision, "
        "(SELECT o.category FROM organizations o WHERE o.id = e.id) AS category FROM entities e "
        "WHERE e.kind = 'organization' AND e.country_code = ANY($1::text[]) "
        "ORDER BY e.name, e.id LIMIT 21",  # first + 1, to know whether there is a next page
        ["DE"],
    )  # fmt: skip
    page = rows[:first]
    nodes = [
        {"id": gid("Organization", r["id"]), "slug": r["slug"], "name": r["name"],
         "acronym": r["acronym"], "country": r["country_code"], "category": upper(r["category"]),
         "start": iso(r["start_date"], r["start_precision"])}
        for r in page
    ]  # fmt: skip
    end = cursor(page[-1]["name"], page[-1]["id"]) if page else None
    info = {"hasNextPage": len(rows) > first, "endCursor": end}
    return {"organizations": {"nodes": nodes, "pageInfo": info}}


async def deep_traversal(conn: asyncpg.Connection, _: Json) -> Json:
    """(2) organization(slug: "gsp") → children → children, each with sources(first: 5)."""
    root = await _entity_by_slug(conn, "gsp", "organization")
    if root is None:
        return {"organization": None}
    out = {"name": root["name"], "acronym": root["acronym"]}
    level = [(root["id"], out)]
    for depth in range(3):
        ids = [i for i, _ in level]
        sources = await _sources(conn, ids, 5)
        for i, node in level:
            node["sources"] = sources[i]
        if depth == 2:
            break
        children = grouped(await conn.fetch(sized(INCOMING, 20), ids, ORG_TREE))
        nxt = []
        for i, node in level:
            kids = [{"name": c["name"], "acronym": c["acronym"]} for c in children.get(i, [])]
            node["children"] = {"nodes": kids}
            nxt += [(c["id"], kid) for c, kid in zip(children.get(i, []), kids, strict=True)]
        level = nxt
    return {"organization": out}


def by_name(table: str, parent_column: str, columns: str) -> str:
    """Detail rows per parent in name order (the sort key lives in `entities`)."""
    return per_parent(
        f"SELECT e.id, e.name, {columns}, e.name AS k1, e.id AS k2, 0 AS k3 FROM {table} t "  # noqa: S608
        f"JOIN entities e ON e.id = t.id WHERE t.{parent_column} = p.parent "
        "ORDER BY e.name, e.id LIMIT {limit}"
    )


def in_order(
    table: str, parent_column: str, columns: str, order: str, *, names: bool = True
) -> str:
    """Detail rows per parent in the order of their own `order` column (then id).

    The page is cut inside the detail table, before the join: PostgreSQL then walks the
    (parent, key) index and stops, instead of joining and sorting every child of a parent
    with many (the "4 per 1000" list has a thousand agreements at scale 100).
    """
    # (owner, ordinal) and (agreement, ordinal) are unique: the ordinal alone is a total order
    # there, and one the unique index can deliver without sorting.
    keys = order if order == "ordinal" else f"{order}, id"
    entity = ("e.name, ", " JOIN entities e ON e.id = t.id") if names else ("", "")
    return per_parent(
        f"SELECT t.id, {entity[0]}{columns}, t.{order} AS k1, t.id AS k2, 0 AS k3 "  # noqa: S608
        f"FROM (SELECT * FROM {table} WHERE {parent_column} = p.parent "
        f"ORDER BY {keys} LIMIT {{limit}}) t{entity[1]}"
    )


BLOCKS = by_name("facility_blocks", "owner_id", "t.facility_kind")
FACILITIES = in_order("facilities", "block_id", "t.code", "position")
OBJECTIVES = in_order("strategic_objectives", "facility_id", "t.label", "position")
TASK_FORCES = by_name("task_forces", "objective_id", "t.explicitly_listed")
AGREEMENTS = in_order(
    "partner_agreements", "owner_id",
    "t.ordinal, t.raw_text, t.list_as_of_date, t.list_as_of_precision", "ordinal", names=False,
)  # fmt: skip
INSTRUMENTS = in_order(
    "agreement_instruments", "agreement_id", "t.instrument_type, t.fte, t.signed_date, "
    "t.signed_precision, e.start_date, e.start_precision, e.end_date, e.end_precision",
    "ordinal",
)  # fmt: skip


async def _nested(
    conn: asyncpg.Connection, sql: str, parents: list[uuid.UUID], first: int, *extra: Any
) -> dict[Any, list[Any]]:
    return grouped(await conn.fetch(sized(sql, first), parents, *extra))


async def facilities_agreements(conn: asyncpg.Connection, _: Json) -> Json:
    """(3) 4p1000: blocks → facilities → objectives → task forces; agreements → parties etc."""
    root = await _entity_by_slug(conn, "4p1000", "organization")
    if root is None:
        return {"organization": None}
    blocks = (await _nested(conn, BLOCKS, [root["id"]], 10)).get(root["id"], [])
    facilities = await _nested(conn, FACILITIES, [b["id"] for b in blocks], 20)
    all_facilities = [f for fs in facilities.values() for f in fs]
    objectives = await _nested(conn, OBJECTIVES, [f["id"] for f in all_facilities], 20)
    all_objectives = [o for os_ in objectives.values() for o in os_]
    forces = await _nested(conn, TASK_FORCES, [o["id"] for o in all_objectives], 5)

    def objective(o: asyncpg.Record) -> Json:
        tfs = [{"name": t["name"], "explicitlyListed": t["explicitly_listed"]}
               for t in forces.get(o["id"], [])]  # fmt: skip
        return {"label": o["label"], "name": o["name"], "taskForces": {"nodes": tfs}}

    def facility(f: asyncpg.Record) -> Json:
        objs = [objective(o) for o in objectives.get(f["id"], [])]
        return {"code": f["code"], "name": f["name"], "objectives": {"nodes": objs}}

    block_nodes = [
        {"name": b["name"], "facilityKind": upper(b["facility_kind"]),
         "facilities": {"nodes": [facility(f) for f in facilities.get(b["id"], [])]}}
        for b in blocks
    ]  # fmt: skip
    out = {"name": root["name"], "facilityBlocks": {"nodes": block_nodes}}
    out["partnerAgreements"] = await _agreements(conn, root["id"])
    return {"organization": out}


async def _agreements(conn: asyncpg.Connection, owner: uuid.UUID) -> Json:
    agreements = (await _nested(conn, AGREEMENTS, [owner], 25)).get(owner, [])
    ids = [a["id"] for a in agreements]
    parties = grouped(await conn.fetch(sized(INCOMING, 10), ids, [Predicate.PARTY_TO]))
    instruments = await _nested(conn, INSTRUMENTS, ids, 10)

    def instrument(i: asyncpg.Record) -> Json:
        fte = None if i["fte"] is None else float(i["fte"])
        return {"instrumentType": upper(i["instrument_type"]), "fte": fte,
                "signed": iso(i["signed_date"], i["signed_precision"]),
                "start": iso(i["start_date"], i["start_precision"]),
                "end": iso(i["end_date"], i["end_precision"])}  # fmt: skip

    nodes = [
        {"ordinal": a["ordinal"], "rawText": a["raw_text"],
         "parties": {"nodes": [{"name": p["name"]} for p in parties.get(a["id"], [])]},
         "instruments": {"nodes": [instrument(i) for i in instruments.get(a["id"], [])]}}
        for a in agreements
    ]  # fmt: skip
    return {"nodes": nodes}


async def node_lookups(conn: asyncpg.Connection, variables: Json) -> Json:
    """(4) nodes(ids: $ids): one statement for the whole batch, answers in the order asked."""
    wanted = [ungid(str(i)) for i in variables.get("ids", [])]
    ids = [w[1] for w in wanted if w is not None]
    rows = await conn.fetch(
        "SELECT id, kind, slug, name, start_date, start_precision FROM entities "
        "WHERE id = ANY($1::uuid[])",
        ids,
    )
    found = {r["id"]: r for r in rows}
    nodes: list[Json | None] = []
    for w in wanted:
        r = found.get(w[1]) if w is not None else None
        if r is None or w is None or TYPE_NAMES[EntityKind(r["kind"])] != w[0]:
            nodes.append(None)
            continue
        nodes.append({"id": gid(w[0], r["id"]), "slug": r["slug"], "name": r["name"],
                      "kind": upper(r["kind"]), "start": iso(r["start_date"],
                      r["start_precision"])})  # fmt: skip
    return {"nodes": nodes}


async def per_parent_pages(conn: asyncpg.Connection, _: Json) -> Json:
    """(5) organizations(categories: [NETWORK], first: 50), partnerAgreements(first: 10) each."""
    orgs = await conn.fetch(
        "SELECT e.id, e.slug, e.name FROM entities e JOIN organizations o ON o.id = e.id "
        "WHERE e.kind = 'organization' AND o.category = ANY($1::text[]) "
        "ORDER BY e.name, e.id LIMIT 50",
        ["network"],
    )  # fmt: skip
    pages = await _nested(conn, AGREEMENTS, [o["id"] for o in orgs], 11)
    nodes = []
    for o in orgs:
        rows = pages.get(o["id"], [])
        items = [{"ordinal": a["ordinal"], "rawText": a["raw_text"],
                  "listAsOf": iso(a["list_as_of_date"], a["list_as_of_precision"])}
                 for a in rows[:10]]  # fmt: skip
        page = {"nodes": items, "pageInfo": {"hasNextPage": len(rows) > 10}}
        nodes.append({"slug": o["slug"], "name": o["name"], "partnerAgreements": page})
    return {"organizations": {"nodes": nodes}}


HANDLERS: dict[str, Handler] = {
    "list_filtered": list_filtered,
    "deep_traversal": deep_traversal,
    "facilities_agreements": facilities_agreements,
    "node_lookups": node_lookups,
    "per_parent_pages": per_parent_pages,
}
