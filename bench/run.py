"""One scale of the benchmark: start the servers, measure every operation on each, stop them."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import load, pg, profile, servers
from bench.suite import Operation
from bench.variables import Unavailable, Variables

STATEMENT_SAMPLES = 5  # sequential requests whose SQL statements are counted
CHECKED_BODIES = 3  # bodies of a varied operation whose answers are checked before the runs
FILL_CONNECTIONS = 10  # requests at once when filling soilapi-cached's cache


@dataclass
class Options:
    """How each cell is measured."""

    duration: int
    warmup: int
    concurrency: int
    seed: int
    profile: bool = False
    repeat: int = 1


@dataclass
class Run:
    """One measured run of one operation on one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    server_cpu_ms: float | None  # the server process's CPU time per request
    pg_cpu_ms: float | None  # PostgreSQL's (all its processes) per request
    peak_rss_mib: float | None
    peak_rss_reset: bool = True  # False: the peak since the server started (no clear_refs)


@dataclass
class Cell:
    """The figures of one operation on one server at one scale: medians over the runs."""

    rps: float | None = None
    rps_min: float | None = None
    rps_max: float | None = None
    rps_spread_pct: float | None = None  # half the min-max range, in % of the median
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu_ms: float | None = None
    pg_cpu_ms: float | None = None
    statements: float | None = None
    peak_rss_mib: float | None = None
    requests: int = 0
    errors: int = 0
    response_bytes: int = 0
    bodies: int = 1  # request bodies sent in turn
    distinct_bodies: int = 1
    note: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: bool = False  # the server cannot answer the operation (Operation.targets)

    def as_json(self) -> dict[str, Any]:
        """The cell for the results file."""
        return asdict(self)

    def summarise(self, runs: list[Run]) -> None:
        """Medians (peak RSS: the highest) and the spread of requests/s over the runs."""
        if not runs:
            return
        rates = [r.rps for r in runs]
        self.rps = statistics.median(rates)
        self.rps_min, self.rps_max = min(rates), max(rates)
        if len(runs) > 1 and self.rps:
            self.rps_spread_pct = (self.rps_max - self.rps_min) / 2 / self.rps * 100
        self.p50_ms = statistics.median(r.p50_ms for r in runs)
        self.p99_ms = statistics.median(r.p99_ms for r in runs)
        self.server_cpu_ms = _median([r.server_cpu_ms for r in runs])
        self.pg_cpu_ms = _median([r.pg_cpu_ms for r in runs])
        self.peak_rss_mib = max((r.peak_rss_mib for r in runs if r.peak_rss_mib), default=None)
        self.requests = sum(r.requests for r in runs)
        self.errors = sum(r.errors for r in runs)
        self.runs = [asdict(r) for r in runs]
        if not all(r.peak_rss_reset for r in runs):
            self.note = "peak RSS since server start"


Row = dict[str, Cell]  # target -> cell


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


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


def check(
    server: servers.Server, op: Operation, bodies: list[bytes]
) -> tuple[int, Any, str | None]:
    """Send the first bodies once each: the first answer's size, their data, or a failure."""
    size, answers = 0, []
    for i, body in enumerate(bodies[:CHECKED_BODIES]):
        length, data, problem = _check(server, op, body)
        if problem:
            return 0, None, problem if i == 0 else f"body {i + 1}: {problem}"
        size = size or length
        answers.append(data)
    return size, answers, None


def comparable(data: Any) -> Any:
    """An answer without its cursors, which are opaque and differ by design."""
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k not in ("endCursor", "cursor")}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


def quiet(server: servers.Server, cluster: pg.Server, poll: float = 0.25) -> None:
    """Wait until the server and PostgreSQL both use under 5 % of a core over `poll` seconds.

    wrk stops on time and drops its open requests, but the server still finishes them, and a
    statement may still run in PostgreSQL when the server waits for it: that work must not land
    in the next measured run (of this server or another).
    """
    if cluster.cpu_seconds() is None:  # PostgreSQL runs elsewhere: only the server can be seen
        server.wait_idle(poll)
        return
    deadline = time.monotonic() + 30.0
    last = (server.cpu_seconds(), cluster.cpu_seconds() or 0.0)
    while time.monotonic() < deadline:
        time.sleep(poll)
        now = (server.cpu_seconds(), cluster.cpu_seconds() or 0.0)
        if all(b - a <= 0.05 * poll for a, b in zip(last, now, strict=True)):
            return
        last = now


def measure(
    server: servers.Server, op: Operation, bodies: list[bytes], cluster: pg.Server, o: Options
) -> Run:
    """Warm up, then one measured run: wrk's figures, CPU per request and the peak RSS."""
    url = server.url(op.name)
    if o.warmup:
        load.run(url, bodies, seconds=o.warmup, connections=o.concurrency)
        quiet(server, cluster)
    reset = server.reset_peak()
    pg_before, cpu_before = cluster.cpu_seconds(), server.cpu_seconds()
    result = load.run(url, bodies, seconds=o.duration, connections=o.concurrency)
    # Read at once: what the server still does after wrk stops is for requests it dropped.
    cpu_after, pg_after = server.cpu_seconds(), cluster.cpu_seconds()
    peak = server.peak_rss_mib()
    quiet(server, cluster)
    per_request = 1000 / result.requests if result.requests else None
    return Run(
        rps=result.rps, p50_ms=result.p50_ms, p99_ms=result.p99_ms, requests=result.requests,
        errors=result.errors,
        server_cpu_ms=None if per_request is None else (cpu_after - cpu_before) * per_request,
        pg_cpu_ms=None if per_request is None or pg_before is None or pg_after is None
        else (pg_after - pg_before) * per_request,
        peak_rss_mib=peak, peak_rss_reset=reset,
    )  # fmt: skip


