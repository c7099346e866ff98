"""The variables of the operations that take them, per target, gathered once per scale.

node_lookups is sent with one set (50 IDs); the `*_varied` operations with VARIANTS sets in
turn. Every target is asked the same questions in its own terms: the same slugs; the same rows
in its own global IDs (the floor answers soilapi's); cursors at the same positions of the same
list, soilapi's and PostGraphile's gathered by paging through their own APIs, the floor's its
own (it reads the sort key it put in). Samples come from random.Random seeded with --seed and
the operation's name, so a run sends exactly what the last one sent.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from bench import servers
from bench.floor import queries as floor
from bench.pg import say
from soilapi.graphql import ids
from soilapi.graphql.types.node import TYPE_NAMES
from soilapi.vocab import EntityKind

VARIANTS = 1000  # variable sets of each `*_varied` operation
NODE_BATCH = 50  # IDs of node_lookups
NODE_SET = 20  # IDs per set of node_lookups_varied
NODE_POOL = 2000  # rows the sets of node_lookups_varied are drawn from
PAGE = 20  # page size of page_through_varied, as in its documents
GATHER_PAGE = 100  # page size when paging through an API for its cursors (soilapi's limit)
ALIASES = 200  # PostGraphile IDs asked for per request
SOILAPI_IDS = ("soilapi", "soilapi-cached", "floor")  # targets that take soilapi's global IDs

Sets = list[dict[str, Any]]
Gathered = dict[str, Sets | str]  # target -> its variable sets, or why it has none


class Unavailable(Exception):
    """A target cannot be sent an operation: its variables could not be gathered."""


def spread(rng: random.Random, population: int, count: int) -> list[int]:
    """`count` positions in range(population): all different when there are enough, else
    shuffles of all of them one after another (scale 1 has fewer than 1,000 organisations)."""
    if population <= 0:
        return []
    if population >= count:
        return rng.sample(range(population), count)
    out: list[int] = []
    while len(out) < count:
        block = list(range(population))
        rng.shuffle(block)
        out += block
    return out[:count]


class Variables:
    """Variable sets per operation and target, gathered on first use."""

    def __init__(self, db_url: str, seed: int, running: Mapping[str, servers.Server]) -> None:
        self.db_url = db_url
        self.seed = seed
        self.running = running
        self._gathered: dict[str, Gathered] = {}

    def sets(self, operation: str, target: str) -> list[dict[str, Any] | None]:
        """The variable sets `target` is sent in turn; [None] for an operation without any."""
        gather = GATHERERS.get(operation)
        if gather is None:
            return [None]
        if operation not in self._gathered:
            say(f"gathering the variables of {operation}")
            self._gathered[operation] = gather(self)
        found = self._gathered[operation].get(target)
        if found is None:
            raise Unavailable(f"no variables of {operation} for {target}")
        if isinstance(found, str):
            raise Unavailable(found)
        return list(found)

    def rng(self, operation: str) -> random.Random:
        """The seeded generator of one operation's samples."""
        return random.Random(f"{self.seed}:{operation}")  # noqa: S311 - reproducible, not secret

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows of one statement on the bench database."""

        async def run() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.db_url)
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()

        return asyncio.run(run())

    def soilapi(self) -> servers.Server | None:
        """A running soilapi (cache off or on: their cursors are the same)."""
        return self.running.get("soilapi") or self.running.get("soilapi-cached")


def _gid(kind: str, entity_id: Any) -> str:
    return ids.encode(TYPE_NAMES[EntityKind(kind)], entity_id)


def _ask(server: servers.Server, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The data of one request to a GraphQL server, or RuntimeError."""
    payload: dict[str, Any] = {"query": query}
    if variables:
        payload["variables"] = variables
    status, raw = servers.post(server.url(""), json.dumps(payload).encode())
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = {}
    if status != 200 or answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{server.name} answered HTTP {status}: {raw[:300]!r}")
    return answer["data"]


def _postgraphile_ids(server: servers.Server, rows: list[Any]) -> list[str]:
    """PostGraphile's global IDs of `entities` rows, asked for by row id."""
    out: list[str] = []
    for start in range(0, len(rows), ALIASES):
        batch = rows[start : start + ALIASES]
        aliases = " ".join(f'n{i}: entityByRowId(rowId: "{row}") {{ id }}'
                           for i, row in enumerate(batch))  # fmt: skip
        data = _ask(server, f"{{ {aliases} }}")
        out += [data[f"n{i}"]["id"] for i in range(len(batch))]
    return out


