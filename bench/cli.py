"""`python -m bench`: build the databases, measure the suite on the raw-SQL floor, soilapi
(response cache off and on) and PostGraphile, print a table per scale, and write
bench/results/ (JSON and PNG). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import generate, load, pg, postgraphile, report, run
from bench.suite import BY_NAME, OPERATIONS, TARGETS
from soilapi.settings import Settings


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--scales", default="1,10,100", help="comma-separated scales (default 1,10,100)")
    p.add_argument("--duration", type=int, default=10, help="seconds of load per operation")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before")
    p.add_argument("--concurrency", type=int, default=10, help="open connections (default 10)")
    p.add_argument("--repeat", type=int, default=1,
                   help="measured runs per operation and server; the table shows the median "
                   "req/s and its spread (default 1)")  # fmt: skip
    p.add_argument("--only", help="servers, comma-separated (default floor,soilapi,postgraphile)")
    p.add_argument("--ops", default="all", help="operations, comma-separated (default all)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="scale 1, 1 s per operation, no warm-up, floor and soilapi only",
    )
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data generator seed")
    p.add_argument("--rebuild", action="store_true", help="regenerate the databases")
    p.add_argument("--profile", action="store_true",
                   help="after each soilapi run, profile a repeat of it with py-spy")  # fmt: skip
    p.add_argument("--pg-dir", type=Path, default=pg.DEFAULT_DIR, help="private PostgreSQL data")
    p.add_argument("--pg-port", type=int, default=pg.DEFAULT_PORT, help="its port")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.smoke:
        args.scales, args.duration, args.warmup = "1", 1, 0
    if args.only is None:
        args.only = "floor,soilapi" if args.smoke else ",".join(TARGETS)
    return args


def _targets(only: str) -> list[str]:
    wanted = _list(only)
    unknown = set(wanted) - set(TARGETS)
    if unknown:
        raise SystemExit(f"--only: unknown servers {sorted(unknown)}; choose from {TARGETS}")
    targets = [t for t in TARGETS if t in wanted]
    if "soilapi-cached" in targets and "response_cache_enabled" not in Settings.model_fields:
        pg.say(
            "skipping soilapi-cached: this soilapi has no response cache (RESPONSE_CACHE_ENABLED)"
        )
        targets.remove("soilapi-cached")
    if "postgraphile" in targets:
        reason = postgraphile.install()
        if reason:
            pg.say(f"skipping PostGraphile: {reason}")
            targets.remove("postgraphile")
    return targets


def _operations(ops: str) -> list[Any]:
    if ops == "all":
        return list(OPERATIONS)
    unknown = set(_list(ops)) - set(BY_NAME)
    if unknown:
        raise SystemExit(
            f"--ops: unknown operations {sorted(unknown)}; choose from {list(BY_NAME)}"
        )
    return [op for op in OPERATIONS if op.name in _list(ops)]


def _version(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)  # noqa: S603
    except OSError:
        return None
    return (
        (done.stdout or done.stderr).strip().splitlines()[0]
        if (done.stdout or done.stderr)
        else None
    )


def _meta(args: argparse.Namespace, targets: list[str], cluster: pg.Server) -> dict[str, Any]:
    node = postgraphile.node_binary()
    return {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "options": {"duration_s": args.duration, "warmup_s": args.warmup,
                    "concurrency": args.concurrency, "repeat": args.repeat, "seed": args.seed,
                    "servers": targets},
        "machine": {
            "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(),
            "postgresql": asyncio.run(pg.server_version(cluster)),
            "node": _version([str(node), "--version"]) if "postgraphile" in targets else None,
            "postgraphile": postgraphile.PACKAGES["postgraphile"] if "postgraphile" in targets
            else None,
            "wrk": _version([load.find_wrk(), "--version"]),
        },
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when any operation failed on any server."""
    args = parse(argv)
    scales = [int(s) for s in _list(args.scales)]
    operations = _operations(args.ops)
    targets = _targets(args.only)
    try:
        load.find_wrk()
    except SystemExit as missing:
        if not args.smoke:
            raise
        # The smoke run only keeps the harness working; without its load tool it cannot run,
        # and that is no reason to fail a test run on a machine that cannot install it.
        pg.say(f"smoke run skipped: {missing}")
        return 0
    options = run.Options(
        args.duration, args.warmup, args.concurrency, args.seed, args.profile, args.repeat
    )
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), args.pg_dir, args.pg_port)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    runs = f"median of {args.repeat} runs" if args.repeat > 1 else "1 run"
    header = (f"{args.duration} s per run after {args.warmup} s warm-up · {runs} per cell · "
              f"{args.concurrency} connections · wrk, 1 thread")  # fmt: skip
    done: dict[int, dict[str, Any]] = {}
    try:
        meta = _meta(args, targets, cluster)
        for scale in scales:
            built = generate.ensure(cluster, scale, args.seed, rebuild=args.rebuild)
            generate.print_built(scale, built)
            rows = run.run_scale(cluster, built.database, scale, targets, operations, options)
            print(report.table(scale, rows, header), flush=True)
            database = {"name": built.database, "reused": built.reused,
                        "build_seconds": round(built.seconds, 1), "rows": built.totals}  # fmt: skip
            done[scale] = {"database": database, "rows": rows}
            doc = report.document(meta, done)
            path = report.write(doc, stamp)  # after every scale, so a crash keeps the rest
        png = report.plot(doc, report.RESULTS / "latest.png")
    finally:
        pg.stop(cluster)
    print(f"\nresults: {path} (and latest.json)" + (f", plot: {png}" if png else ""))
    failed = [(s, o, t) for s, e in done.items() for o, r in e["rows"].items()
              for t, c in r.items() if c.rps is None and not c.skipped]  # fmt: skip
    for scale, op, target in failed:
        print(f"FAILED: scale {scale} {op} on {target}: {done[scale]['rows'][op][target].note}")
    return 1 if failed else 0
