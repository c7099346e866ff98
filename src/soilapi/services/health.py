"""Readiness: may a load balancer send this process traffic right now?

/healthz only says the process answers (restart it if not). /readyz also asks PostgreSQL: it
must answer `select 1` within `readiness_timeout_seconds`, and its alembic revision must be the
migrations' head, so a replica started before `soilapi migrate` (or against the wrong database)
takes no traffic until it can serve it. The route is in http/observability.py, the SQL in
repositories/health.py.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

import soilapi
from soilapi.repositories import health as repo

log = logging.getLogger("soilapi.health")

PROJECT_ROOT = Path(soilapi.__file__).resolve().parents[2]


@dataclass(frozen=True)
class Heads:
    """The migration head(s) this code expects, or why they could not be read."""

    revisions: frozenset[str]
    problem: str | None = None


@dataclass(frozen=True)
class Readiness:
    """The outcome of each check: "ok" or what went wrong."""

    database: str
    migrations: str

    @property
    def ready(self) -> bool:
        """True when every check passed."""
        return self.database == "ok" and self.migrations == "ok"


def read_heads(alembic_ini: str | None) -> Heads:
    """Read the head revision(s) from alembic's scripts; done once, at startup."""
    path = Path(alembic_ini) if alembic_ini else PROJECT_ROOT / "alembic.ini"
    if not path.is_file():
        problem = f"alembic.ini not found at {path} (set ALEMBIC_CONFIG)"
        log.warning("readiness cannot check migrations: %s", problem)
        return Heads(frozenset(), problem)
    try:
        heads = ScriptDirectory.from_config(Config(str(path))).get_heads()
    except Exception as exc:  # a broken migrations folder must not stop the server
        log.warning("readiness cannot read the migrations in %s", path, exc_info=True)
        return Heads(frozenset(), f"cannot read the migrations: {type(exc).__name__}")
    return Heads(frozenset(heads))


async def _database_revisions(engine: AsyncEngine) -> set[str] | None:
    async with engine.connect() as conn:
        await repo.ping(conn)
        return await repo.alembic_revisions(conn)


async def check(engine: AsyncEngine, heads: Heads, limit: float) -> Readiness:
    """Run both checks against the app's engine, giving the database `limit` seconds."""
    try:
        async with asyncio.timeout(limit):
            revisions = await _database_revisions(engine)
    except TimeoutError:
        return Readiness(f"no answer within {limit:g} s", "not checked")
    except (SQLAlchemyError, OSError) as exc:
        log.warning("readiness: database check failed: %s", type(exc).__name__)
        return Readiness(f"unavailable ({type(exc).__name__})", "not checked")
    if heads.problem:
        return Readiness("ok", heads.problem)
    if revisions is None:
        return Readiness("ok", "database is not migrated: run `soilapi migrate`")
    if revisions != heads.revisions:
        have, want = ",".join(sorted(revisions)) or "none", ",".join(sorted(heads.revisions))
        return Readiness("ok", f"database at {have}, code expects {want}: run `soilapi migrate`")
    return Readiness("ok", "ok")