def _with_postgraphile(
    v: Variables, out: Gathered, build: Callable[[servers.Server], Sets], what: str
) -> Gathered:
    """`out` plus PostGraphile's sets when it runs (or why it has none)."""
    server = v.running.get("postgraphile")
    if server is not None:
        try:
            out["postgraphile"] = build(server)
        except RuntimeError as exc:
            out["postgraphile"] = f"could not gather PostGraphile's {what}: {exc}"
    return out


def node_lookups(v: Variables) -> Gathered:
    """50 rows of every kind (seeded), as soilapi's IDs and as PostGraphile's."""
    rows = v.fetch("SELECT kind, id FROM entities ORDER BY id")
    rng = random.Random(v.seed)  # noqa: S311 - as before the varied operations: the same sample
    sample = [(r["kind"], r["id"]) for r in rng.sample(rows, min(NODE_BATCH, len(rows)))]
    soil: Sets = [{"ids": [_gid(kind, eid) for kind, eid in sample]}]
    out: Gathered = dict.fromkeys(SOILAPI_IDS, soil)

    def theirs(server: servers.Server) -> Sets:
        found = _postgraphile_ids(server, [eid for _, eid in sample])
        return [{f"n{i:02d}": gid for i, gid in enumerate(found)}]

    return _with_postgraphile(v, out, theirs, "node IDs")


def node_lookups_varied(v: Variables) -> Gathered:
    """VARIANTS sets of 20 rows, drawn from a pool of 2,000 rows of every kind."""
    rows = v.fetch("SELECT kind, id FROM entities ORDER BY id")
    rng = v.rng("node_lookups_varied")
    pool = [(r["kind"], r["id"]) for r in rng.sample(rows, min(NODE_POOL, len(rows)))]
    picks = [rng.sample(range(len(pool)), min(NODE_SET, len(pool))) for _ in range(VARIANTS)]
    soil_ids = [_gid(kind, eid) for kind, eid in pool]
    soil: Sets = [{"ids": [soil_ids[i] for i in pick]} for pick in picks]
    out: Gathered = dict.fromkeys(SOILAPI_IDS, soil)

    def theirs(server: servers.Server) -> Sets:
        found = _postgraphile_ids(server, [eid for _, eid in pool])
        return [{f"n{k:02d}": found[i] for k, i in enumerate(pick)} for pick in picks]

    return _with_postgraphile(v, out, theirs, "node IDs")


def org_tree_varied(v: Variables) -> Gathered:
    """VARIANTS organisation slugs (every target takes slugs)."""
    slugs = [r["slug"] for r in v.fetch(
        "SELECT slug FROM entities WHERE kind = 'organization' ORDER BY slug"
    )]  # fmt: skip
    picks = spread(v.rng("org_tree_varied"), len(slugs), VARIANTS)
    sets: Sets = [{"slug": slugs[i]} for i in picks]
    return dict.fromkeys((*SOILAPI_IDS, "postgraphile"), sets)


SOILAPI_CURSORS = """query Cursors($after: String) {
  organizations(first: GATHER, after: $after) {
    edges { cursor } pageInfo { hasNextPage endCursor }
  }
}""".replace("GATHER", str(GATHER_PAGE))
POSTGRAPHILE_CURSORS = """query Cursors($after: Cursor) {
  allEntities(condition: { kind: "organization" }, first: GATHER, after: $after,
              orderBy: [NAME_ASC, PRIMARY_KEY_ASC]) {
    edges { cursor } pageInfo { hasNextPage endCursor }
  }
}""".replace("GATHER", str(GATHER_PAGE))


