"""`python -m bench.neighbours`: does one client's heavy traffic slow its neighbours down?

Starts soilapi with rate limiting on (two API keys: an attacker's and a victim's) on a bench
database. A victim sends a light query at a steady rate (`--victim-rate`, 20 a second) for
`--idle-seconds` alone, then for `--attack-seconds` while an attacker sends, back to back
from `--attackers` connections, unique documents that are costly to validate, waiting the
Retry-After of each 429 as a well-behaved but greedy client would. It prints the victim's
latency percentiles per window, the attacker's admitted and refused requests, and the CPU the
server and PostgreSQL used. The criterion of "Hold under hostile traffic": while one client
sends the heaviest documents it can within its rate limit, another client's p50 stays within
2x of its idle p50. Exit status 1 when the attack's p50 is over `--max-ratio` x the idle p50.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench import generate, pg, servers
from bench.variables import Variables

# The victim: one organisation and a page of its children. `first` varies with the slug so
# that no (slug, first) pair repeats within a run: every request misses the response cache
# and does the same work (compiled SQL) in both phases.
VICTIM_DOCUMENT = (
    "query Neighbour($slug: String!, $first: Int!) "
    "{ organization(slug: $slug) { name children(first: $first) { nodes { name } } } }"
)
FIRSTS = range(1, 11)
CPU_EVERY = 0.25  # seconds between readings of the server's and PostgreSQL's CPU time
MAX_RETRY_WAIT = 60.0  # an attacker never waits longer than this for one Retry-After
TIMEOUT = 60.0  # seconds a request may take before the client gives up


def heavy_document(serial: int, names: int) -> bytes:
    """A request body costly to validate: one field `names` times, unique by its alias.

    graphql-core's overlapping-fields rule compares the repeated fields pairwise until it
    gives up ("Validation aborted"), about 0.13 s of CPU at 1,000 names; the alias makes each
    document new to every cache.
    """
    query = f"{{ organizations(first: 1) {{ nodes {{ n{serial}: name {'name ' * names}}} }} }}"
    return json.dumps({"query": query}).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, reopened when the server closed it."""

    def __init__(self, port: int, api_key: str) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", "X-API-Key": api_key}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)

    def post(self, body: bytes) -> tuple[int, str | None]:
        """POST to /graphql; the status and the Retry-After header.

        A keep-alive connection the server closed while idle fails on its next use; that
        request is sent once more on a new connection.
        """
        for attempt in range(2):
            try:
                self.conn.request("POST", "/graphql", body, self.headers)
                response = self.conn.getresponse()
                response.read()
                return response.status, response.getheader("retry-after")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the socket."""
        self.conn.close()


@dataclass
class Record:
    """The requests of one run, in seconds since its start."""

    # due, latency from due, latency from sent, status
    victim: list[tuple[float, float, float, int]] = field(default_factory=list)
    attacker: list[tuple[float, int]] = field(default_factory=list)  # sent, status
    lock: threading.Lock = field(default_factory=threading.Lock)


def victim(
    port: int,
    key: str,
    bodies: Sequence[bytes],
    rate: float,
    workers: int,
    start: float,
    record: Record,
) -> Callable[[], None]:
    """Start the victim's pacer and workers; returns a function that waits for them.

    Open loop: request i is due at i / rate, whatever happened to the ones before, and its
    latency runs from when it was due, so time spent waiting for a free connection counts (a
    closed loop would send fewer requests exactly when the server is slow, and hide it).
    """
    due: queue.Queue[tuple[float, bytes] | None] = queue.Queue()

    def pace() -> None:
        for i, body in enumerate(bodies):
            at = i / rate
            time.sleep(max(0.0, start + at - time.monotonic()))
            due.put((at, body))
        for _ in range(workers):
            due.put(None)

    def work() -> None:
        conn = Connection(port, key)
        try:
            while (item := due.get()) is not None:
                at, body = item
                sent = time.monotonic()
                try:
                    status, _ = conn.post(body)
                except (OSError, http.client.HTTPException):
                    status = 0  # counted as failed; the next request opens a new connection
                    conn.close()
                done = time.monotonic()
                with record.lock:
                    record.victim.append((at, done - start - at, done - sent, status))
        finally:
            conn.close()

    threads = [threading.Thread(target=pace, daemon=True)]
    threads += [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()

    def join() -> None:
        for thread in threads:
            thread.join()

    return join


def attacker(
    port: int,
    key: str,
    names: int,
    serials: itertools.count[int],
    start: float,
    stop: threading.Event,
    record: Record,
) -> None:
    """Send unique heavy documents back to back until `stop`; on a 429 wait its Retry-After."""
    conn = Connection(port, key)
    try:
        while not stop.is_set():  # set by the caller when the attack phase ends
            body = heavy_document(next(serials), names)
            sent = time.monotonic() - start
            status, retry_after = conn.post(body)
            with record.lock:
                record.attacker.append((sent, status))
            if status == 429:
                wait = float(retry_after) if retry_after and retry_after.isdigit() else 1.0
                stop.wait(min(wait, MAX_RETRY_WAIT))
    finally:
        conn.close()


def victim_bodies(url: str, seed: int, count: int) -> tuple[list[bytes], int]:
    """`count` victim requests (slug, first) in a seeded order, and how many repeat one."""
    rows = Variables(url, seed, {}).fetch(
        "SELECT slug FROM entities WHERE kind = 'organization' ORDER BY slug"
    )
    pairs = [(str(row["slug"]), first) for row in rows for first in FIRSTS]
    if not pairs:
        raise SystemExit("the bench database holds no organisations")
    random.Random(f"{seed}:neighbours").shuffle(pairs)  # noqa: S311 - reproducible, not secret
    chosen = [pairs[i % len(pairs)] for i in range(count)]
    bodies = [
        json.dumps({"query": VICTIM_DOCUMENT, "variables": {"slug": s, "first": f}}).encode()
        for s, f in chosen
    ]
    return bodies, max(0, count - len(pairs))


@dataclass
class Window:
    """One stretch of the run, in seconds since its start, and the CPU used in it."""

    name: str
    begin: float
    end: float
    server_cpu: float = 0.0
    pg_cpu: float | None = None


def _run(args: argparse.Namespace) -> tuple[list[Window], Record, int]:
    """Serve, load and measure; the windows, what was sent, and how many victim bodies repeat."""
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    try:
        built = generate.ensure(cluster, args.scale, args.seed, rebuild=False)
        url = cluster.url(built.database)
        idle, attack = float(args.idle_seconds), float(args.attack_seconds)
        count = int((idle + attack) * args.victim_rate)
        bodies, repeats = victim_bodies(url, args.seed, count)
        # Fresh keys per run: buckets live in the database, and one drained by the last run
        # (within the last minute) would give this run's attacker less to spend.
        run = uuid.uuid4().hex[:8]
        attacker_key, victim_key = f"bench-attacker-{run}", f"bench-victim-{run}"
        settings = {
            "RATE_LIMIT_ENABLED": "true",
            "RATE_LIMIT_API_KEYS": f"{attacker_key},{victim_key}",
        }
        server = servers.start("soilapi-cached", url, f"neighbours-s{args.scale}", settings)
        try:
            windows, record = _phases(args, server, cluster, bodies, (attacker_key, victim_key))
            return windows, record, repeats
        finally:
            server.stop()
    finally:
        pg.stop(cluster)


def _phases(
    args: argparse.Namespace,
    server: servers.Server,
    cluster: pg.Server,
    bodies: Sequence[bytes],
    keys: tuple[str, str],
) -> tuple[list[Window], Record]:
    """The idle phase, then the attack; then the windows, cut where the attacker's bucket ran
    dry (its first 429), with the CPU used in each."""
    idle, attack = float(args.idle_seconds), float(args.attack_seconds)
    record = Record()
    start = time.monotonic()
    cpu: list[tuple[float, float, float | None]] = []  # seconds, server's CPU, PostgreSQL's
    done = threading.Event()

    def sample() -> None:
        while True:  # until `done`, set when both phases are over
            cpu.append((time.monotonic() - start, server.cpu_seconds(), cluster.cpu_seconds()))
            if done.wait(CPU_EVERY):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    join_victim = victim(
        server.port, keys[1], bodies, args.victim_rate, args.victim_connections, start, record
    )
    pg.say(f"idle: the victim alone for {idle:.0f} s")
    _sleep_until(start + idle)
    pg.say(f"attack: {args.attackers} attacker connections for {attack:.0f} s")
    stop = threading.Event()
    serials = itertools.count()
    attackers = [
        threading.Thread(
            target=attacker,
            args=(server.port, keys[0], args.attack_names, serials, start, stop, record),
            daemon=True,
        )
        for _ in range(args.attackers)
    ]
    for thread in attackers:
        thread.start()
    _sleep_until(start + idle + attack)
    stop.set()
    done.set()
    sampler.join()
    for thread in attackers:
        thread.join(TIMEOUT)
    join_victim()
    return _windows(idle, attack, record, cpu), record


def _windows(
    idle: float, attack: float, record: Record, cpu: list[tuple[float, float, float | None]]
) -> list[Window]:
    """Idle, the attack until its first 429, the rest of it, all of it; with their CPU."""
    end = idle + attack
    dry = min((at for at, status in record.attacker if status == 429), default=end)
    windows = [
        Window("idle", 0.0, idle),
        Window(f"attack 0-{dry - idle:.0f} s", idle, dry),
        Window(f"attack {dry - idle:.0f}-{attack:.0f} s", dry, end),
        Window(f"attack 0-{attack:.0f} s", idle, end),
    ]

    def at(moment: float) -> tuple[float, float | None]:
        _, server, postgres = next((c for c in reversed(cpu) if c[0] <= moment), cpu[0])
        return server, postgres

    for window in windows:
        (server_a, pg_a), (server_b, pg_b) = at(window.begin), at(window.end)
        window.server_cpu = server_b - server_a
        window.pg_cpu = None if pg_a is None or pg_b is None else pg_b - pg_a
    return windows


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of some values; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(max(1, math.ceil(share * len(ordered))), len(ordered))
    return ordered[rank - 1]


def _row(window: Window, record: Record) -> tuple[str, float]:
    """One line of the table, and the window's victim p50 in ms."""
    inside = [v for v in record.victim if window.begin <= v[0] < window.end]
    latencies = [latency * 1000 for _, latency, _, status in inside if status == 200]
    service = [took * 1000 for _, _, took, status in inside if status == 200]
    failed = len(inside) - len(latencies)
    sent = [status for at, status in record.attacker if window.begin <= at < window.end]
    refused = sum(status == 429 for status in sent)
    seconds = max(window.end - window.begin, 1e-9)
    p50, p90, p99 = (percentile(latencies, s) for s in (0.5, 0.9, 0.99))
    attack = f"{len(sent) - refused:>6,} {refused:>6,}" if window.name != "idle" else f"{'-':>13}"
    pg_share = "-" if window.pg_cpu is None else f"{window.pg_cpu / seconds:.0%}"
    svc = percentile(service, 0.5)
    cpu = f"{window.server_cpu:>6.1f} s {window.server_cpu / seconds:>5.0%}"
    line = (
        f"  {window.name:<15} {len(latencies):>6,} {failed:>4} {p50:>7.1f} {p90:>7.1f} "
        f"{p99:>7.1f} {svc:>7.1f}  {attack}  {cpu}  {pg_share:>5}"
    )
    return line, p50


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.neighbours", description=__doc__)
    p.add_argument("--scale", type=int, default=1, help="bench database scale (default 1)")
    p.add_argument("--idle-seconds", type=int, default=10, help="victim alone (default 10)")
    p.add_argument("--attack-seconds", type=int, default=60, help="under attack (default 60)")
    p.add_argument("--attackers", type=int, default=2, help="attacker connections (default 2)")
    p.add_argument(
        "--attack-names", type=int, default=1000,
        help="repeated fields per attacker document (default 1000: ~5 KB; 3900 fills the "
        "20,000-character limit)",
    )  # fmt: skip
    p.add_argument("--victim-rate", type=float, default=20.0, help="victim requests a second")
    p.add_argument(
        "--victim-connections", type=int, default=16, help="victim connections (default 16)"
    )
    p.add_argument("--max-ratio", type=float, default=2.0, help="attack p50 / idle p50 allowed")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data seed")
    args = p.parse_args(argv)
    if args.idle_seconds < 1 or args.attack_seconds < 1 or args.victim_rate <= 0:
        raise SystemExit("--idle-seconds and --attack-seconds >= 1, --victim-rate > 0")
    if args.attackers < 1 or args.victim_connections < 1:
        raise SystemExit("--attackers and --victim-connections must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the idle and attack phases and print the victim's latencies per window."""
    args = _parse(argv)
    windows, record, repeats = _run(args)
    size = len(heavy_document(0, args.attack_names))
    print(
        f"neighbours: scale {args.scale}, victim {args.victim_rate:g} req/s on "
        f"{args.victim_connections} connections; attacker {args.attackers} connections of "
        f"unique ~{size / 1000:.0f} KB documents ({args.attack_names} repeated fields)"
    )
    if repeats:
        print(f"  {repeats} victim requests repeat an earlier one (answered from the cache)")
    print(
        f"  {'window':<15} {'victim':>6} {'fail':>4} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}"
        f" {'svc p50':>7}"
        f"  {'admit':>6} {'429':>6}  {'server CPU':>14}  {'PG':>5}"
    )
    p50s: dict[str, float] = {}
    refused = windows[2].end > windows[2].begin  # the attacker's bucket ran dry
    for window in windows:
        if refused or window not in windows[1:3]:
            line, p50s[window.name] = _row(window, record)
            print(line)
    idle, attack = p50s["idle"], p50s[windows[3].name]
    ratio = attack / idle if idle > 0 else float("inf")
    verdict = "pass" if ratio <= args.max_ratio else "FAIL"
    print(
        f"  victim p50: idle {idle:.1f} ms, attack {attack:.1f} ms: {ratio:.2f}x "
        f"({verdict}; criterion <= {args.max_ratio:g}x over the whole attack)"
    )
    if refused:
        before, after = p50s[windows[1].name], p50s[windows[2].name]
        print(
            f"  the attacker's bucket ran dry {windows[1].end - windows[1].begin:.1f} s into the "
            f"attack (its first 429): victim p50 {before / idle:.2f}x idle before, "
            f"{after / idle:.2f}x after"
        )
    else:
        print("  the attacker was never refused: its bucket lasted the whole attack")
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