def _same_answers(op: Operation, row: Row, answers: dict[str, Any]) -> None:
    """The floor and the cache must give exactly soilapi's data, or their figures mean nothing.

    For a varied operation the first bodies of each are compared (the same question each time:
    the same slug, rows or position in the list, in each target's own form).
    """
    reference = answers.get("soilapi")
    for target in ("floor", "soilapi-cached"):
        answer = answers.get(target)
        if answer is None or reference is None or comparable(answer) == comparable(reference):
            continue
        row[target].note = "answer differs from soilapi's"
        pg.say(f"warning: {op.name}: {target}'s answer differs from soilapi's")


def _statements(
    cluster: pg.Server, database: str, sends: dict[str, Callable[[int], object]]
) -> dict[str, float | None]:
    """SQL statements per request of each target: STATEMENT_SAMPLES requests sent in turn.

    The database must be quiet first: wrk stops on time and drops its open requests, but the
    servers still finish them, and their statements must not be counted.
    """
    if cluster.cpu_seconds() is None:  # else every run ended with quiet(), PostgreSQL's too
        asyncio.run(pg.settle(cluster, database))
    if not cluster.counts_statements:
        return dict.fromkeys(sends)
    out: dict[str, float | None] = {}
    for target, send in sends.items():
        asyncio.run(pg.reset_statements(cluster))
        for i in range(STATEMENT_SAMPLES):
            send(i)
        out[target] = asyncio.run(pg.statements_run(cluster, database)) / STATEMENT_SAMPLES
    return out


def _sender(server: servers.Server, op: Operation, bodies: list[bytes]) -> Callable[[int], object]:
    """Send the i-th body (in turn) to the server, once."""
    return lambda i: servers.post(server.url(op.name), bodies[i % len(bodies)])


def _prepare(
    server: servers.Server, op: Operation, variables: Variables
) -> tuple[Cell, list[bytes] | None, Any]:
    """The bodies a target is sent and its first answers, or a cell saying why it cannot run."""
    try:
        sets = variables.sets(op.name, server.name)
    except Unavailable as why:
        return Cell(note=str(why)), None, None
    bodies = [op.body(server.name, v) for v in sets]
    size, answers, problem = check(server, op, bodies)
    if problem:
        return Cell(note=problem), None, None
    distinct = list(dict.fromkeys(bodies))
    if server.name == "soilapi-cached" and len(distinct) > 1:
        _fill(server, op, distinct)
    cell = Cell(response_bytes=size, bodies=len(bodies), distinct_bodies=len(distinct))
    return cell, bodies, answers


def _skipped(op: Operation) -> Cell:
    """The cell of a server the operation is not for."""
    return Cell(note=f"not run: {op.name} is for {', '.join(op.targets)} only", skipped=True)


def _fill(server: servers.Server, op: Operation, bodies: list[bytes]) -> None:
    """Send every body once, so that the cache's runs are of a warm cache from the first.

    A fixed body is cached by the check; the bodies of a varied operation would otherwise
    fill the cache during the runs, and each round of --repeat would find it warmer.
    """
    pg.say(f"filling {server.name}'s cache with the {len(bodies):,} bodies of {op.name}")
    with ThreadPoolExecutor(FILL_CONNECTIONS) as pool:
        list(pool.map(lambda body: servers.post(server.url(op.name), body), bodies))


def run_scale(
    cluster: pg.Server, database: str, scale: int, targets: list[str], operations: list[Operation],
    o: Options,
) -> dict[str, Row]:  # fmt: skip
    """Every operation on every target, servers started once for the scale.

    With --repeat the runs of an operation go round the targets (floor, soilapi, ..., then
    again), so that a slow spell of the machine does not fall on one target's runs only.
    """
    url = cluster.url(database)
    pg.say(f"starting {', '.join(targets)} on {database}")
    running = servers.start_all(targets, url, f"s{scale}")
    try:
        variables = Variables(url, o.seed, running)
        rows: dict[str, Row] = {}
        cells = sum(1 for op in operations for t in running if t in op.targets) * o.repeat
        done = 0
        for op in operations:
            row: Row = {}
            answers: dict[str, Any] = {}
            ready: dict[str, list[bytes]] = {}
            sent = {target: server for target, server in running.items() if target in op.targets}
            for target in running.keys() - sent.keys():
                row[target], answers[target] = _skipped(op), None
            for target, server in sent.items():
                row[target], bodies, answers[target] = _prepare(server, op, variables)
                if bodies is not None:
                    ready[target] = bodies
            runs: dict[str, list[Run]] = {target: [] for target in ready}
            for i in range(o.repeat):
                for target, bodies in ready.items():
                    done += 1
                    turn = f" · run {i + 1}/{o.repeat}" if o.repeat > 1 else ""
                    pg.say(f"[{done}/{cells}] scale {scale} · {op.name} · {target}{turn}")
                    runs[target].append(measure(running[target], op, bodies, cluster, o))
            done += (len(sent) - len(ready)) * o.repeat
            sends = {
                target: _sender(running[target], op, bodies) for target, bodies in ready.items()
            }
            for target, statements in _statements(cluster, database, sends).items():
                row[target].statements = statements
            for target, bodies in ready.items():
                row[target].summarise(runs[target])
                if o.profile and target in ("soilapi", "soilapi-cached"):
                    profile.record(running[target], op, bodies, o.duration, o.concurrency)
                    quiet(running[target], cluster)
            _same_answers(op, row, answers)
            rows[op.name] = row
        return rows
    finally:
        for server in running.values():
            server.stop()
