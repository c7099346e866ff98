"""`python -m bench.soak`: does soilapi's memory stay flat under a long load?

Starts soilapi (response cache off) on a bench database, sends one operation for `--seconds`
(60 by default) from wrk, samples the server's resident memory every second, and prints the
mean RSS of the first and the last 10 seconds. A server whose memory grows with the number of
requests served (a leak, an unbounded cache) shows it here long before production does.
Exit status 1 when the last 10 s average more than `--tolerance` MiB above the first 10 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

from bench import generate, load, pg, servers
from bench.suite import BY_NAME
from bench.variables import Variables


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


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    p.add_argument("--scale", type=int, default=1, help="bench database scale (default 1)")
    p.add_argument("--seconds", type=int, default=60, help="seconds of load (default 60)")
    p.add_argument("--op", default="deep_traversal", choices=sorted(BY_NAME), help="operation")
    p.add_argument("--concurrency", type=int, default=10, help="open connections")
    p.add_argument("--tolerance", type=float, default=5.0, help="allowed growth in MiB")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data seed")
    args = p.parse_args(argv)
    if args.seconds < 30:
        raise SystemExit("--seconds must be at least 30: two 10 s windows and a gap between")
    return args


def _soak(args: argparse.Namespace) -> tuple[load.Load, list[tuple[float, float]]]:
    """Serve, load and sample; returns wrk's figures and (seconds, RSS MiB) samples."""
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    try:
        built = generate.ensure(cluster, args.scale, args.seed, rebuild=False)
        url = cluster.url(built.database)
        server = servers.start("soilapi", url, f"soak-s{args.scale}")
        try:
            op = BY_NAME[args.op]
            sets = Variables(url, args.seed, {"soilapi": server}).sets(op.name, "soilapi")
            bodies = [op.body("soilapi", variables) for variables in sets]
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
                server.url(op.name), bodies, seconds=args.seconds, connections=args.concurrency
            )
            done.set()
            sampler.join()
            return result, samples
        finally:
            server.stop()
    finally:
        pg.stop(cluster)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print the memory figures."""
    args = _parse(argv)
    load.find_wrk()
    result, samples = _soak(args)
    first = [rss for t, rss in samples if t <= 10]
    last = [rss for t, rss in samples if t > args.seconds - 10]
    if not first or not last:
        raise SystemExit("no memory samples: is /proc readable?")
    growth = statistics.mean(last) - statistics.mean(first)
    print(f"soak: {args.op}, scale {args.scale}, {args.seconds} s, {args.concurrency} connections")
    print(f"  {result.requests:,} requests, {result.rps:,.0f} req/s, {result.errors} errors")
    print(f"  RSS first 10 s: {statistics.mean(first):.1f} MiB (max {max(first):.1f})")
    print(f"  RSS last 10 s:  {statistics.mean(last):.1f} MiB (max {max(last):.1f})")
    verdict = "flat" if growth <= args.tolerance else "GROWING"
    print(f"  growth: {growth:+.1f} MiB ({verdict}; tolerance {args.tolerance} MiB)")
    return 0 if growth <= args.tolerance else 1


if __name__ == "__main__":
    raise SystemExit(main())
