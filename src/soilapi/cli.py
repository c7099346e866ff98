"""`soilapi serve | migrate | seed | check-seed | export-schema`: the project's commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
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
    try:
        async with engine.begin() as conn:
            reports = await load(conn, dataset)
    finally:
        await engine.dispose()
    print(f"{'table':24} {'rows':>6} {'added':>6} {'changed':>8} {'removed':>8}")
    for r in reports:
        print(f"{r.table:24} {r.total:6} {r.inserted:6} {r.updated:8} {r.deleted:8}")
    changes = sum(r.inserted + r.updated + r.deleted for r in reports)
    print("seed data already up to date" if changes == 0 else f"{changes} row changes applied")
    return 0


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


def run(data_dir: Path, port: int) -> None:
    """Everything `make run` needs: a database, its schema, the seed data, the server."""
    from soilapi import devdb

    url = get_settings().database_url
    if not url:
        print(f"DATABASE_URL is not set: starting a private PostgreSQL in {data_dir}",
              file=sys.stderr)  # fmt: skip
        try:
            url = devdb.start(data_dir, port)
        except devdb.DevDBError as exc:
            sys.exit(f"Could not start PostgreSQL: {exc}")
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
    migrate(url)
    if asyncio.run(seed(url)) != 0:
        sys.exit(1)
    serve()


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
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    sub.add_parser("seed", help="load the seed dataset (idempotent)")
    sub.add_parser("check-seed", help="validate the seed data files (no database)")
    export = sub.add_parser("export-schema", help="print or write schema.graphql")
    export.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve()
    elif args.command == "run":
        run(args.pgdata, args.pg_port)
    elif args.command == "migrate":
        migrate(_require_url())
    elif args.command == "seed":
        sys.exit(asyncio.run(seed(_require_url())))
    elif args.command == "check-seed":
        from soilapi.seed.check import main as check

        sys.exit(check())
    elif args.command == "export-schema":
        sys.exit(export_schema(args.output))
