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


ORG_PAGE = (
    # The category comes per row of the page: joining `organizations` first makes
    # PostgreSQL hash all 20,000 of them at scale 100 (3x slower).
    "SELECT e.id, e.slug, e.name, e.acronym, e.country_code, e.start_date, e.start_precision, "
    "(SELECT o.category FROM organizations o WHERE o.id = e.id) AS category FROM entities e "
    "WHERE e.kind = 'organization' AND {where} "
    "ORDER BY e.name, e.id LIMIT 21"  # first + 1, to know whether there is a next page
)


def _org_page(rows: Sequence[asyncpg.Record], first: int) -> Json:
    """A page of organisations with 7 scalar fields and `pageInfo`, from first + 1 rows."""
    page = rows[:first]
    nodes = [
        {"id": gid("Organization", r["id"]), "slug": r["slug"], "name": r["name"],
         "acronym": r["acronym"], "country": r["country_code"], "category": upper(r["category"]),
         "start": iso(r["start_date"], r["start_precision"])}
        for r in page
    ]  # fmt: skip
    end = cursor(page[-1]["name"], page[-1]["id"]) if page else None
    return {"nodes": nodes, "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": end}}


async def list_filtered(conn: asyncpg.Connection, _: Json) -> Json:
    """(1) organizations(countries: ["DE"], first: 20)."""
    rows = await conn.fetch(ORG_PAGE.format(where="e.country_code = ANY($1::text[])"), ["DE"])
    return {"organizations": _org_page(rows, 20)}


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


ORG_FIELDS = "e.id, e.slug, e.name, e.acronym, e.country_code, e.start_date, e.start_precision"
CHILDREN = per_parent(  # INCOMING with the fields of org_tree_varied
    f"SELECT {ORG_FIELDS}, coalesce(r.ordinal, 2147483647) AS k1, e.name AS k2, r.id AS k3 "  # noqa: S608
    "FROM relations r JOIN entities e ON e.id = r.subject_id "
    "WHERE r.object_id = p.parent AND r.predicate = ANY($2::text[]) "
    "ORDER BY k1, e.name, r.id LIMIT {limit}"
)


def _org(r: asyncpg.Record) -> Json:
    start = iso(r["start_date"], r["start_precision"])
    return {"slug": r["slug"], "name": r["name"], "acronym": r["acronym"],
            "country": r["country_code"], "start": start}  # fmt: skip


async def org_tree_varied(conn: asyncpg.Connection, variables: Json) -> Json:
    """(7) organization(slug: $slug) → children(first: 20) → children(first: 20)."""
    root = await conn.fetchrow(
        f"SELECT {ORG_FIELDS} FROM entities e WHERE e.slug = $1 AND e.kind = 'organization'",  # noqa: S608
        str(variables.get("slug")),
    )
    if root is None:
        return {"organization": None}
    out = _org(root)
    level = [(root["id"], out)]
    for _ in range(2):
        if not level:
            break
        children = grouped(await conn.fetch(sized(CHILDREN, 20), [i for i, _ in level], ORG_TREE))
        nxt = []
        for i, node in level:
            rows = children.get(i, [])
            kids = [_org(c) for c in rows]
            node["children"] = {"nodes": kids}
            nxt += [(c["id"], kid) for c, kid in zip(rows, kids, strict=True)]
        level = nxt
    return {"organization": out}


async def page_through_varied(conn: asyncpg.Connection, variables: Json) -> Json:
    """(8) organizations(first: 20, after: $after), after one of the floor's own cursors."""
    after = variables.get("after")
    if not after:
        rows = await conn.fetch(ORG_PAGE.format(where="true"))
    else:
        name, raw_id = json.loads(base64.urlsafe_b64decode(str(after)))
        where = "(e.name, e.id) > ($1, $2::uuid)"
        rows = await conn.fetch(ORG_PAGE.format(where=where), name, uuid.UUID(raw_id))
    return {"organizations": _org_page(rows, 20)}


# The GraphQL type of each object of apollo_typename (deep_traversal's document): the type of
# the object itself, then its fields that hold objects.
Shape = tuple[str, dict[str, Any]]
_SOURCES: Shape = ("ProvenanceConnection", {"nodes": ("Provenance", {
    "lines": ("LineRange", {}), "document": ("SourceDocument", {})})})  # fmt: skip
