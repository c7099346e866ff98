"""Where soilapi's time goes: py-spy samples the server under a repeat of the same load.

Only with `--profile`, and never during the measured run (sampling costs CPU the server would
otherwise have). Each sample is charged to the innermost frame that belongs to a known package
(graphql-core, strawberry, SQLAlchemy ...), so a stdlib helper counts for whoever called it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from bench import load
from bench.pg import say

if TYPE_CHECKING:
    from bench.servers import Server
    from bench.suite import Operation

OUT = Path(__file__).parent / "results" / "profiles"
# py-spy names a frame "function (package/module.py:line)", paths relative to sys.path.
AREAS = (  # (package, area), tried in this order on each frame
    ("soilapi", "soilapi"), ("graphql", "graphql-core"), ("strawberry", "strawberry"),
    ("sqlalchemy", "sqlalchemy"), ("asyncpg", "asyncpg"), ("uvicorn", "http (uvicorn/starlette)"),
    ("starlette", "http (uvicorn/starlette)"), ("fastapi", "http (uvicorn/starlette)"),
    ("pydantic", "pydantic"), ("prometheus_client", "metrics"), ("json", "json"),
    ("asyncio", "asyncio"), ("logging", "logging"), ("uvloop", "asyncio"),
)  # fmt: skip
# Stages of a request: the share of samples with such a frame anywhere on the stack.
STAGES = (
    ("(graphql/language/parser", "parsing (graphql-core)"),
    ("(graphql/validation/", "validation (graphql-core)"),
    ("(soilapi/graphql/limits", "query limits (soilapi)"),
    ("(graphql/execution/", "execution (graphql-core)"),
    ("(strawberry/dataloader", "DataLoaders (strawberry)"),
    ("(sqlalchemy/sql/compiler", "SQL compilation (SQLAlchemy)"),
    ("(sqlalchemy/orm/loading", "ORM row loading (SQLAlchemy)"),
    ("(asyncpg/", "asyncpg"),
    ("(json/", "JSON encoding"),
)
TOP = 25


def _py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.is_file() else shutil.which("py-spy")


def _area(frame: str) -> str | None:
    return next((area for package, area in AREAS if f"({package}/" in frame), None)


def summarise(raw: str) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    """Samples per area, per stage and per innermost function, from py-spy's collapsed stacks."""
    areas: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        total += n
        leaves[frames[-1]] += n
        areas[next((a for f in reversed(frames) if (a := _area(f))), "other")] += n
        for marker, stage in STAGES:
            if marker in stack:
                stages[stage] += n
    return areas, stages, leaves, total


def inclusive(raw: str, package: str = "soilapi") -> Counter[str]:
    """Samples with each of `package`'s functions anywhere on the stack (once per sample):
    where the project's own code spends, callees included."""
    shares: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        # "function (path:line)": a frame counts once whatever line it was on.
        seen = {f.rpartition(":")[0] + ")" for f in stack.split(";") if f"({package}/" in f}
        for frame in seen:
            shares[frame] += int(count)
    return shares


def record(
    server: Server, op: Operation, bodies: list[bytes], seconds: int, connections: int
) -> None:
    """Profile one more load run of `op`; writes results/profiles/<op>-s<scale>.txt."""
    spy = _py_spy()
    if spy is None:
        say("py-spy is not installed: no profile (uv pip install py-spy)")
        return
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".txt") as raw:
        argv = [spy, "record", "--pid", str(server.process.pid), "--duration", str(seconds),
                "--rate", "500", "--format", "raw", "--output", raw.name]  # fmt: skip
        sampler = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        load.run(server.url(op.name), bodies, seconds=seconds, connections=connections)
        _, err = sampler.communicate(timeout=seconds + 60)
        text = Path(raw.name).read_text(errors="replace")
    if not text.strip():
        say(f"py-spy recorded nothing: {err.decode(errors='replace').strip()[-300:]}")
        return
    areas, stages, leaves, total = summarise(text)
    tag = server.log.stem.rsplit("-", 1)[-1]
    cached = "-cached" if server.name == "soilapi-cached" else ""
    path = OUT / f"{op.name}-{tag}{cached}.txt"
    lines = [f"py-spy: {server.name} serving {op.name} ({tag}), {total} samples", "", "by area:"]
    lines += [f"  {n / total:6.1%}  {area}" for area, n in areas.most_common()]
    lines += ["", "by stage (on the stack, so stages overlap):"]
    lines += [f"  {stages[stage] / total:6.1%}  {stage}" for _, stage in STAGES]
    lines += ["", f"top {TOP} innermost functions:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in leaves.most_common(TOP)]
    lines += ["", f"top {TOP} soilapi functions, with what they call:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive(text).most_common(TOP)]
    path.write_text("\n".join(lines) + "\n")
    # The stacks themselves, for a flame graph (e.g. flamegraph.pl, speedscope).
    path.with_suffix(".folded").write_text(text)
    shares = ", ".join(f"{area} {n / total:.0%}" for area, n in areas.most_common(6))
    say(f"profile of {op.name} on {server.name}: {shares} ({path})")
