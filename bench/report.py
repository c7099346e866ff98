"""The results: a table per scale on stdout, JSON files and a PNG under bench/results/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from bench.pg import say
from bench.run import Cell, Row
from bench.suite import TARGETS

RESULTS = Path(__file__).parent / "results"
RATIOS = (  # label, numerator, denominator (requests/s)
    ("soilapi/floor", "soilapi", "floor"),
    ("soilapi/postgraphile", "soilapi", "postgraphile"),
    ("cached/postgraphile", "soilapi-cached", "postgraphile"),
)


def ratios(row: Row) -> dict[str, float | None]:
    """soilapi's requests/s over the floor's and PostGraphile's, cache off and on."""
    out: dict[str, float | None] = {}
    for label, ours, other in RATIOS:
        mine, theirs = row.get(ours), row.get(other)
        if mine is not None and theirs is not None and mine.rps and theirs.rps:
            out[label] = mine.rps / theirs.rps
        else:
            out[label] = None
    return out


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _spread(cell: Cell) -> str:
    return "-" if cell.rps_spread_pct is None else f"±{cell.rps_spread_pct:.0f}%"


COLUMNS = (
    f"{'operation':24} {'server':15} {'req/s':>9} {'spread':>7} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'SQL/req':>8} {'srv CPU':>8} {'PG CPU':>8} {'RSS MiB':>8}"
)


def _line(name: str, target: str, cell: Cell) -> str:
    if cell.skipped:
        return f"{name:24} {target:15} {cell.note}"
    if cell.rps is None:
        return f"{name:24} {target:15} failed: {cell.note}"
    errors = f"  ({cell.errors} errors)" if cell.errors else ""
    return (
        f"{name:24} {target:15} {_num(cell.rps, 0):>9} {_spread(cell):>7} "
        f"{_num(cell.p50_ms, 2):>8} {_num(cell.p99_ms, 2):>8} {_num(cell.statements):>8} "
        f"{_num(cell.server_cpu_ms, 2):>8} {_num(cell.pg_cpu_ms, 2):>8} "
        f"{_num(cell.peak_rss_mib, 0):>8}{errors}"
    )


def _bodies(row: Row) -> str | None:
    """How many bodies a varied operation went through (the same number on every target)."""
    cell = next((c for c in row.values() if c.bodies > 1), None)
    if cell is None:
        return None
    return f"{cell.bodies:,} bodies in turn ({cell.distinct_bodies:,} distinct)"


def table(scale: int, rows: dict[str, Row], header: str) -> str:
    """The figures of one scale as text."""
    out = [f"\nscale {scale} · {header}", COLUMNS]
    for name, row in rows.items():
        for i, target in enumerate(t for t in TARGETS if t in row):
            out.append(_line(name if i == 0 else "", target, row[target]))
        bodies = _bodies(row)
        if bodies:
            out.append(f"{'':24} {'bodies':15} {bodies}")
        parts = [f"{label} {value:.2f}x" for label, value in ratios(row).items() if value]
        if parts:
            out.append(f"{'':24} {'ratios':15} " + "   ".join(parts))
    out.append("req/s, p50, p99, CPU: medians of the runs · spread: half the min-max range of "
               "req/s, in % of the median")  # fmt: skip
    out.append("srv CPU, PG CPU: milliseconds of CPU per request, the server process's and "
               "PostgreSQL's (all its processes)")  # fmt: skip
    return "\n".join(out)


def document(meta: dict[str, Any], scales: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The JSON results: metadata, then per scale the database and per operation the cells."""
    out: dict[str, Any] = {**meta, "scales": {}}
    for scale, entry in scales.items():
        ops = {
            name: {**{t: c.as_json() for t, c in row.items()}, "ratios": ratios(row)}
            for name, row in entry["rows"].items()
        }
        out["scales"][str(scale)] = {"database": entry["database"], "operations": ops}
    return out


def write(doc: dict[str, Any], stamp: str) -> Path:
    """bench/results/<stamp>.json and latest.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    shutil.copyfile(path, RESULTS / "latest.json")
    return path


def plot(doc: dict[str, Any], path: Path) -> Path | None:
    """Requests/s by operation, one panel per scale, a bar per server (log scale)."""
    try:
        import matplotlib  # noqa: PLC0415 - optional: the run is useful without the picture

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        say("matplotlib is not installed: no PNG (install the bench dependency group)")
        return None
    scales = doc["scales"]
    fig, axes = plt.subplots(len(scales), 1, figsize=(12, 3.6 * len(scales)), squeeze=False)
    colours = {"floor": "#9e9e9e", "soilapi": "#2e7d32", "soilapi-cached": "#a5d6a7",
               "postgraphile": "#1565c0"}  # fmt: skip
    for ax, (scale, entry) in zip(axes[:, 0], scales.items(), strict=True):
        names = list(entry["operations"])
        series = {
            t: [(entry["operations"][n].get(t) or {}).get("rps") or 0.0 for n in names]
            for t in TARGETS
        }
        shown = [t for t in TARGETS if any(series[t])]
        width = 0.8 / max(len(shown), 1)
        for k, target in enumerate(shown):
            xs = [i + (k - (len(shown) - 1) / 2) * width for i in range(len(names))]
            bars = ax.bar(xs, series[target], width, label=target, color=colours[target])
            labels = [f"{v:,.0f}" if v else "" for v in series[target]]
            ax.bar_label(bars, labels=labels, fontsize=7)
        ax.set_yscale("log")
        top = max((v for t in shown for v in series[t]), default=1.0)
        ax.set_ylim(top=top * 4)  # room for the labels and the legend
        ax.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=8)
        ax.set_ylabel("requests/s (log)")
        ax.set_title(f"scale {scale}", fontsize=10, loc="left")
        ax.legend(fontsize=8, loc="upper right", ncols=len(shown))
    fig.suptitle("soilapi benchmark: throughput by operation (higher is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
