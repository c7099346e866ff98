"""`python -m bench.compare REV`: this checkout against another revision, in turns, on one database.

"No worse than before" cannot be read off two `make bench` runs made at different times on a
shared 2-core machine: the same code differs by 10-30 % between two of its own runs. Here both
versions run side by side instead, on the same database and the same variable sets, and their
measured runs alternate (base, this, this, base, ...), so a slow spell of the machine falls on
both. Each cell gives the median req/s with its range, and the server's and PostgreSQL's CPU per
request. Run it on a quiet machine all the same: with other work on the cores, even CPU per
request drifts (the same code compared with itself differed by up to 30 % while tests ran
beside it).

REV's files are extracted (`git archive`) under the bench cache and get their own
virtualenv with its locked runtime dependencies. It reads this checkout's database, migrated to
this checkout's head: a revision that needs a column since dropped cannot be compared. Before
the runs, the first answers of both are compared (cursors aside) and a difference is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import generate, pg, run, servers
from bench.suite import BY_NAME, OPERATIONS, Operation
from bench.variables import Unavailable, Variables

REPO = Path(__file__).resolve().parent.parent
CHECKOUTS = pg.CACHE / "compare"
RESULTS = Path(__file__).parent / "results"
# Ops of the original suite (before the varied and soilapi-only ones) come first by default.
DEFAULT_OPS = "list_filtered,deep_traversal,facilities_agreements,node_lookups,per_parent_pages"


def _git(*args: str, cwd: Path = REPO) -> str:
    git = shutil.which("git") or "git"
    done = subprocess.run([git, *args], cwd=cwd, check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout.strip()


def checkout(rev: str) -> Path:
    """The files of `rev` with its runtime dependencies installed (kept for the next run)."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    path = CHECKOUTS / sha[:12]
    if not (path / "pyproject.toml").exists():
        pg.say(f"extracting {sha[:12]} into {path}")
        path.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(  # noqa: S603
            [shutil.which("git") or "git", "archive", sha], cwd=REPO, check=True,
            capture_output=True,
        ).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(path)], input=archive, check=True)  # noqa: S603, S607
    if not (path / ".venv" / "bin" / "soilapi").exists():
        uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
        pg.say(f"installing {sha[:12]}'s locked runtime dependencies")
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(path / ".venv"),
               "UV_PYTHON_DOWNLOADS": "never"}  # fmt: skip
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        subprocess.run(  # noqa: S603
            [uv, "sync", "--frozen", "--no-default-groups", "--python", python],
            cwd=path, env=env, check=True,
        )  # fmt: skip
    return path


def _summary(runs: list[run.Run]) -> dict[str, Any]:
    """One version's figures over its runs, as `make bench` summarises a cell."""
    cell = run.Cell()
    cell.summarise(runs)
    return cell.as_json()


def _bodies(op: Operation, variables: Variables) -> list[bytes] | None:
    try:
        return [op.body("soilapi", v) for v in variables.sets(op.name, "soilapi")]
    except Unavailable as why:
        pg.say(f"{op.name}: skipped ({why})")
        return None


def compare_scale(
    cluster: pg.Server,
    database: str,
    base: Path,
    ops: list[Operation],
    o: run.Options,
    this_root: Path = REPO,
) -> dict[str, Any]:
    """Every operation on both versions, their runs alternating; figures per operation."""
    url = cluster.url(database)
    this = servers.launch("soilapi", url, "compare-this", root=this_root)
    before = servers.launch("soilapi", url, "compare-base", root=base)
    out: dict[str, Any] = {}
    try:
        for server in (this, before):
            servers.wait_ready(server)
        variables = Variables(url, o.seed, {"soilapi": this})
        for op in ops:
            bodies = _bodies(op, variables)
            if bodies is None:
                continue
            answers = {}
            for name, server in (("base", before), ("this", this)):
                _size, answers[name], problem = run.check(server, op, bodies)
                if problem:
                    raise SystemExit(f"{op.name} on {name}: {problem}")
            same = run.comparable(answers["base"]) == run.comparable(answers["this"])
            if not same:
                pg.say(f"warning: {op.name}: the two versions answer differently")
            runs: dict[str, list[run.Run]] = {"base": [], "this": []}
            for i in range(o.repeat):
                turn = [("base", before), ("this", this)]
                for name, server in turn if i % 2 == 0 else turn[::-1]:
                    pg.say(f"{database} · {op.name} · {name} · run {i + 1}/{o.repeat}")
                    runs[name].append(run.measure(server, op, bodies, cluster, o))
            out[op.name] = {
                "same_answers": same,
                **{name: _summary(r) for name, r in runs.items()},
            }
    finally:
        this.stop()
        before.stop()
    return out


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def table(scale: int, rows: dict[str, Any], rev: str, this: str) -> str:
    """One scale's figures, as a Markdown table."""
    lines = [
        f"scale {scale}: {rev} (base) against {this}, runs alternating",
        "| operation | base req/s (range) | this req/s (range) | this ÷ base | srv CPU ms "
        "base → this | PG CPU ms base → this | p50 ms base → this | answers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        b, t = row["base"], row["this"]
        lines.append(
            f"| {name} | {b['rps']:,.0f} ({b['rps_min']:,.0f}-{b['rps_max']:,.0f}) "
            f"| {t['rps']:,.0f} ({t['rps_min']:,.0f}-{t['rps_max']:,.0f}) "
            f"| {t['rps'] / b['rps']:.2f} "
            f"| {_ms(b['server_cpu_ms'])} → {_ms(t['server_cpu_ms'])} "
            f"| {_ms(b['pg_cpu_ms'])} → {_ms(t['pg_cpu_ms'])} "
            f"| {b['p50_ms']:.1f} → {t['p50_ms']:.1f} "
            f"| {'same' if row['same_answers'] else 'DIFFER'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    p.add_argument("rev", help="the revision to compare with (a commit, tag or branch)")
    p.add_argument(
        "--against",
        help="compare REV with this revision, extracted like REV, instead of the working tree: "
        "both sides then run from the same kind of virtualenv (the working tree's has the dev "
        "tools, and the same code compared with itself that way read up to 7 %% apart)",
    )
    p.add_argument("--scales", default="1,100", help="comma-separated scales (default 1,100)")
    p.add_argument("--ops", default=DEFAULT_OPS, help=f"operations (default {DEFAULT_OPS})")
    p.add_argument("--duration", type=int, default=4, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load before")
    p.add_argument("--repeat", type=int, default=6, help="measured runs per version (default 6)")
    p.add_argument("--concurrency", type=int, default=10, help="open connections (default 10)")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="data generator seed")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.ops.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        p.error(f"unknown operations {unknown}; known: {', '.join(o.name for o in OPERATIONS)}")
    ops = [BY_NAME[n] for n in names]
    base = checkout(args.rev)
    this_root = checkout(args.against) if args.against else REPO
    o = run.Options(args.duration, args.warmup, args.concurrency, args.seed, repeat=args.repeat)
    cluster = pg.start(os.environ.get("BENCH_DATABASE_URL"), pg.DEFAULT_DIR, pg.DEFAULT_PORT)
    results: dict[str, Any] = {"rev": args.rev, "base": base.name, "options": vars(args)}
    try:
        for scale in (int(s) for s in args.scales.split(",")):
            built = generate.ensure(cluster, scale, args.seed)
            rows = compare_scale(cluster, built.database, base, ops, o, this_root)
            results[f"scale {scale}"] = rows
            print(table(scale, rows, args.rev, args.against or "this checkout"), flush=True)
            print(flush=True)
    finally:
        pg.stop(cluster)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
