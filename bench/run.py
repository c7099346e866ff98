"""One scale of the benchmark: start the servers, measure every operation on each, stop them."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from bench import load, pg, profile, servers
from bench.suite import Operation
from soilapi.graphql import ids
from soilapi.graphql.types.node import TYPE_NAMES
from soilapi.vocab import EntityKind

NODE_BATCH = 50
STATEMENT_SAMPLES = 5  # sequential requests whose SQL statements are counted


@dataclass
class Options:
    """How each cell is measured."""

    duration: int
    warmup: int
    concurrency: int
    seed: int
    profile: bool = False


@dataclass
class Cell:
    """The figures of one operation on one server at one scale."""

    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    statements: float | None = None
    peak_rss_mib: float | None = None
    requests: int = 0
    errors: int = 0
    response_bytes: int = 0
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The cell for the results file."""
        return asdict(self)


Row = dict[str, Cell]  # target -> cell


async def _sample_entities(url: str, seed: int) -> list[tuple[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT kind, id FROM entities ORDER BY id")
    finally:
        await conn.close()
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    picked = rng.sample(list(rows), min(NODE_BATCH, len(rows)))
    return [(r["kind"], r["id"]) for r in picked]


def node_variables(
    db_url: str, seed: int, postgraphile: servers.Server | None
) -> dict[str, dict[str, Any]]:
    """The node-lookup variables per target: the same 50 rows, in each API's own IDs."""
    sample = asyncio.run(_sample_entities(db_url, seed))
    soil = {"ids": [ids.encode(TYPE_NAMES[EntityKind(kind)], eid) for kind, eid in sample]}
    out = {"soilapi": soil, "soilapi-cached": soil, "floor": soil}
    if postgraphile is not None:
        aliases = " ".join(f'n{i:02d}: entityByRowId(rowId: "{eid}") {{ id }}'
                           for i, (_, eid) in enumerate(sample))  # fmt: skip
        body = json.dumps({"query": f"{{ {aliases} }}"}).encode()
        status, raw = servers.post(postgraphile.url(""), body)
        data = json.loads(raw)["data"] if status == 200 else None
        if not data:
            raise RuntimeError(f"could not gather PostGraphile node IDs: {raw[:300]!r}")
        out["postgraphile"] = {f"n{i:02d}": data[f"n{i:02d}"]["id"] for i in range(len(sample))}
    return out


def _check(server: servers.Server, op: Operation, body: bytes) -> tuple[int, Any, str | None]:
    """Send the operation once: the answer's size and data, or why it failed."""
    status, raw = servers.post(server.url(op.name), body)
    try:
        answer = json.loads(raw)
    except ValueError:
        return 0, None, f"HTTP {status}, not JSON: {raw[:200]!r}"
    if status != 200 or answer.get("errors") or not answer.get("data"):
        return 0, None, f"HTTP {status}: {json.dumps(answer.get('errors'))[:300]}"
    return len(raw), answer["data"], None


def comparable(data: Any) -> Any:
    """An answer without its cursors, which are opaque and differ by design."""
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k not in ("endCursor", "cursor")}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


def measure(
    server: servers.Server, op: Operation, body: bytes, db: tuple[pg.Server, str], o: Options
) -> tuple[Cell, Any]:
    """Check, warm up, load, read the peak RSS, then count statements per request."""
    size, data, problem = _check(server, op, body)
    if problem:
        return Cell(note=problem), None
    url = server.url(op.name)
    if o.warmup:
        load.run(url, body, seconds=o.warmup, connections=o.concurrency)
        server.wait_idle()
    reset = server.reset_peak()
    result = load.run(url, body, seconds=o.duration, connections=o.concurrency)
    server.wait_idle()
    cell = Cell(
        rps=result.rps, p50_ms=result.p50_ms, p99_ms=result.p99_ms,
        peak_rss_mib=server.peak_rss_mib(), requests=result.requests, errors=result.errors,
        response_bytes=size, note=None if reset else "peak RSS since server start",
    )  # fmt: skip
    cell.statements = _statements(server, op, body, db)
    if o.profile and server.name == "soilapi":
        profile.record(server, op, body, o.duration, o.concurrency)
        server.wait_idle()
    return cell, data


def _same_answers(op: Operation, row: Row, answers: dict[str, Any]) -> None:
    """The floor and the cache must give exactly soilapi's data, or their figures mean nothing."""
    reference = answers.get("soilapi")
    for target in ("floor", "soilapi-cached"):
        answer = answers.get(target)
        if answer is None or reference is None or comparable(answer) == comparable(reference):
            continue
        row[target].note = "answer differs from soilapi's"
        pg.say(f"warning: {op.name}: {target}'s answer differs from soilapi's")


def _statements(
    server: servers.Server, op: Operation, body: bytes, db: tuple[pg.Server, str]
) -> float | None:
    cluster, database = db
    asyncio.run(pg.settle(cluster, database))
    if not cluster.counts_statements:
        return None
    asyncio.run(pg.reset_statements(cluster))
    for _ in range(STATEMENT_SAMPLES):
        servers.post(server.url(op.name), body)
    return asyncio.run(pg.statements_run(cluster, database)) / STATEMENT_SAMPLES


def run_scale(
    cluster: pg.Server, database: str, scale: int, targets: list[str], operations: list[Operation],
    o: Options,
) -> dict[str, Row]:  # fmt: skip
    """Every operation on every target, servers started once for the scale."""
    url = cluster.url(database)
    running: dict[str, servers.Server] = {}
    try:
        for target in targets:
            pg.say(f"starting {target} on {database}")
            running[target] = servers.start(target, url, f"s{scale}")
        variables = node_variables(url, o.seed, running.get("postgraphile"))
        rows: dict[str, Row] = {}
        cells, done = len(operations) * len(running), 0
        for op in operations:
            rows[op.name] = {}
            answers: dict[str, Any] = {}
            for target, server in running.items():
                done += 1
                pg.say(f"[{done}/{cells}] scale {scale} · {op.name} · {target}")
                needs = variables[target] if op.name == "node_lookups" else None
                body = op.body(target, needs)
                cell, answers[target] = measure(server, op, body, (cluster, database), o)
                rows[op.name][target] = cell
            _same_answers(op, rows[op.name], answers)
        return rows
    finally:
        for server in running.values():
            server.stop()
