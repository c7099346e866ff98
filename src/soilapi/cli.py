"""`soilapi run | stop | serve | migrate | seed | check-seed | export-schema | export`: the
commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import signal
import socket
import sys
import time
from pathlib import Path

from soilapi.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def _require_url() -> str:
    url = get_settings().database_url
    if not url:
        sys.exit(
            "DATABASE_URL is not set. Point it at PostgreSQL "
            "(postgresql://user@host:port/db), or use `make run`, which starts a private one."
        )
    return url


def migrate(url: str, revision: str = "head") -> None:
    """Apply alembic migrations up to `revision`."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, revision)


async def seed(url: str) -> int:
    """Load the seed dataset and print what changed per table."""
    from soilapi.db.session import create_engine
    from soilapi.seed.dataset import DatasetError, load_dataset
    from soilapi.seed.loader import load

    try:
        dataset = load_dataset()
    except DatasetError as exc:
        print(f"The seed data files are invalid:\n{exc}", file=sys.stderr)
        return 1
    engine = create_engine(get_settings(), url)
    started = time.perf_counter()
    try:
        async with engine.begin() as conn:
            report = await load(conn, dataset)
    finally:
        await engine.dispose()
    print(f"{'table':24} {'rows':>6} {'added':>6} {'changed':>8} {'removed':>8}")
    for r in report.tables:
        print(f"{r.table:24} {r.total:6} {r.inserted:6} {r.updated:8} {r.deleted:8}")
    for conflict in report.conflicts:
        print(f"conflict: {conflict}", file=sys.stderr)
    changes = report.changes()
    took = f"in {time.perf_counter() - started:.2f} s"
    if changes == 0:
        print(f"seed data already up to date ({took})")
    else:
        print(f"{changes} row changes applied, {report.revisions} revisions recorded ({took})")
    return 0


async def keys(url: str, args: argparse.Namespace) -> int:
    """`soilapi keys create | list | revoke`: issue, show and revoke API keys."""
    from soilapi.db.session import create_engine
    from soilapi.errors import InvalidInput
    from soilapi.services import keys as service
    from soilapi.vocab import Role

    engine = create_engine(get_settings(), url)
    try:
        async with engine.begin() as conn:
            if args.action == "create":
                try:
                    issued = await service.create(conn, Role(args.role), args.org, args.label)
                except InvalidInput as exc:
                    print(f"No key made: {exc}", file=sys.stderr)
                    return 1
                print(issued.secret)
                scope = ", ".join(issued.organizations) or "every organisation"
                print(
                    f"{issued.role.value} key {issued.prefix} for {scope}. This is the only "
                    "time it is shown: store it now. Send it as the X-API-Key header.",
                    file=sys.stderr,
                )
            elif args.action == "revoke":
                if not await service.revoke(conn, args.prefix):
                    print(f"No live key has the prefix {args.prefix!r}.", file=sys.stderr)
                    return 1
                print(f"Key {args.prefix} revoked.", file=sys.stderr)
            else:
                print(f"{'prefix':14} {'role':8} {'created':20} {'revoked':20} label (orgs)")
                for row in await service.every(conn):
                    revoked = f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "-"
                    orgs = ", ".join(row.organization_slugs)
                    print(
                        f"{row.prefix:14} {row.role.value:8} {row.created_at:%Y-%m-%d %H:%M}"
                        f"{'':4} {revoked:20} {row.label} ({orgs or 'all'})"
                    )
    finally:
        await engine.dispose()
    return 0


