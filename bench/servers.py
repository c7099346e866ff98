"""Start, probe and stop the three servers; read their peak memory from /proc."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench import postgraphile
from bench.floor import queries as floor_queries
from bench.pg import CACHE
from bench.suite import introspection_document

REPO = Path(__file__).resolve().parents[1]
LOGS = CACHE / "logs"
READY_TIMEOUT = 120.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(url: str, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """POST a JSON body; the status and the response body."""
    request = urllib.request.Request(  # noqa: S310 - loopback URLs we built ourselves
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Server:
    """One running server process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, operation: str) -> str:
        """Where an operation is sent: /graphql, or the floor's endpoint of the operation."""
        path = operation if self.name == "floor" else "graphql"
        return f"http://127.0.0.1:{self.port}/{path}"

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux clear_refs "5"); False when not allowed."""
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def peak_rss_mib(self) -> float | None:
        """Peak resident memory since start or the last reset, in MiB."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, poll: float = 0.25, limit: float = 30.0) -> None:
        """Wait until the server stops burning CPU (under 5 % of a core over `poll` seconds).

        wrk stops on time and drops its open requests, but the server still finishes them;
        their CPU must not land in the next measurement.
        """
        deadline = time.monotonic() + limit
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(poll)
            now = self.cpu_seconds()
            if now - last <= 0.05 * poll:
                return
            last = now

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _introspect() -> dict[str, Any]:
    from soilapi.graphql.schema import schema  # noqa: PLC0415 - the floor's answer only
    from soilapi.graphql.types.node import TYPE_NAMES  # noqa: PLC0415

    if floor_queries.TYPE_NAMES != TYPE_NAMES:
        raise RuntimeError("bench/floor/queries.py: TYPE_NAMES differ from soilapi's")
    result = await schema.execute(introspection_document())
    if result.errors or not result.data:
        raise RuntimeError(f"soilapi's introspection failed: {result.errors}")
    return result.data


def floor_introspection() -> Path:
    """soilapi's answer to the introspection query, in a file the floor serves as it is."""
    path = CACHE / "floor-introspection.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asyncio.run(_introspect())))
    return path


def _spawn(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    LOGS.mkdir(parents=True, exist_ok=True)
    out: IO[bytes] = log.open("wb")
    return subprocess.Popen(  # noqa: S603 - our own argv
        argv, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
    )


def start(name: str, db_url: str, tag: str, overrides: Mapping[str, str] | None = None) -> Server:
    """Start a server on a free port and wait until it answers (`overrides`: see `launch`)."""
    server = launch(name, db_url, tag, overrides)
    wait_ready(server)
    return server


def start_all(names: list[str], db_url: str, tag: str) -> dict[str, Server]:
    """Start several servers at once (they boot side by side), then wait until each answers."""
    launched: dict[str, Server] = {}
    try:
        # The floor last: launching it computes its introspection answer here, while the
        # others boot in their own processes.
        for name in sorted(names, key=lambda n: n == "floor"):
            launched[name] = launch(name, db_url, tag)
        for server in launched.values():
            wait_ready(server)
    except BaseException:
        for server in launched.values():
            server.stop()
        raise
    return {name: launched[name] for name in names}


def launch(
    name: str,
    db_url: str,
    tag: str,
    overrides: Mapping[str, str] | None = None,
    root: Path = REPO,
) -> Server:
    """Start a server on a free port, without waiting for it.

    `overrides` replace the bench's settings (soilapi's rate limiting is off for throughput;
    bench.neighbours measures it, so it turns it on). `root` is the checkout whose soilapi
    runs, with its own virtualenv: another revision's, for bench.compare.
    """
    port = free_port()
    log = LOGS / f"{name}-{tag}.log"
    if name in ("soilapi", "soilapi-cached"):
        env = {
            "DATABASE_URL": db_url, "HOST": "127.0.0.1", "PORT": str(port),
            "RESPONSE_CACHE_ENABLED": "true" if name == "soilapi-cached" else "false",
            # 5,000 points a minute would throttle the load within a second.
            "RATE_LIMIT_ENABLED": "false",
            # No JSON access line per request: the floor and PostGraphile write none either.
            "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        venv = Path(sys.executable).parent if root == REPO else root / ".venv" / "bin"
        argv = [str(venv / "soilapi"), "serve"]
        cwd = root
    elif name == "floor":
        env = {}
        argv = [sys.executable, "-m", "bench.floor", "--dsn", db_url, "--port", str(port),
                "--introspection", str(floor_introspection())]  # fmt: skip
        cwd = REPO
    else:
        env = {"BENCH_PG_URL": db_url, "BENCH_PORT": str(port), "NODE_ENV": "production",
               "GRAPHILE_ENV": "production"}  # fmt: skip
        argv = postgraphile.command()
        cwd = postgraphile.NODE_DIR
    return Server(name, port, _spawn(argv, {**env, **(overrides or {})}, cwd, log), log)


def _ready(server: Server) -> bool:
    """Whether the server answers: /healthz (floor, soilapi) or a trivial query."""
    if server.name == "postgraphile":
        probe = json.dumps({"query": "{ __typename }"}).encode()
        return post(server.url(""), probe, timeout=2)[0] == 200
    url = f"http://127.0.0.1:{server.port}/healthz"
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status) == 200


def wait_ready(server: Server) -> None:
    """Wait until the server answers; fail with its log's tail if it exits or never does."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if _ready(server):
                return
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    tail = server.log.read_text(errors="replace").splitlines()[-15:]
    raise RuntimeError(f"{server.name} did not start; last lines of {server.log}:\n" +
                       "\n".join(tail))  # fmt: skip
