"""Engine creation and the per-request database handle."""

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Self, TypeAlias, TypeVar

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import orjson
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import PGCompiler_asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import NullType

from soilapi.db import leases
from soilapi.settings import Settings, normalise_url

T = TypeVar("T")
_SNAPSHOT_ID = re.compile(r"[0-9A-F-]+")

Connection: TypeAlias = AsyncConnection
"""A connection inside its caller's transaction, handed on to repository functions.

Named here so that code which only passes a connection along (the seed loader) needs no
SQLAlchemy import: the import contracts in pyproject.toml keep SQLAlchemy out of seed/.
"""

# Statements each connection keeps prepared (asyncpg's default, spelled out), and the longest
# text it prepares: see connect_args.
STATEMENT_CACHE_SIZE = 100
MAX_CACHEABLE_STATEMENT_BYTES = 32 * 1024


def connect_args(settings: Settings) -> dict[str, Any]:
    """asyncpg's connect arguments for every connection the API opens."""
    return {
        # asyncpg's own default is 60 s: far too long for a request to wait on a dead host.
        "timeout": settings.db_connect_timeout_seconds,
        # The SQL compiler's statements are prepared once per connection and then only bound.
        # asyncpg leaves text over 15 KiB unprepared, and a compiled front-end page often
        # exceeds that (the bench's facilities query is 15.4 KiB): PostgreSQL then parsed and
        # planned it on every request, 4-10 ms at scale 1. PostgreSQL keeps about 50 bytes
        # per character of a prepared statement, so this bounds what a connection can hold
        # at STATEMENT_CACHE_SIZE x 32 KiB x 50 B, about 160 MiB, whatever documents arrive.
        "statement_cache_size": STATEMENT_CACHE_SIZE,
        "max_cacheable_statement_size": MAX_CACHEABLE_STATEMENT_BYTES,
        "server_settings": {
            "statement_timeout": str(settings.statement_timeout_ms),
            "application_name": "soilapi",
            # API statements are small and many; JIT compilation only adds latency to them
            # (1 s per polymorphic load on a table without statistics, measured).
            "jit": "off",
            # The planner's costs for data read from memory, as the API's is: PostgreSQL's
            # defaults price a random page read at 4 sequential ones (a disk's), so a page of
            # records looked up by key seemed dearer than hashing a whole table. At bench scale
            # 100 a first page of 20 events hashed all 5,016 (0.85 -> 0.48 ms) and a page of
            # 100 organisations all 20,049 (2.4 -> 1.0 ms); at scale 1, 50 `nodes` lookups
            # hashed all 3,974 records. An index tuple costs a heap tuple's CPU, so that a
            # count of a whole table stays a sequential scan (an index-only scan of 100,000
            # outputs was 35 % slower). A random read at 1.1-1.5 sequential ones was too
            # cheap: at scale 100 a facet's 3,352 agreements became lookups by key, 10 %
            # slower than one hash of the table.
            "random_page_cost": "2",
            "cpu_index_tuple_cost": "0.01",
            # plan_cache_mode stays "auto". Forcing generic plans (made for any values) was
            # 1.1-2x slower at scale 100 wherever the values matter (search 0.47x, the
            # dashboard's counts 0.74x); forcing custom ones re-planned statements whose
            # generic plan was good (the org tree 0.72x). See json_query.WindowForm for what
            # is planned once.
        },
    }


# Connections the pool opens beyond `db_pool_size` when all of those are busy (SQLAlchemy's
# default, spelled out: the app bounds the requests in flight by the pool's reach).
POOL_OVERFLOW = 10


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """Build the async engine; API connections get a statement timeout so no query hangs."""
    target = url or settings.database_url
    if not target:
        raise RuntimeError("DATABASE_URL is not set")
    engine = create_async_engine(
        normalise_url(target),
        pool_size=settings.db_pool_size,
        max_overflow=POOL_OVERFLOW,
        echo=settings.log_sql,
        # asyncpg decodes json/jsonb columns (an entity's detail row) with this: orjson is
        # several times faster than the standard library's decoder.
        json_deserializer=orjson.loads,
        connect_args=connect_args(settings),
    )
    ping_when_idle(engine)
    return engine


def ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only if it sat idle for a second or more.

    `pool_pre_ping` pings at every checkout: a round trip that cost a small request a tenth
    of its time. A connection that was in use a moment ago is alive unless the server went
    away in that moment, which the request's own statement then reports (and the pool then
    drops every connection of that server); one that sat idle, through a restart perhaps, is
    checked first, and replaced if dead, so the request never sees it. SQLAlchemy documents
    this checkout hook ("disconnect handling - pessimistic, custom").
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def remember(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def ping(dbapi: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        idle = leases.IDLE_BEFORE_PING_SECONDS
        if idle_since is None or time.monotonic() - idle_since < idle:
            return
        try:
            dbapi.ping()
        except Exception as exc:  # the pool replaces the connection and checks out again
            raise DisconnectionError("pooled connection is dead") from exc


# asyncpg sends date.max and date.min as infinity and -infinity: their literals say the same.
_INFINITIES = {date.max: "'infinity'", date.min: "'-infinity'"}


class _ConstantsInline(PGCompiler_asyncpg):
    """Writes the constants of a statement into its text; only named binds stay parameters.

    A statement built from a plan holds many constants: JSON keys, type names, cursor tags,
    date formats, kinds. As parameters, each is encoded and sent again with every execution
    (about 50 per statement, as much time in binding as in executing). A constant is an
    anonymous bind (`sa.literal`, `column == value`); a value that changes per request is a
    named `bindparam(name)`, which stays a parameter. Each literal is cast to its type, as the
    parameter was, so that functions such as to_json() know what they receive.
    """

    def visit_bindparam(self, bindparam: BindParameter[Any], *args: Any, **kw: Any) -> str:
        if bindparam.unique and bindparam.callable is None and not bindparam.expanding:
            value = bindparam.value
            literal: str
            if isinstance(value, date) and value in _INFINITIES:
                literal = _INFINITIES[value]
            else:
                literal = self.render_literal_bindparam(bindparam)  # type: ignore[no-untyped-call]
            if isinstance(bindparam.type, NullType):
                return literal
            return f"{literal}::{self.dialect.type_compiler_instance.process(bindparam.type)}"
        found: str = super().visit_bindparam(bindparam, *args, **kw)  # type: ignore[no-untyped-call]
        return found


class _Dialect(asyncpg_dialect):
    statement_compiler = _ConstantsInline


class Prepared:
    """A read statement compiled once, run on asyncpg directly with named values.

    Executing through the ORM session costs ~1 ms of CPU per statement (cache key of the
    statement tree, ORM execution context, result processing); a hot read built once and sent
    as SQL text costs a tenth of that. Values for `bindparam(name)`s come at execution, with
    the value they were built with as the default; constants are part of the text.
    """

    _dialect = _Dialect()  # type: ignore[no-untyped-call]

    def __init__(self, stmt: ClauseElement) -> None:
        compiled: Any = stmt.compile(dialect=self._dialect)
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.defaults = {name: bind.value for name, bind in compiled.binds.items()}
        # How long a run of it usually takes (a moving average of its last runs; None before
        # the first): Reader.fetch_each runs reads side by side only when that pays.
        self.seconds: float | None = None

    def took(self, seconds: float) -> None:
        """Note how long one run took."""
        last = self.seconds
        self.seconds = seconds if last is None else 0.8 * last + 0.2 * seconds

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """Positional arguments in the order of the SQL's $n placeholders."""
        return [values[n] if n in values else self.defaults[n] for n in self.names]


def on_each_statement(engine: AsyncEngine | AsyncConnection, listener: Callable[..., None]) -> None:
    """Call `listener` before every statement the engine (or the one connection) sends; a
    second call adds nothing.

    Reader.fetch announces its raw asyncpg reads with the same event, so they count too.
    """
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine.sync_connection
    if not event.contains(target, "before_cursor_execute", listener):
        event.listen(target, "before_cursor_execute", listener)


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """The statements (SQL text, bound values) the engine sends while in the block, in
    order; tests and `bench.explain` inspect or EXPLAIN them."""
    sent: list[tuple[str, Any]] = []

    def keep(*statement: Any) -> None:
        sent.append((statement[2], statement[3]))

    on_each_statement(engine, keep)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)


class StatementCounter:
    """Counts SQL statements sent through an engine; tests and benchmarks read it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        on_each_statement(engine, self._hit)

    def _hit(self, *_: Any) -> None:
        self.count += 1


def _unreachable(exc: DBAPIError) -> bool:
    """True when the error means no connection could be made (not a bad statement)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError | TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# Reads side by side cost each one beyond the first a connection, BEGIN, SET TRANSACTION
# SNAPSHOT and ROLLBACK: worth it only when they would otherwise wait this long in all.
SIDE_BY_SIDE_SECONDS = 0.002


def _pays_side_by_side(reads: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> bool:
    """Whether the reads, one after another, would wait longer than running them side by side
    costs: all but the longest take SIDE_BY_SIDE_SECONDS or more together, as their recent runs
    took (a read never run counts as long)."""
    expected = sorted(math.inf if query.seconds is None else query.seconds for query, _ in reads)
    return sum(expected[:-1]) >= SIDE_BY_SIDE_SECONDS


@dataclass(frozen=True)
class Ran:
    """A statement a request ran, as it was sent: its text ($n placeholders) and values."""

    sql: str
    values: tuple[Any, ...]


class RequestFinished(Exception):
    """A read of a request whose session is closed: its result could reach nobody."""


class Reader:
    """One snapshot-consistent connection per request, safe for concurrent resolvers.

    A plain pooled connection (SQLAlchemy Core), not an ORM session: the reads return rows,
    never mapped objects, and the session's unit of work cost a request about a tenth of its
    time for nothing. graphql-core resolves sibling fields concurrently, and a connection
    refuses overlapping operations, so every statement goes through one lock. DataLoaders keep
    the number of statements small, so the lock costs little.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._driver: Any = None
        self._sync: Any = None
        # Set when the database could not be reached during this request: later statements
        # fail at once with the same error instead of waiting for the connect timeout again.
        self.fault: BaseException | None = None
        self.closed = False
        # Set when a read was cancelled halfway (see `_guard`): the connection then never
        # goes back to the pool.
        self.interrupted = False
        # The statements run while `record` is on (EXPLAIN_QUERIES' explain extension).
        self._journal: list[Ran] | None = None

    def record(self) -> None:
        """Keep every statement this request runs from now on, as sent: both engines' reads
        (the compiler's raw reads, the resolvers' SQLAlchemy ones) pass the connection's
        `before_cursor_execute` event, which a listener on this request's connection alone
        hears, so other requests' statements never mix in."""
        self._journal = []
        if self._connection is not None:
            self._listen(self._connection)

    def recorded(self) -> list[Ran]:
        """Stop recording; the statements run since `record`, in order."""
        journal, self._journal = self._journal or [], None
        return journal

    def _listen(self, connection: AsyncConnection) -> None:
        on_each_statement(connection, self._note)

    def _note(self, _conn: Any, _cursor: Any, sql: str, values: Any, *_: Any) -> None:
        if self._journal is not None:
            self._journal.append(Ran(sql, tuple(values or ())))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        """Close at the end of the request (`reading`); a failure to close is logged, as the
        request's own error, if any, was already reported to the client."""
        try:
            await self.close()
        except Exception:
            logging.getLogger(__name__).warning("closing a connection failed", exc_info=True)

    async def close(self) -> None:
        """Give the request's connection back once no statement is running.

        The answer can be complete while a resolver still reads: graphql-core does not wait
        for the siblings of a field that failed in a non-null position. Closing under the lock
        lets such a read finish first (closing under it broke the connection's state), and
        every later read fails at once instead of opening a new connection nobody will release.
        """
        async with self._lock:
            self.closed = True
            connection, self._connection = self._connection, None
            if connection is None:
                return
            if self.interrupted:
                await connection.invalidate()
            await connection.close()

    async def execute(self, stmt: Executable) -> Any:
        """Run one statement under the request's lock; returns the buffered Result."""
        async with self._lock:
            return await self._guard(self._execute(stmt))

    async def _execute(self, stmt: Executable) -> Any:
        return await (await self._connect()).execute(stmt)

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            self._connection = await self.engine.connect()
            if self._journal is not None:
                self._listen(self._connection)
        return self._connection

    async def fetch(
        self, query: Prepared, values: Mapping[str, Any], *, alone: bool = False
    ) -> list[Any]:
        """Run a prepared read in the request's snapshot; rows are asyncpg records.

        `alone` says this is the request's only statement: if no snapshot is open yet, it
        runs without one, as one statement always reads one consistent state. That spares
        the BEGIN and ROLLBACK round trips, a third of a small request's database time.
        """
        async with self._lock:
            return await self._guard(self._fetch(query, values, alone))

    async def _fetch(self, query: Prepared, values: Mapping[str, Any], alone: bool) -> list[Any]:
        driver = self._driver
        if driver is None:
            if alone and self._connection is None and self._journal is None:
                return await self._alone(query, values)
            if alone:
                driver = (await self._raw())._connection
            else:
                driver = self._driver = await self._snapshot()
        return await self._run(driver, query, values)

    async def _alone(self, query: Prepared, values: Mapping[str, Any]) -> list[Any]:
        """A request's only statement, on a connection leased for it alone (soilapi.db.leases:
        taking one from the engine's pool and giving it back cost as much CPU as the
        statement). It needs no transaction. A read cut off halfway leaves the connection in a
        state nobody knows: it is closed, not given back."""
        lent = leases.of(self.engine)
        driver = await lent.take()
        sound = False
        try:
            rows = await self._run(driver, query, values, self.engine.sync_engine)
            sound = True
            return rows
        except asyncpg.PostgresError:
            sound = True  # the statement failed; the connection, outside any transaction, did not
            raise
        finally:
            lent.give_back(driver, sound=sound)

    async def fetch_each(
        self,
        reads: Sequence[tuple[Prepared, Mapping[str, Any]]],
        together: Callable[[], tuple[Prepared, Mapping[str, Any]] | None] | None = None,
    ) -> list[Any]:
        """Run several prepared reads of one request in one snapshot; rows per read.

        A request's root fields are independent statements: a dashboard's four lists, each
        with its count, took the sum of their times one after another. Here the first runs on
        the request's connection and each other one, while the pool has an idle connection,
        on a connection of its own that imports the request's snapshot
        (`pg_export_snapshot` / `SET TRANSACTION SNAPSHOT`), so all read the same state and
        the request takes about as long as its slowest read. A read that finds no idle
        connection runs on the request's own afterwards: a busy pool is never waited for,
        and never drained by one request. The reads run one after another while another
        request reads (it keeps the database's cores busy: extra connections would only add
        work), and when they recently took under
        SIDE_BY_SIDE_SECONDS in all beyond the longest (the extra connections would cost more
        than they save).

        Reads that would run one after another run as one statement instead when `together`
        gives one (a row whose i-th column is the i-th read's only value): one round trip,
        and no transaction, as one statement reads one snapshot by itself.
        """
        if len(reads) == 1:
            (query, values), *_ = reads
            return [await self.fetch(query, values, alone=True)]
        async with self._lock:
            return await self._guard(self._fetch_each(reads, together))

    async def _fetch_each(
        self,
        reads: Sequence[tuple[Prepared, Mapping[str, Any]]],
        together: Callable[[], tuple[Prepared, Mapping[str, Any]] | None] | None,
    ) -> list[Any]:
        engine = self.engine
        pool = getattr(engine, "pool", None)
        idle = getattr(pool, "checkedin", lambda: 0)()
        others = getattr(pool, "checkedout", lambda: 0)() - (self._connection is not None)
        others += leases.of(engine).busy
        # Side by side only while no other request reads: the others keep PostgreSQL's cores
        # busy anyway, and the extra connections only add work. Under load (the bench's
        # dashboard, 10 clients) the reads side by side whenever half the pool was idle cost
        # 3x the CPU of the one statement, which ran 2.2x the requests at scale 1.
        if others > 0 or not _pays_side_by_side(reads):
            idle = 0
            joined = together() if together is not None else None
            if joined is not None:
                started = time.perf_counter()
                (row, *_) = await self._fetch(*joined, alone=True)
                # Each read's share of the time, so that whether they would pay side by side
                # is judged on how long they take now (`_pays_side_by_side`).
                share = (time.perf_counter() - started) / len(reads)
                for query, _ in reads:
                    query.took(share)
                return [[(value,)] for value in row]
        driver = self._driver = self._driver or await self._snapshot()
        beside = list(range(1, len(reads)))[:idle]
        results: list[Any] = [None] * len(reads)
        if beside:
            snapshot = await driver.fetchval("SELECT pg_export_snapshot()")

            async def elsewhere(i: int) -> None:
                results[i] = await self._in_snapshot(engine, snapshot, *reads[i])

            async with asyncio.TaskGroup() as group:
                for i in beside:
                    group.create_task(elsewhere(i))
                results[0] = await self._run(driver, *reads[0])
        for i in range(len(reads)):
            if results[i] is None:
                results[i] = await self._run(driver, *reads[i])
        return results

    async def _in_snapshot(
        self, engine: Any, snapshot: str, query: Prepared, values: Mapping[str, Any]
    ) -> list[Any]:
        """One read on another pooled connection, in the exported `snapshot`."""
        async with engine.connect() as connection:
            raw = (await connection.get_raw_connection()).dbapi_connection._connection
            done = False
            try:
                # The id comes from pg_export_snapshot() (hex digits and dashes); SET
                # TRANSACTION SNAPSHOT takes no parameter.
                if not _SNAPSHOT_ID.fullmatch(snapshot):
                    raise ValueError(f"unexpected snapshot id {snapshot!r}")
                await raw.execute(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                    f"SET TRANSACTION SNAPSHOT '{snapshot}'"
                )
                rows = await self._run(raw, query, values)
                await raw.execute("ROLLBACK")
                done = True
                return rows
            finally:
                if not done:  # failed or cancelled halfway: its state is unknown
                    await connection.invalidate()

    async def _run(
        self, driver: Any, query: Prepared, values: Mapping[str, Any], announce: Any = None
    ) -> list[Any]:
        """Run a prepared read on `driver`, an asyncpg connection; `announce` is whose events
        tell the listeners (the request's connection unless given: the engine's)."""
        args = query.args(values)
        # Whoever counts statements (metrics, tests) listens for this event: raw reads count too.
        on = announce or self._sync
        on.dispatch.before_cursor_execute(on, None, query.sql, args, None, False)
        started = time.perf_counter()
        rows = list(await driver.fetch(query.sql, *args))
        query.took(time.perf_counter() - started)
        return rows

    async def fetch_text(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """Run SQL text with $n `values` in the request's snapshot (the EXPLAIN of a statement
        it ran, whose text and values `recorded` gives); rows are asyncpg records."""
        async with self._lock:
            return await self._guard(self._fetch_text(sql, values))

    async def _fetch_text(self, sql: str, values: Sequence[Any]) -> list[Any]:
        driver = self._driver = self._driver or await self._snapshot()
        self._sync.dispatch.before_cursor_execute(self._sync, None, sql, values, None, False)
        return list(await driver.fetch(sql, *values))

    async def restart(self) -> None:
        """Leave a transaction a failed statement aborted; the next read opens a new one.

        The SQL compiler's statement runs first; if it fails, the resolvers answer instead
        (and report the error the usual way), which they cannot do in an aborted transaction.
        """
        async with self._lock:
            if self.fault is None and self._connection is not None:
                self._driver = None
                await self._connection.rollback()

    async def _raw(self) -> Any:
        """SQLAlchemy's adapter of this request's asyncpg connection."""
        connection = await self._connect()
        self._sync = connection.sync_connection
        return (await connection.get_raw_connection()).dbapi_connection

    async def _snapshot(self) -> Any:
        """The asyncpg connection of this request, inside its transaction."""
        connection = await self._connect()
        if not connection.in_transaction():
            await connection.begin()
        adapted = await self._raw()
        # SQLAlchemy's adapter opens its transaction (REPEATABLE READ, read only) lazily at the
        # first statement it runs itself; open it now so raw reads share the snapshot.
        if adapted._transaction is None and adapted.isolation_level != "autocommit":
            await adapted._start_transaction()
        return adapted._connection

    async def _guard(self, pending: Awaitable[T]) -> T:
        if self.fault is not None or self.closed or self.interrupted:
            close = getattr(pending, "close", None)
            if close is not None:
                close()  # never awaited: the coroutine must not warn
            raise self.fault or RequestFinished("the request's answer was already sent")
        try:
            return await pending
        except asyncio.CancelledError:
            # graphql-core cancels the siblings of a field that failed, and the execution
            # time limit cancels everything. A read cut off halfway can leave the connection
            # in a state the pool does not know (BEGIN sent but not recorded, a statement
            # still running), which broke the next request that took it: it is discarded.
            self.interrupted = True
            raise
        except (DBAPIError, OSError, asyncpg.InterfaceError) as exc:
            if (
                isinstance(exc, OSError | asyncpg.InterfaceError)
                or exc.connection_invalidated
                or _unreachable(exc)
            ):
                self.fault = exc
            raise


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The engine as requests read through it: one consistent snapshot per request
    (REPEATABLE READ), and never a write."""
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def reading(engine: AsyncEngine) -> Reader:
    """A request's reader (give it `read_only(engine)`), to use as `async with reading(...)`:
    closed (see Reader.close) when the request ends.

    The connection opens at the first statement, so an unreachable database becomes a coded
    error of that statement, not a failure here.
    """
    return Reader(engine)
