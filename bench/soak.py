"""`python -m bench.soak`: does soilapi's memory stay flat under a long load?

Starts soilapi (response cache off) on a bench database, sends one operation for `--seconds`
(60 by default) from wrk, samples the server's resident memory every second, and prints the
mean RSS of the first and the last 10 seconds. A server whose memory grows with the number of
requests served (a leak, an unbounded cache) shows it here long before production does.
Exit status 1 when the last 10 s average more than `--tolerance` MiB above the first 10 s.

`--unique-large` sends, instead of one operation, documents of 11 to 19 KB that are all
different (each request numbered by wrk), with the response cache on: every cache keyed by
the document (parsed documents, validations, costs, compiled statements, responses) sees
only new keys, which is what a client defeating the caches on purpose does. Memory must then
grow until those caches are full, and not after: the run first loads the server in 30 s
rounds until each of them has evicted an entry (at most `--warmup-limit` seconds), and only
then measures `--seconds` of load as above.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from graphql import parse, print_ast

from bench import generate, load, pg, servers
from bench.suite import BY_NAME
from bench.variables import Variables

# A --unique-large document: 30 aliased lists (the most aliases a query may have), printed
# with indentation as clients send them. Each list's needle holds the request's serial number
# (load.UNIQUE), so it matches no name: the answers are short, and the memory weighed is that
# of the caches keyed by documents, not of large answers. Four templates, from ~11 to ~19 KB
# (request bodies), by extra fields and needle length: each list of each template compiles a
# statement of its own, and 4 x 30 fit soilapi's 256 compiled statements, where 9 x 30 would
# evict each one before its next use and rebuild it at every request (~1 req/s).
LARGE_LISTS = 30
LARGE_FIELDS = (
    "name acronym slug start { iso precision } end { iso } country parent { slug name } "
    "children(first: 2) { nodes { name } }"
)
LARGE_EXTRA = ("id", "description", "kind", "orgClass", "category", "isInternationalOrg",
               "jurisdictionLabel", "end { precision }")  # fmt: skip
LARGE_TEMPLATES = (0, 3, 5, 8)  # extra fields per template
# The caches every unique document adds to, by their /metrics names: full once each evicts.
DOCUMENT_CACHES = ("documents", "validations", "costs", "plan_templates", "plans",
                   "compiled_requests", "responses")  # fmt: skip
WARMUP_ROUND = 30  # seconds of load between two looks at the caches
SERIALS_PER_ROUND = 1_000_000  # request numbers each round may use (keeps needles <= 100 chars)


def rss_mib(pid: int) -> float | None:
    """Current resident memory of a process, in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def large_templates() -> list[bytes]:
    """Request bodies of ~11 to ~19 KB, each made unique per request by wrk (load.UNIQUE)."""
    mark = load.UNIQUE.decode()
    bodies = []
    for extra in LARGE_TEMPLATES:
        fields = " ".join((LARGE_FIELDS, *LARGE_EXTRA[:extra]))
        filler = 20 + 8 * extra  # nameContains takes 100 characters, serial number included
        lists = " ".join(
            f'l{i}: organizations(first: 2, nameContains: "{mark}-{i}-{"soil"[i % 4] * filler}")'
            f" {{ nodes {{ {fields} }} }}"
            for i in range(LARGE_LISTS)
        )
        query = print_ast(parse(f"{{ {lists} }}"))
        bodies.append(json.dumps({"query": query}).encode())
    return bodies


def cache_figures(port: int) -> dict[str, dict[str, float]]:
    """Each soilapi cache's entries and bytes, and their bounds, read from /metrics."""
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    found: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if not line.startswith("soilapi_cache_") or '{cache="' not in line:
            continue
        metric, rest = line[len("soilapi_cache_") :].split('{cache="', 1)
        name, value = rest.split('"}', 1)
        found.setdefault(name, {})[metric] = float(value)
    return found


