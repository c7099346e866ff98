"""HTTP load from a separate process: wrk, one thread, fixed connections and duration.

wrk (C, event loop) needs a few percent of a core at these rates, so on a 2-core machine it
takes the least CPU away from the server being measured. A Lua script sends the operation's
POST body, or goes round a list of bodies (one per line of a file), or of templates it makes
unique per request, or GETs a URL, and prints the summary as one JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.pg import say

SCRIPT = Path(__file__).with_name("load.lua")
MARK = "BENCH_JSON "
UNIQUE = b"@N@"  # load.lua writes each request's serial number in its place


@dataclass
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect/read/write/timeout errors and non-2xx answers


def find_wrk() -> str:
    """wrk's path, installing Debian's package when we are root and it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        say("wrk not found; installing Debian's wrk package")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [apt, "install", "-y", "wrk"]
        for step in ([install], [[apt, "update"], install]):  # refresh the index only if needed
            if all(
                subprocess.run(argv, env=env, stdout=2, check=False).returncode == 0  # noqa: S603
                for argv in step
            ):
                break
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench needs wrk, the HTTP load tool: apt-get install wrk")
    return found


def run(
    url: str,
    bodies: bytes | Sequence[bytes] | None,
    *,
    seconds: int,
    connections: int,
    unique: bool = False,
    first_serial: int = 0,
    headers: Mapping[str, str] | None = None,
) -> Load:
    """Send `bodies` to `url` from `connections` connections for `seconds`.

    One body is sent with every request; a list of several is gone through in turn (the
    requests cycle through it from the first, across all connections). With `unique` the
    bodies are templates whose `UNIQUE` marks become each request's serial number, so that no
    two requests are alike (caches keyed by the document never hit); the numbers start after
    `first_serial`, so a later run does not repeat an earlier one's bodies. With no body,
    `url` itself is asked with GET. `headers` go with every request.
    """
    extra = [f"-H{name}: {value}" for name, value in (headers or {}).items()]
    if bodies is None:
        return _wrk([*extra, url, "--", "get"], seconds, connections)
    many = [bodies] if isinstance(bodies, bytes) else list(bodies)
    if not many:
        raise ValueError("no request body to send")
    if unique and not all(UNIQUE in body for body in many):
        raise ValueError(f"every template of a unique run needs the mark {UNIQUE!r}")
    if (unique or len(many) > 1) and any(b"\n" in body for body in many):
        raise ValueError("bodies sent in turn are one per line: they must not contain a newline")
    with tempfile.NamedTemporaryFile(suffix=".json") as handle:
        handle.write(b"\n".join(many) if len(many) > 1 else many[0])
        handle.flush()
        mode = ["unique", str(first_serial)] if unique else ["lines"] if len(many) > 1 else []
        return _wrk([*extra, url, "--", handle.name, *mode], seconds, connections)


def _wrk(args: list[str], seconds: int, connections: int) -> Load:
    """Run wrk with load.lua and `args` (URL, then the script's arguments after `--`)."""
    argv = [find_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(SCRIPT), *args]  # fmt: skip
    done = subprocess.run(  # noqa: S603 - wrk from PATH, our own arguments
        argv, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARK)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    s = json.loads(line[len(MARK) :])
    duration = s["duration_us"] / 1e6
    return Load(
        requests=s["requests"],
        seconds=duration,
        rps=s["requests"] / duration if duration else 0.0,
        p50_ms=s["p50_us"] / 1000,
        p99_ms=s["p99_us"] / 1000,
        errors=sum(s[k] for k in ("connect", "read", "write", "status", "timeout")),
    )
