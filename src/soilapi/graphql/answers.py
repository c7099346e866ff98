"""Every way a GraphQL request is answered, behind one call: `Answers.answer`.

In order: an answer that depends on the schema alone (introspection), kept for the process's
life since the schema cannot change under a running server; a remembered response for the
current data version; then, in the request's snapshot, a remembered response for the version
that snapshot reads; the statements the SQL compiler made for the same request before,
replayed without parsing, validating or planning; else strawberry's execution.

A request that asks for `extensions.explain` (when EXPLAIN_QUERIES allows it: see
soilapi.graphql.explain) skips every cache, both ways: it is executed (or replayed) with its
statements recorded, then explained, and its answer is never remembered.

The response cache can never serve a stale answer. Entries are keyed by the query text,
variables, operation name and the data version read in the request's own snapshot. A write
bumps the version in the same transaction, so after it no process can match an older entry:
every server process stays correct with no messages between them, and old entries age out.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson
from graphql import GraphQLError
from graphql.execution.values import get_variable_values
from strawberry import Schema
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from soilapi.errors import ErrorCode
from soilapi.graphql import explain
from soilapi.graphql.compiler import Compiled, rebind
from soilapi.graphql.context import Context
from soilapi.graphql.inputs import variable_errors
from soilapi.graphql.limits import (
    Limits,
    known_query,
    measured,
    schema_only,
)
from soilapi.lru import Lru
from soilapi.repositories.cache import data_version

log = logging.getLogger(__name__)

Extensions = dict[str, Any] | None
MIB = 1024 * 1024
OpenContext = Callable[[], AbstractAsyncContextManager[Context]]


class How(enum.StrEnum):
    """How a request was answered."""

    REFUSED = "refused"  # nothing ran: a variable holds text no column can hold
    SCHEMA = "schema"  # kept for good: the answer depends on the schema alone
    REMEMBERED = "remembered"  # the response cache: same request, data version unchanged
    REPLAYED = "replayed"  # the compiled statements of the same request, run again
    EXECUTED = "executed"  # strawberry: parse, validate, then the compiler or the resolvers


class Asked(Protocol):
    """The parameters of a GraphQL request (soilapi.http's Params is one)."""

    @property
    def query(self) -> str: ...
    @property
    def variables(self) -> dict[str, Any] | None: ...
    @property
    def operation_name(self) -> str | None: ...
    @property
    def extensions(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Answer:
    """A request's answer: a result to encode, or (remembered) the body to send as it is.

    `keep` says where the encoded result may be remembered (see `Answers.remember`); `tag`
    is the digest of what the answer depends on (the request and the data version it was
    computed at, or the schema), from which HTTP derives its ETag; None when unknown.
    """

    how: How
    result: ExecutionResult | None = None
    body: bytes | None = None
    keep: tuple[Lru[str, bytes], str] | None = None
    cpu_seconds: float = 0.0  # spent parsing and validating: the rate limiter charges it
    tag: str | None = None


class _Keys:
    """The digests of one request in each space (schema, compiled, a data version): of
    everything an answer depends on.

    A request needs two or three of them; the request is serialised once for all. orjson
    writes it several times faster than json.dumps, which stays for what orjson refuses
    (integers past 64 bits, which a client may send as a variable's value).
    """

    __slots__ = ("_frozen",)

    def __init__(self, asked: Asked) -> None:
        request = [asked.query, asked.variables or {}, asked.operation_name]
        try:
            self._frozen = orjson.dumps(request, option=orjson.OPT_SORT_KEYS, default=str)
        except orjson.JSONEncodeError:
            self._frozen = json.dumps(request, sort_keys=True, default=str).encode()

    @property
    def size(self) -> int:
        """The length of the request as serialised."""
        return len(self._frozen)

    def key(self, space: int | str) -> str:
        """The digest of the request in `space`."""
        return hashlib.sha256(f"{space}\0".encode() + self._frozen).hexdigest()


def responses(max_entries: int, max_bytes: int) -> Lru[str, bytes]:
    """The response cache: encoded bodies, none over a quarter of the bytes."""
    return Lru(
        "responses",
        max_entries=max_entries,
        max_bytes=max_bytes,
        weigh=_body_bytes,
        max_entry_bytes=max_bytes // 4,
    )


def _body_bytes(key: str, body: bytes) -> int:
    return len(key) + len(body)


class _Replay(NamedTuple):
    """A request the SQL compiler answered, kept to answer it again (`Answers._run`): its
    statements with their bind values, its answer's extensions, and the length of the
    request as serialised (`_Keys.size`)."""

    compiled: Compiled
    extensions: Extensions
    size: int


def _replay_bytes(key: str, found: _Replay) -> int:
    """The statements (shared with the plan cache, counted here too: an entry may outlive
    the other), and the bind values and extensions, weighed by the request they came from:
    walking them was slow (printing 20 UUIDs to weigh them cost a tenth of a node lookup)."""
    return len(key) + found.compiled.statements.weight + 4 * found.size + 256


class Answers:
    """Answers GraphQL requests from memory, by replay or by execution; see the module."""

    def __init__(
        self,
        schema: Schema,
        *,
        responses: Lru[str, bytes] | None = None,
        current_version: Callable[[], Awaitable[int]] | None = None,
        limits: Limits | None = None,
        explains: bool = False,
    ) -> None:
        """`responses` turns the response cache on; `current_version` reads the data version
        outside any request (a shared probe), to serve a remembered response at once;
        `limits` are the query limits (their token limit bounds the parse of each request);
        `explains` lets requests ask for the `explain` extension (EXPLAIN_QUERIES)."""
        self.schema = schema
        self.explains = explains
        # QUERY_COMPILER=off: the schema's execution never compiles, and nor does a rebind.
        self.compiles = bool(getattr(schema.execution_context_class, "compile", False))
        self.limits = limits or Limits()
        self.responses = responses
        self.current_version = current_version
        self.schema_answers = Lru(
            "schema_answers",
            max_entries=64,
            max_bytes=32 * MIB,
            weigh=_body_bytes,
            max_entry_bytes=8 * MIB,
        )
        # Requests the SQL compiler answered before, by their text and variables: answered
        # again from their compiled statements alone (see `_replay`).
        self.compiled: Lru[str, _Replay] = Lru(
            "compiled_requests", max_entries=512, max_bytes=64 * MIB, weigh=_replay_bytes
        )

    async def answer(
        self, asked: Asked, open_context: OpenContext, allowed: Collection[OperationType]
    ) -> Answer:
        """The answer to `asked`, running only operations of the `allowed` types.

        Strawberry's errors about the operation to run (InvalidOperationTypeError,
        CannotGetOperationTypeError) reach the caller, which knows the protocol's answer.
        """
        refused = variable_errors(asked.variables)
        if refused:
            return Answer(How.REFUSED, ExecutionResult(data=None, errors=refused))
        if self.explains:
            try:
                explained = explain.wanted(asked.extensions)
            except explain.Malformed as bad:
                error = GraphQLError(str(bad), extensions={"code": ErrorCode.BAD_REQUEST})
                return Answer(How.REFUSED, ExecutionResult(data=None, errors=[error]))
            if explained:
                return await self._explained(asked, open_context, allowed)
        return await self._answer(asked, open_context, allowed)

    async def _explained(
        self, asked: Asked, open_context: OpenContext, allowed: Collection[OperationType]
    ) -> Answer:
        """The answer with `extensions.explain`: run (or replayed) with every statement
        recorded, then each explained in the same snapshot. No cache is read, so the
        statements are the ones this answer took; none is written (`keep` and `tag` stay
        None), so an explained answer is never served to anyone, and over GET it is sent
        `no-store` without an ETag."""
        async with open_context() as context:
            context.reader.record()
            result, how = await self._run(context, asked, allowed, _Keys(asked))
            compiled = how is How.REPLAYED or context.compiled is not None
            report = await explain.report(context.reader, compiled=compiled)
        # A new result: the one `_run` returned may share its extensions with the replays.
        extensions = {**(result.extensions or {}), explain.EXTENSION: report}
        explained = ExecutionResult(data=result.data, errors=result.errors, extensions=extensions)
        return Answer(how, explained, cpu_seconds=context.cpu_seconds)

    async def _answer(
        self, asked: Asked, open_context: OpenContext, allowed: Collection[OperationType]
    ) -> Answer:
        keys = _Keys(asked)
        # Checked by running it (`context.schema_only`): a query whose root fields are all
        # meta-fields may read the schema alone.
        may_read_schema = schema_only(asked.query, asked.operation_name, self.limits.tokens)
        schema_key = keys.key("schema") if may_read_schema else None
        if schema_key is not None and (body := self.schema_answers.get(schema_key)) is not None:
            return Answer(How.SCHEMA, body=body, tag=schema_key)
        key, body = await self._remembered(keys)
        if body is not None:
            return Answer(How.REMEMBERED, body=body, tag=key)
        async with open_context() as context:
            key, body = await self._lookup(context, keys)
            if body is not None:
                return Answer(How.REMEMBERED, body=body, tag=key)
            result, how = await self._run(context, asked, allowed, keys)
        spent = context.cpu_seconds
        if schema_key is not None and context.schema_only:  # a query's (`schema_only`)
            keep = (self.schema_answers, schema_key)
            return Answer(how, result, keep=keep, cpu_seconds=spent, tag=schema_key)
        # A mutation's answer depends on who sent it, and is never a read to serve again.
        if key is not None and self.responses is not None and not context.private:
            keep = (self.responses, key)
            return Answer(how, result, keep=keep, cpu_seconds=spent, tag=key)
        return Answer(how, result, cpu_seconds=spent)

    def remember(self, answer: Answer, body: bytes) -> None:
        """Keep the encoded body of a complete success, sent with status 200.

        Errors may be passing (timeouts, outages), so only answers without any are kept.
        """
        result = answer.result
        if answer.keep is None or result is None or result.errors or result.data is None:
            return
        cache, key = answer.keep
        cache.put(key, body)

    async def _run(
        self,
        context: Context,
        asked: Asked,
        allowed: Collection[OperationType],
        keys: _Keys,
    ) -> tuple[ExecutionResult, How]:
        key = keys.key("compiled")
        found = self.compiled.get(key)
        if found is not None:  # the same request, answered by the compiler before
            replayed = await self._answer_compiled(context, found.compiled, found.extensions)
        else:  # the same document with other variables, maybe
            replayed = await self._rebind(context, asked, key, keys.size)
        if replayed is not None:
            return replayed, How.REPLAYED
        result = await self.schema.execute(
            asked.query,
            variable_values=asked.variables,
            context_value=context,
            operation_name=asked.operation_name,
            allowed_operation_types=allowed,
            operation_extensions=asked.extensions,
        )
        if context.compiled is not None and not result.errors and result.data is not None:
            self.compiled.put(key, _Replay(context.compiled, result.extensions, keys.size))
        return result, How.EXECUTED

    async def _answer_compiled(
        self, context: Context, compiled: Compiled, extensions: Extensions
    ) -> ExecutionResult | None:
        """The answer of a request the SQL compiler answered before, from its statements alone
        (a replay, or a rebind: `_rebind`).

        The same text, operation name and variables parse, validate, pass the query limits
        and plan the same way every time, so those steps are skipped: this costs the
        statements and little else. If a statement fails or the execution time limit passes,
        None: the request then runs the usual way, which reports the error.
        """
        try:
            async with asyncio.timeout(context.limits.seconds):
                data = await compiled.answer(context.reader)
        except Exception:
            log.debug("a remembered compiled request failed; running it", exc_info=True)
            return None
        return ExecutionResult(data=data, errors=None, extensions=extensions)

    async def _rebind(
        self, context: Context, asked: Asked, key: str, size: int
    ) -> ExecutionResult | None:
        """The answer of a document the SQL compiler answered before, with other variables:
        its statements, bound to the new values (compiler.rebind).

        A front-end sends one document with many variable sets (other slugs, cursors, IDs).
        The document parsed and validated before (the parse cache hands back the same
        operation, whose plans were kept), so this costs coercing the variables (graphql-core,
        which reports nothing here: a bad value runs the usual way, which reports it), the
        cost of the page sizes (remembered), the binds and the statements.
        """
        if not self.compiles:
            return None
        known = known_query(asked.query, asked.operation_name, context.limits.tokens)
        if known is None:
            return None
        document, operation = known
        schema = self.schema._schema
        variables = get_variable_values(
            schema, operation.variable_definitions or (), asked.variables or {}, max_errors=1
        )
        if isinstance(variables, list):
            return None
        compiled = rebind(schema, operation, variables, context)
        if compiled is None:
            return None
        cost, refused = measured(
            schema, asked.query, lambda: document, asked.variables, asked.operation_name,
            context.limits,
        )  # fmt: skip
        if refused:
            return None
        extensions = None if cost is None else {"cost": cost.as_extension()}
        found = await self._answer_compiled(context, compiled, extensions)
        if found is not None:
            self.compiled.put(key, _Replay(compiled, extensions, size))
        return found

    async def _remembered(self, keys: _Keys) -> tuple[str | None, bytes | None]:
        """A remembered response for the current data version, before opening any context,
        with its key.

        Only hits are counted here: a miss is looked up again (and counted) in the snapshot.
        """
        if self.responses is None or self.current_version is None:
            return None, None
        return await self._find(self.current_version(), keys, count_miss=False)

    async def _lookup(self, context: Context, keys: _Keys) -> tuple[str | None, bytes | None]:
        """The response cache key for this request in its snapshot, and the body if any.

        If the version cannot be read the request runs uncached: a query that needs the
        database then reports the fault (at once: the request's reader remembers it), and
        one that does not (`{ __typename }`) still answers.
        """
        if self.responses is None:
            return None, None
        return await self._find(data_version(context.reader), keys, count_miss=True)

    async def _find(
        self, version: Awaitable[int], keys: _Keys, *, count_miss: bool
    ) -> tuple[str | None, bytes | None]:
        """The key and remembered body for a request at the version `version` reads."""
        assert self.responses is not None
        try:
            read = await version
        except Exception:
            log.debug("data version unreadable; no remembered answer", exc_info=True)
            return None, None
        key = keys.key(read)
        return key, self.responses.get(key, count_miss=count_miss)