def _check_large(server: servers.Server, template: bytes) -> None:
    """One --unique-large document must be answered with data, not refused."""
    body = template.replace(load.UNIQUE, b"0")
    status, raw = servers.post(server.url("graphql"), body)
    answer = json.loads(raw) if raw.startswith(b"{") else {}
    if status != 200 or answer.get("errors") or not answer.get("data"):
        raise SystemExit(f"a --unique-large document was refused: HTTP {status} {raw[:300]!r}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    p.add_argument("--scale", type=int, default=1, help="bench database scale (default 1)")
    p.add_argument("--seconds", type=int, default=60, help="seconds of load (default 60)")
    p.add_argument("--op", default="deep_traversal", choices=sorted(BY_NAME), help="operation")
    p.add_argument("--concurrency", type=int, default=10, help="open connections")
    p.add_argument("--tolerance", type=float, default=5.0, help="allowed growth in MiB")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data seed")
    p.add_argument(
        "--unique-large",
        action="store_true",
        help="send unique 11-19 KB documents (response cache on) instead of --op",
    )
    p.add_argument(
        "--warmup-limit",
        type=int,
        default=1200,
        help="--unique-large: most seconds of load to fill the caches first (default 1200)",
    )
    args = p.parse_args(argv)
    if args.seconds < 30:
        raise SystemExit("--seconds must be at least 30: two 10 s windows and a gap between")
    return args


@dataclass
class Soaked:
    """What a soak measured: wrk's figures, (seconds, RSS MiB) samples, the caches at the end."""

    result: load.Load
    samples: list[tuple[float, float]]
    caches: dict[str, dict[str, float]]
    warmup: Warmup | None = None


@dataclass
class Warmup:
    """How long the caches took to fill, and the memory then."""

    seconds: float
    requests: int
    rss_mib: float


def _fill_caches(args: argparse.Namespace, server: servers.Server, bodies: list[bytes]) -> Warmup:
    """Load the server in rounds until every cache keyed by documents has evicted."""
    started, requests, rounds = time.monotonic(), 0, 0
    while True:
        caches = cache_figures(server.port)
        empty = [n for n in DOCUMENT_CACHES if not caches.get(n, {}).get("evictions_total")]
        if not empty:
            break
        if time.monotonic() - started > args.warmup_limit:
            raise SystemExit(f"caches not full after {args.warmup_limit} s: {', '.join(empty)}")
        rounds += 1
        done = load.run(
            server.url("graphql"),
            bodies,
            seconds=WARMUP_ROUND,
            connections=args.concurrency,
            unique=True,
            first_serial=rounds * SERIALS_PER_ROUND,
        )
        requests += done.requests
        print(f"  warm-up: {requests:,} requests, still filling: {', '.join(empty)}", flush=True)
    rss = rss_mib(server.process.pid) or 0.0
    return Warmup(time.monotonic() - started, requests, rss)


def _bodies(args: argparse.Namespace, url: str, server: servers.Server) -> list[bytes]:
    """The bodies wrk sends: --op's (its variable sets in turn), or the large templates."""
    if args.unique_large:
        templates = large_templates()
        _check_large(server, templates[-1])
        return templates
    op = BY_NAME[args.op]
    sets = Variables(url, args.seed, {"soilapi": server}).sets(op.name, "soilapi")
    return [op.body("soilapi", variables) for variables in sets]


def _soak(args: argparse.Namespace) -> Soaked:
    """Serve, load and sample the server's memory every second."""
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    try:
        built = generate.ensure(cluster, args.scale, args.seed, rebuild=False)
        url = cluster.url(built.database)
        # Unique documents with the response cache on: it is one of the caches they fill.
        name = "soilapi-cached" if args.unique_large else "soilapi"
        server = servers.start(name, url, f"soak-s{args.scale}")
        try:
            bodies = _bodies(args, url, server)
            warmup = _fill_caches(args, server, bodies) if args.unique_large else None
            samples: list[tuple[float, float]] = []
            done = threading.Event()

            def sample() -> None:
                start = time.monotonic()
                while not done.wait(1.0):
                    rss = rss_mib(server.process.pid)
                    if rss is not None:
                        samples.append((time.monotonic() - start, rss))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            result = load.run(
                server.url("graphql"),
                bodies,
                seconds=args.seconds,
                connections=args.concurrency,
                unique=args.unique_large,
                first_serial=0,  # the warm-up's rounds start at 1 x SERIALS_PER_ROUND
            )
            done.set()
            sampler.join()
            return Soaked(result, samples, cache_figures(server.port), warmup)
        finally:
            server.stop()
    finally:
        pg.stop(cluster)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print the memory figures."""
    args = _parse(argv)
    load.find_wrk()
    soaked = _soak(args)
    result, samples = soaked.result, soaked.samples
    first = [rss for t, rss in samples if t <= 10]
    last = [rss for t, rss in samples if t > args.seconds - 10]
    if not first or not last:
        raise SystemExit("no memory samples: is /proc readable?")
    growth = statistics.mean(last) - statistics.mean(first)
    what = "unique 11-19 KB documents, response cache on" if args.unique_large else args.op
    print(f"soak: {what}, scale {args.scale}, {args.seconds} s, {args.concurrency} connections")
    if soaked.warmup is not None:
        w = soaked.warmup
        print(
            f"  caches full after {w.seconds:.0f} s of warm-up ({w.requests:,} requests), "
            f"RSS then {w.rss_mib:.1f} MiB; measured from there:"
        )
    print(f"  {result.requests:,} requests, {result.rps:,.0f} req/s, {result.errors} errors")
    print(f"  RSS first 10 s: {statistics.mean(first):.1f} MiB (max {max(first):.1f})")
    print(f"  RSS last 10 s:  {statistics.mean(last):.1f} MiB (max {max(last):.1f})")
    marks = range(10, args.seconds + 1, 10)
    series = [max((r for t, r in samples if mark - 10 < t <= mark), default=0.0) for mark in marks]
    print(f"  RSS max per 10 s: {' '.join(f'{rss:.0f}' for rss in series)} MiB")
    for name, figures in sorted(soaked.caches.items()):
        if figures.get("entries"):
            weighed, bound = figures.get("bytes", 0) / 2**20, figures.get("max_bytes", 0) / 2**20
            print(
                f"  cache {name}: {figures['entries']:,.0f} entries, {weighed:.1f} of "
                f"{bound:.0f} MiB, {figures.get('evictions_total', 0):,.0f} evicted"
            )
    verdict = "flat" if growth <= args.tolerance else "GROWING"
    print(f"  growth: {growth:+.1f} MiB ({verdict}; tolerance {args.tolerance} MiB)")
    return 0 if growth <= args.tolerance else 1


if __name__ == "__main__":
    raise SystemExit(main())