_LEAF: Shape = ("Organization", {"sources": _SOURCES})
_MIDDLE: Shape = ("Organization", {
    "sources": _SOURCES, "children": ("OrganizationConnection", {"nodes": _LEAF})})  # fmt: skip
_ROOT: Shape = ("Organization", {
    "sources": _SOURCES, "children": ("OrganizationConnection", {"nodes": _MIDDLE})})  # fmt: skip


def _typed(value: Any, shape: Shape) -> None:
    """Add `__typename` to every object of an answer, in place, as GraphQL would."""
    if isinstance(value, list):
        for item in value:
            _typed(item, shape)
    elif isinstance(value, dict):
        name, fields = shape
        value["__typename"] = name
        for key, inner in fields.items():
            _typed(value.get(key), inner)


async def apollo_typename(conn: asyncpg.Connection, variables: Json) -> Json:
    """(10) deep_traversal with `__typename` in every selection set."""
    data = await deep_traversal(conn, variables)
    _typed(data["organization"], _ROOT)
    return data


DASHBOARD_COUNTS = (
    "SELECT (SELECT count(*) FROM entities WHERE kind = 'organization') AS organizations, "
    "(SELECT count(*) FROM entities WHERE kind = 'output') AS outputs, "
    "(SELECT count(*) FROM entities WHERE kind = 'event') AS events, "
    "(SELECT count(*) FROM partner_agreements) AS agreements"
)
# Newest first with the undated last: soilapi's key, the start date or the first of year 1.
NEWEST = (
    "SELECT id, slug, name, start_date, start_precision FROM entities WHERE kind = $1 "
    "ORDER BY coalesce(start_date, '0001-01-01'::date) DESC, id DESC LIMIT 11"
)


def _page(rows: Sequence[asyncpg.Record], count: int, node: Callable[[Any], Json]) -> Json:
    last = rows[:10][-1] if rows else None
    return {"totalCount": count, "nodes": [node(r) for r in rows[:10]],
            "pageInfo": {"hasNextPage": len(rows) > 10,
                         "endCursor": None if last is None else cursor(last["id"])}}  # fmt: skip


def _dated(type_name: str) -> Callable[[Any], Json]:
    return lambda r: {"id": gid(type_name, r["id"]), "slug": r["slug"], "name": r["name"],
                      "start": iso(r["start_date"], r["start_precision"])}  # fmt: skip


async def dashboard(conn: asyncpg.Connection, _: Json) -> Json:
    """(11) Four root lists, each with its totalCount and first page of 10."""
    counts = await conn.fetchrow(DASHBOARD_COUNTS)
    orgs = await conn.fetch(
        "SELECT id, slug, name, country_code FROM entities WHERE kind = 'organization' "
        "ORDER BY name, id LIMIT 11"
    )
    outputs = await conn.fetch(NEWEST, "output")
    events = await conn.fetch(NEWEST, "event")
    agreements = await conn.fetch(
        "SELECT id, ordinal, raw_text, list_as_of_date, list_as_of_precision "
        "FROM partner_agreements ORDER BY ordinal, id LIMIT 11"
    )
    return {
        "organizations": _page(orgs, counts["organizations"], lambda r: {
            "id": gid("Organization", r["id"]), "slug": r["slug"], "name": r["name"],
            "country": r["country_code"]}),
        "outputs": _page(outputs, counts["outputs"], _dated("Output")),
        "events": _page(events, counts["events"], _dated("Event")),
        "partnerAgreements": _page(agreements, counts["agreements"], lambda r: {
            "id": gid("PartnerAgreement", r["id"]), "ordinal": r["ordinal"],
            "rawText": r["raw_text"],
            "listAsOf": iso(r["list_as_of_date"], r["list_as_of_precision"])}),
    }  # fmt: skip


HANDLERS: dict[str, Handler] = {
    "list_filtered": list_filtered,
    "deep_traversal": deep_traversal,
    "facilities_agreements": facilities_agreements,
    "node_lookups": node_lookups,
    "per_parent_pages": per_parent_pages,
    "org_tree_varied": org_tree_varied,
    "page_through_varied": page_through_varied,
    "node_lookups_varied": node_lookups,  # the same handler: it reads the IDs from the body
    "apollo_typename": apollo_typename,
    "dashboard": dashboard,
}