async def export_dump(url: str, fmt: str, path: Path | None) -> int:
    """Write the dump to `path` (or stdout), read from one snapshot; a CSV's header (the
    feed cursor) goes to `<path>.header.json`, or to stderr when the CSV goes to stdout."""
    import orjson

    from soilapi.db.session import create_engine
    from soilapi.graphql.dump import ENCODERS
    from soilapi.services import export

    engine = create_engine(get_settings(), url)
    out = path.open("wb") if path else sys.stdout.buffer
    try:
        async with export.open_dump(engine, ENCODERS) as dump:
            progress = Progress(dump.total) if sys.stderr.isatty() else None
            async for chunk in export.writer(fmt)(dump):
                out.write(chunk)
                if progress:
                    progress.advance()
            header = orjson.dumps(dump.header)
    finally:
        if path:
            out.close()
        await engine.dispose()
    if progress:
        progress.close()
    if fmt == "csv" and path:
        path.with_name(path.name + ".header.json").write_bytes(header + b"\n")
    elif fmt == "csv":
        print(header.decode(), file=sys.stderr)
    return 0


class Progress:
    """A one-line count of the entries written, on a terminal's stderr."""

    EVERY = 0.2  # seconds between redraws

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = -1  # the first chunk is the header line
        self.shown = 0.0

    def advance(self) -> None:
        """Count one entry; redraw at most every EVERY seconds."""
        self.done += 1
        now = time.monotonic()
        if now - self.shown >= self.EVERY:
            self.shown = now
            share = 100 * self.done / self.total if self.total else 100
            print(
                f"\rexporting {self.done:,}/{self.total:,} ({share:.0f} %)", end="", file=sys.stderr
            )

    def close(self) -> None:
        """The final count, and the line ended."""
        print(f"\rexported {max(self.done, 0):,} records and relations", file=sys.stderr)


def export_schema(path: Path | None) -> int:
    """Print the schema SDL, or write it to a file."""
    from soilapi.graphql.schema import schema

    sdl = schema.as_str() + "\n"
    if path is None:
        sys.stdout.write(sdl)
    else:
        path.write_text(sdl, encoding="utf-8")
    return 0


def serve() -> None:
    """Run the HTTP server; on SIGTERM in-flight requests get `shutdown_grace_seconds`."""
    import uvicorn

    from soilapi.http.logs import logging_config
    from soilapi.http.server import HeadLimits, http_protocol

    settings = get_settings()
    _require_url()
    uvicorn.run(
        "soilapi.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        # Behind a load balancer the client's address is in X-Forwarded-For, trusted only
        # when the balancer is listed: anyone else could forge it to dodge rate limits.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        log_config=logging_config(settings.log_level),
        log_level=settings.log_level.lower(),
        access_log=False,  # the observability middleware writes richer JSON access lines
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        # httptools' parser with a bounded head and a header deadline (soilapi.http.server).
        http=http_protocol(HeadLimits.from_settings(settings)),
    )


def _pid_file(data_dir: Path) -> Path:
    """Where `soilapi run` writes its process id, for `soilapi stop`."""
    return data_dir.parent / f"{data_dir.name}.run.pid"


