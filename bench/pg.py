"""The benchmark's PostgreSQL server: private (soilapi.devdb) or BENCH_DATABASE_URL's.

Statements per request come from pg_stat_statements, so the private server is (re)started
with it preloaded; on a server given by URL it is used when available and skipped otherwise.
PostgreSQL's CPU time is read from /proc when the server runs on this machine.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from soilapi import devdb

CACHE = Path.home() / ".cache" / "soilapi" / "bench"
DEFAULT_DIR = CACHE / "pg"
DEFAULT_PORT = 54339
PRELOAD = "pg_stat_statements"


def plain_url(url: str) -> str:
    """asyncpg and node want postgresql://, SQLAlchemy URLs carry a +driver."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(plain_url(url))
    return urlunsplit(parts._replace(path=f"/{database}"))


@dataclass
class Server:
    """A PostgreSQL server the benchmark may create databases on."""

    admin_url: str  # a database that always exists, for CREATE DATABASE and statistics
    private_dir: Path | None  # set when we started it ourselves
    counts_statements: bool = False
    postmaster: int | None = None  # its process id, when it runs on this machine

    def url(self, database: str) -> str:
        """URL of one database on this server."""
        return with_database(self.admin_url, database)

    def cpu_seconds(self) -> float | None:
        """CPU time the whole cluster has used so far (user + system); None when unknown.

        The postmaster's own, its live children's (backends, parallel workers, background
        processes), and what its children that exited used (cutime + cstime, which the kernel
        adds to the postmaster's when it reaps them).
        """
        if self.postmaster is None:
            return None
        own = _proc_stat(self.postmaster)
        if own is None:
            return None
        ticks = sum(int(own[i]) for i in (UTIME, STIME, CUTIME, CSTIME))
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                fields = _proc_stat(int(entry.name))
                if fields is not None and int(fields[PPID]) == self.postmaster:
                    ticks += int(fields[UTIME]) + int(fields[STIME])
        return ticks / os.sysconf("SC_CLK_TCK")


# Fields of /proc/<pid>/stat after the command name: state, ppid, ... (proc(5) numbers them
# from 1 with pid and comm first, so field n is at index n - 3).
PPID, UTIME, STIME, CUTIME, CSTIME = 1, 11, 12, 13, 14


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone, or not this machine's
        return None
    return text.rsplit(")", 1)[1].split()


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def say(message: str) -> None:
    """Progress goes to stderr so stdout carries only the results."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def start(url: str | None, data_dir: Path, port: int) -> Server:
    """Use the server at `url`, or start the private one with pg_stat_statements preloaded."""
    if url:
        server = Server(plain_url(url), None)
    else:
        say(f"private PostgreSQL in {data_dir} on port {port}")
        server = Server(plain_url(devdb.start(data_dir, port, database="postgres")), data_dir)
        if asyncio.run(_preload(server.admin_url)):
            say(f"restarting PostgreSQL to preload {PRELOAD}")
            devdb.stop(data_dir)
            devdb.start(data_dir, port, database="postgres")
    server.counts_statements = asyncio.run(_has_pgss(server.admin_url))
    server.postmaster = asyncio.run(_postmaster(server.admin_url))
    if server.postmaster is None:
        say("PostgreSQL does not run on this machine: its CPU per request will be blank")
    if not server.counts_statements:
        say(
            "pg_stat_statements is not loaded on this server: statements per request will "
            "be blank (add it to shared_preload_libraries to count them)"
        )
    return server


def stop(server: Server) -> None:
    """Stop the private server (a server given by URL is left alone)."""
    if server.private_dir is not None:
        devdb.stop(server.private_dir)


async def _preload(admin_url: str) -> bool:
    """Ask for pg_stat_statements at the next start; True when a restart must load it."""
    conn = await asyncpg.connect(admin_url)
    try:
        if PRELOAD in (await conn.fetchval("SHOW shared_preload_libraries") or ""):
            return False
        await conn.execute(f"ALTER SYSTEM SET shared_preload_libraries = '{PRELOAD}'")
        return True
    finally:
        await conn.close()


async def _postmaster(admin_url: str) -> int | None:
    """The postmaster's process id: the parent of our backend, when both are local processes."""
    host = urlsplit(admin_url).hostname
    if host not in (None, "", "localhost", "127.0.0.1", "::1") and not str(host).startswith("/"):
        return None
    conn = await asyncpg.connect(admin_url)
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        fields = _proc_stat(backend)
        if fields is None or not _comm(backend).startswith("postgres"):
            return None
        parent = int(fields[PPID])
        return parent if _comm(parent).startswith("postgres") else None
    finally:
        await conn.close()


async def _has_pgss(admin_url: str) -> bool:
    conn = await asyncpg.connect(admin_url)
    try:
        loaded = await conn.fetchval("SHOW shared_preload_libraries")
        if "pg_stat_statements" not in (loaded or ""):
            return False
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # Count what PostgreSQL plans and runs, not BEGIN / COMMIT / SET round trips.
        if await conn.fetchval("SHOW pg_stat_statements.track_utility") != "off":
            await conn.execute("ALTER SYSTEM SET pg_stat_statements.track_utility = off")
            await conn.execute("SELECT pg_reload_conf()")
        return True
    except asyncpg.PostgresError as exc:
        say(f"cannot use pg_stat_statements: {exc}")
        return False
    finally:
        await conn.close()


async def reset_statements(server: Server) -> None:
    """Forget every statement counted so far."""
    conn = await asyncpg.connect(server.admin_url)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def statements_run(server: Server, database: str) -> int:
    """Statements executed in `database` since the last reset (ours run elsewhere)."""
    conn = await asyncpg.connect(server.admin_url)
    try:
        total = await conn.fetchval(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1",
            database,
        )
        return int(total)
    finally:
        await conn.close()


async def database_comment(server: Server, database: str) -> str | None:
    """The marker comment of a database; None when the database does not exist."""
    conn = await asyncpg.connect(server.admin_url)
    try:
        row = await conn.fetchrow(
            "SELECT shobj_description(oid, 'pg_database') AS comment "
            "FROM pg_database WHERE datname = $1",
            database,
        )
        if row is None:
            return None
        return str(row["comment"] or "")
    finally:
        await conn.close()


async def recreate_database(server: Server, database: str) -> None:
    """Drop (if there) and create an empty database."""
    conn = await asyncpg.connect(server.admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def server_version(server: Server) -> str:
    """PostgreSQL's version string, for the results' metadata."""
    conn = await asyncpg.connect(server.admin_url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def settle(server: Server, database: str, quiet: float = 0.3, limit: float = 20.0) -> None:
    """Wait until `database` runs no statement for `quiet` seconds.

    wrk stops on time and drops its open requests, but the server finishes them: without this
    their statements would land in the next count and their CPU in the next run.
    """
    if not server.counts_statements:
        await asyncio.sleep(1.0)
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    last = await statements_run(server, database)
    while loop.time() < deadline:
        await asyncio.sleep(quiet)
        now = await statements_run(server, database)
        if now == last:
            return
        last = now
