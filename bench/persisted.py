"""`python -m bench.persisted`: one query sent in full, by hash, and revalidated.

Serves the bench database of `--scale` with soilapi, its response cache off (every request
runs; no ETag, so no 304) and on (as a public read API runs), and sends one operation
(`--op`, by default apollo_typename: the deep traversal as Apollo Client asks it) from wrk in
four ways:

  post      the document in a POST body, as most clients send it;
  get       the document in the URL;
  get-hash  automatic persisted query: the hash alone in the URL (sent with its query once
            before the run, so that the server knows it);
  get-304   the same hash-only GET with the ETag of its answer in If-None-Match.

It prints requests a second, p50 and p99 latency (of the run with the median rate, out of
`--repeat` runs gone through round after round), and the bytes of each request (its URL or
body) and of its answer. The hash costs a dictionary lookup where the full text costs its
bytes on the wire; the 304 sends no answer at all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass

from bench import generate, load, pg, servers
from bench.suite import BY_NAME

# The operations that send one fixed body (the others take variables gathered per database).
FIXED = ("apollo_typename", "deep_traversal", "facilities_agreements", "list_filtered",
         "per_parent_pages", "dashboard", "introspection")  # fmt: skip


@dataclass(frozen=True)
class Way:
    """One way of sending the operation: what wrk sends, and the sizes on the wire."""

    mode: str
    url: str
    body: bytes | None
    headers: dict[str, str]
    sent: int  # bytes of the URL's path and query, or of the body
    received: int  # bytes of the answer's body


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our loopback URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status), bytes(response.read()), response.headers.get("etag")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("etag")


def ways(endpoint: str, document: str) -> list[Way]:
    """The ways to send `document`, each checked to be answered as the wrk run expects."""
    body = json.dumps({"query": document}).encode()
    extensions = {
        "persistedQuery": {
            "version": 1,
            "sha256Hash": hashlib.sha256(document.encode()).hexdigest(),
        }
    }
    full = f"{endpoint}?{urllib.parse.urlencode({'query': document})}"
    hashed = f"{endpoint}?{urllib.parse.urlencode({'extensions': json.dumps(extensions)})}"
    status, answer = servers.post(
        endpoint, json.dumps({"query": document, "extensions": extensions}).encode()
    )
    if status != 200 or b'"errors"' in answer:
        raise SystemExit(f"the document was not answered: HTTP {status} {answer[:300]!r}")
    status, answer, etag = _get(hashed, {})
    if status != 200:
        raise SystemExit(f"a hash-only GET was not answered: HTTP {status} {answer[:300]!r}")
    found = [
        Way("post", endpoint, body, {}, len(body), len(answer)),
        Way("get", full, None, {}, _target(full), len(answer)),
        Way("get-hash", hashed, None, {}, _target(hashed), len(answer)),
    ]
    if etag is None:  # the response cache is off: no ETag to revalidate with
        return found
    if _get(hashed, {"if-none-match": etag})[0] != 304:
        raise SystemExit("a hash-only GET with its ETag was not answered 304")
    return [*found, Way("get-304", hashed, None, {"if-none-match": etag}, _target(hashed), 0)]


def _target(url: str) -> int:
    """Bytes of a URL's path and query: what a GET sends of it in its request line."""
    parts = urllib.parse.urlsplit(url)
    return len(parts.path) + 1 + len(parts.query)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.persisted", description=__doc__)
    p.add_argument("--scale", type=int, default=1, help="bench database scale (default 1)")
    p.add_argument("--seconds", type=int, default=5, help="seconds of load per run (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured seconds per way first")
    p.add_argument("--repeat", type=int, default=3, help="measured runs per way: the median")
    p.add_argument("--op", default="apollo_typename", choices=FIXED, help="operation")
    p.add_argument("--concurrency", type=int, default=10, help="open connections")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data seed")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure each way on each server and print the table."""
    args = _parse(argv)
    load.find_wrk()
    document = BY_NAME[args.op].document("soilapi")
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    rows = []
    try:
        built = generate.ensure(cluster, args.scale, args.seed, rebuild=False)
        for name in ("soilapi", "soilapi-cached"):
            server = servers.start(name, cluster.url(built.database), f"persisted-s{args.scale}")
            try:
                found = ways(server.url("graphql"), document)
                runs: dict[str, list[load.Load]] = {way.mode: [] for way in found}
                # Round after round through the ways, each round starting one way further on,
                # so that a neighbour's load on the machine or a warming cache weighs on each
                # way alike; a warm-up first.
                rounds = [args.warmup] * bool(args.warmup) + [args.seconds] * args.repeat
                for turn, seconds in enumerate(rounds):
                    for way in found[turn % len(found) :] + found[: turn % len(found)]:
                        measured = load.run(
                            way.url,
                            way.body,
                            seconds=seconds,
                            connections=args.concurrency,
                            headers=way.headers,
                        )
                        if seconds == args.seconds:
                            runs[way.mode].append(measured)
                for way in found:
                    ranked = sorted(runs[way.mode], key=lambda run: run.rps)
                    rows.append((name, way, ranked[len(ranked) // 2]))
            finally:
                server.stop()
    finally:
        pg.stop(cluster)
    print(f"persisted: {args.op}, scale {args.scale}, median of {args.repeat} runs of "
          f"{args.seconds} s, {args.concurrency} connections")  # fmt: skip
    columns = ("req/s", "p50 ms", "p99 ms", "sent B", "got B", "errors")
    print(f"  {'server':<15}{'way':<10}" + "".join(f"{c:>8}" for c in columns))
    for name, way, m in rows:
        print(f"  {name:<15}{way.mode:<10}{m.rps:>8,.0f}{m.p50_ms:>8.2f}{m.p99_ms:>8.2f}"
              f"{way.sent:>8,}{way.received:>8,}{m.errors:>8}")  # fmt: skip
    return 1 if any(m.errors for _, _, m in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