def _ensure_http_port_free(host: str, port: int) -> None:
    """Exit with one line when the API's port is taken, before a database is started that
    would then be left running."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            busy = exc.errno == errno.EADDRINUSE
            sys.exit(
                f"Port {port} on {host} is "
                + ("already in use" if busy else f"unavailable ({exc.strerror})")
                + ": stop what uses it (`make stop` stops soilapi's), or set PORT to another."
            )


def run(data_dir: Path, port: int) -> None:
    """Everything `make run` needs: a database, its schema, the seed data, the server.

    A private PostgreSQL this command started is stopped when the server stops (or fails to
    start), so nothing is left running; one that was already up is left as it was.
    """
    from soilapi import devdb

    settings = get_settings()
    _ensure_http_port_free(settings.host, settings.port)
    url = settings.database_url
    started = False
    if not url:
        print(f"DATABASE_URL is not set: starting a private PostgreSQL in {data_dir}",
              file=sys.stderr)  # fmt: skip
        try:
            started = not devdb.is_running(data_dir)
            url = devdb.start(data_dir, port)
        except devdb.DevDBError as exc:
            sys.exit(f"Could not start PostgreSQL: {exc}")
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
    pid_file = _pid_file(data_dir)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: by default that
    # ends the process on the spot, and the clean-up below would never run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
        migrate(url)
        if asyncio.run(seed(url)) != 0:
            sys.exit(1)
        serve()
    finally:
        if started:
            print("Stopping the private PostgreSQL", file=sys.stderr)
            devdb.stop(data_dir)
        with contextlib.suppress(OSError):  # last: `soilapi stop` waits for it to go
            pid_file.unlink()


def _run_pid(data_dir: Path) -> int | None:
    """The process of a `soilapi run` on data_dir, if one is alive (a stale file's number may
    belong to another program by now: its command line must name soilapi)."""
    try:
        pid = int(_pid_file(data_dir).read_text(encoding="utf-8"))
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"soilapi" in command else None


def stop(data_dir: Path) -> int:
    """Stop what `soilapi run` started: its server (given its shutdown grace), its database."""
    from soilapi import devdb

    pid = _run_pid(data_dir)
    if pid is not None:
        print(f"Stopping soilapi (process {pid})", file=sys.stderr)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + get_settings().shutdown_grace_seconds + 30
        while _run_pid(data_dir) == pid:
            if time.monotonic() > deadline:
                sys.exit(f"soilapi (process {pid}) did not stop in time")
            time.sleep(0.1)
    try:
        devdb.stop(data_dir)  # already stopped by the server's exit, unless it crashed
    except devdb.DevDBError as exc:
        sys.exit(f"Could not stop PostgreSQL: {exc}")
    print("Stopped.", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> None:
    """Run the soilapi command line."""
    parser = argparse.ArgumentParser(prog="soilapi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the API and GraphiQL at /graphql")
    dev = sub.add_parser(
        "run", help="start a private PostgreSQL if DATABASE_URL is unset, migrate, seed, serve"
    )
    dev.add_argument("--pgdata", type=Path, default=ROOT / ".pgdata")
    dev.add_argument("--pg-port", type=int, default=int(os.environ.get("SOILAPI_PG_PORT", "54329")))
    halt = sub.add_parser("stop", help="stop what `soilapi run` started (server and PostgreSQL)")
    halt.add_argument("--pgdata", type=Path, default=ROOT / ".pgdata")
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    sub.add_parser("seed", help="load the seed dataset (idempotent)")
    sub.add_parser("check-seed", help="validate the seed data files (no database)")
    key = sub.add_parser("keys", help="issue, list and revoke API keys").add_subparsers(
        dest="action", required=True
    )
    made = key.add_parser(
        "create", help="issue a key; it is printed once, then only its hash stays"
    )
    made.add_argument("--role", required=True, choices=["partner", "curator", "admin"])
    made.add_argument("--org", action="append", default=[], help="organisation slug (partners)")
    made.add_argument("--label", default="", help="who holds the key, for `keys list`")
    key.add_parser("list", help="list keys (prefix, role, organisations, revocation)")
    gone = key.add_parser("revoke", help="revoke a key on every replica at once")
    gone.add_argument("prefix", help="the key's prefix, as `keys list` shows it")
    export = sub.add_parser("export-schema", help="print or write schema.graphql")
    export.add_argument("--output", type=Path, default=None)
    dump = sub.add_parser(
        "export", help="write the full dump (every record and relation) with its feed cursor"
    )
    dump.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    dump.add_argument("--output", type=Path, default=None, help="a file (default: stdout)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve()
    elif args.command == "run":
        run(args.pgdata, args.pg_port)
    elif args.command == "stop":
        sys.exit(stop(args.pgdata))
    elif args.command == "migrate":
        migrate(_require_url())
    elif args.command == "seed":
        sys.exit(asyncio.run(seed(_require_url())))
    elif args.command == "check-seed":
        from soilapi.seed.check import main as check

        sys.exit(check())
    elif args.command == "keys":
        sys.exit(asyncio.run(keys(_require_url(), args)))
    elif args.command == "export-schema":
        sys.exit(export_schema(args.output))
    elif args.command == "export":
        sys.exit(asyncio.run(export_dump(_require_url(), args.format, args.output)))