def _cursors(server: servers.Server, query: str, expected: int) -> list[str]:
    """Every item's cursor, in list order, by paging through the server's own API."""
    cursors: list[str] = []
    after = None
    while True:
        data = _ask(server, query, {"after": after} if after else None)
        page = next(iter(data.values()))
        cursors += [edge["cursor"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"] or len(cursors) > expected:
            break
        after = page["pageInfo"]["endCursor"]
    if len(cursors) != expected:
        raise RuntimeError(f"{server.name} listed {len(cursors)} organisations, not {expected}")
    return cursors


def page_through_varied(v: Variables) -> Gathered:
    """VARIANTS cursors at the same positions of the organisations by name, per target."""
    keys = [(r["name"], r["id"]) for r in v.fetch(
        "SELECT name, id FROM entities WHERE kind = 'organization' ORDER BY name, id"
    )]  # fmt: skip
    # A cursor at most PAGE items before the end, so that every page is a full one.
    room = len(keys) - PAGE if len(keys) > PAGE else len(keys)
    positions = spread(v.rng("page_through_varied"), room, VARIANTS)
    out: Gathered = {"floor": [{"after": floor.cursor(*keys[p])} for p in positions]}
    source = v.soilapi()
    if source is not None:
        try:
            theirs = _cursors(source, SOILAPI_CURSORS, len(keys))
            out["soilapi"] = out["soilapi-cached"] = [{"after": theirs[p]} for p in positions]
        except RuntimeError as exc:
            out["soilapi"] = out["soilapi-cached"] = f"could not gather soilapi's cursors: {exc}"

    def postgraphile(server: servers.Server) -> Sets:
        theirs = _cursors(server, POSTGRAPHILE_CURSORS, len(keys))
        return [{"after": theirs[p]} for p in positions]

    return _with_postgraphile(v, out, postgraphile, "cursors")


def _typo(rng: random.Random, name: str) -> str:
    """The name with two neighbouring letters of its longest word swapped."""
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) > 3:
        at = rng.randrange(1, len(word) - 2)
        words[longest] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)


def _named(v: Variables) -> tuple[list[Any], list[str]]:
    """Organisations (name, acronym, country) and other records' names, ordered by id."""
    orgs = v.fetch(
        "SELECT name, acronym, country_code FROM entities WHERE kind = 'organization' ORDER BY id"
    )
    others = [r["name"] for r in v.fetch(
        "SELECT name FROM entities WHERE kind IN ('output', 'event') ORDER BY id"
    )]  # fmt: skip
    return orgs, others


def search_varied(v: Variables) -> Gathered:
    """VARIANTS search queries: full names (30 %), acronyms (20 %), output and event names
    (20 %), names with a typo (20 %), two words of a name (10 %)."""
    orgs, others = _named(v)
    rng = v.rng("search_varied")
    queries: list[str] = []
    for _ in range(VARIANTS):
        org = orgs[rng.randrange(len(orgs))]
        draw = rng.random()
        if draw < 0.3:
            queries.append(org["name"])
        elif draw < 0.5:
            queries.append(org["acronym"] or org["name"])
        elif draw < 0.7:
            queries.append(others[rng.randrange(len(others))])
        elif draw < 0.9:
            queries.append(_typo(rng, org["name"]))
        else:
            queries.append(" ".join(org["name"].split()[:2]))
    sets: Sets = [{"q": q} for q in queries]
    return dict.fromkeys(SOILAPI_IDS[:2], sets)  # soilapi's alone (Operation.targets)


def match_varied(v: Variables) -> Gathered:
    """VARIANTS organisation names as other systems write them: with the acronym in brackets
    (30 %), the country added (30 %), a typo (20 %), only the acronym (20 %)."""
    orgs, _ = _named(v)
    rng = v.rng("match_varied")
    names: list[str] = []
    for _ in range(VARIANTS):
        org = orgs[rng.randrange(len(orgs))]
        name, acronym, draw = org["name"], org["acronym"], rng.random()
        if draw < 0.3 and acronym:
            names.append(f"{name} ({acronym})")
        elif draw < 0.6:
            names.append(f"{name}, {org['country_code']}" if org["country_code"] else name)
        elif draw < 0.8:
            names.append(_typo(rng, name))
        else:
            names.append(acronym or name)
    sets: Sets = [{"name": n} for n in names]
    return dict.fromkeys(SOILAPI_IDS[:2], sets)  # soilapi's alone (Operation.targets)


def neighbourhood_varied(v: Variables) -> Gathered:
    """VARIANTS organisations' global IDs, for the targets that answer neighbourhoods."""
    rows = v.fetch("SELECT id FROM entities WHERE kind = 'organization' ORDER BY id")
    picks = spread(v.rng("neighbourhood_varied"), len(rows), VARIANTS)
    sets: Sets = [{"id": _gid("organization", rows[i]["id"])} for i in picks]
    return dict.fromkeys(("soilapi", "soilapi-cached"), sets)


GATHERERS: dict[str, Callable[[Variables], Gathered]] = {
    "node_lookups": node_lookups,
    "node_lookups_varied": node_lookups_varied,
    "org_tree_varied": org_tree_varied,
    "page_through_varied": page_through_varied,
    "search_varied": search_varied,
    "match_varied": match_varied,
    "neighbourhood_varied": neighbourhood_varied,
}
