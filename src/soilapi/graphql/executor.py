"""A level-by-level executor for successful queries, with graphql-core's as the fallback.

First of all, a query the SQL compiler can plan (soilapi.graphql.compiler) is answered by one
statement per root field that builds the JSON in PostgreSQL; everything below is for the
queries it cannot plan (a field without a SQL mark) and for its failures.

graphql-core executes a response field by field: per field it builds a resolve info, wraps the
value in awaitables and tasks, and completes it recursively. With strawberry's wrappers on top
that is 10-20 µs per field, so a 500-field answer spent more time in the executor than in the
database (bench/README.md). This executor runs a whole level of the answer at once: every field
of every object at one depth is resolved in one pass, plain attributes are read with `getattr`,
each resolver field's arguments and resolve info are built once per level instead of once per
object, strawberry's resolver functions are called directly (arguments converted once per
level), a connection field answers the whole level in one call (`paged_field`'s `batch`), and
the awaitables of a level are gathered together, so DataLoaders still batch a level into one
statement.

It handles the common case only: a query that succeeds. Anything else (an error in any
resolver, a null in a non-null position, introspection, @defer/@stream, middleware) makes it
give up, and graphql-core's executor runs the operation from the start, with the same loaders
(whatever they cached is reused), so errors, paths and null propagation are exactly
graphql-core's. Tests run every query of the suite through both executors and compare.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from soilapi.graphql import compiler

# Values a level hands to the next: (object type, its field group) -> [(source, placeholder)].
Pending = dict[
    tuple[GraphQLObjectType, int], tuple[FieldDetailsList, list[tuple[Any, dict[str, Any]]]]
]
Complete = Callable[[Any, Pending], Any]
Info = GraphQLResolveInfo[Any]

_ALL = -1  # the slot of a batched field: its awaitable gives the values of every object
_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
_SCHEMA_ONLY = _INTROSPECTION_ROOTS | {"__typename"}
log = logging.getLogger(__name__)
# How often each path ran since start: "compiled" (one SQL statement per root field), "fast",
# "fallback" (fast path gave up), "standard".
runs: Counter[str] = Counter()


def _direct(definition: StrawberryField) -> bool:
    """Whether a field's function can be called without strawberry's per-call wrapper: it has
    one, and no field extension (permissions, argument mapping) must run around it."""
    return definition.base_resolver is not None and not definition.extensions


class Batched:
    """The values of a field for all objects of a level, as one awaitable list."""

    def __init__(self, values: Awaitable[list[Any]], count: int) -> None:
        self.values = values
        self.count = count


class Fallback(Exception):
    """The fast path met something it leaves to graphql-core."""


class LevelExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a fast path for queries that succeed (module docstring)."""

    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        position_context: Any | None,
    ) -> Any:
        names = {details[0].node.name.value for details in grouped_field_set.values()}
        if names <= _SCHEMA_ONLY and self.context_value is not None:
            # The answer depends on the schema alone: the endpoint may remember it for good.
            self.context_value.schema_only = True
        manager = self.middleware_manager
        if (
            serially
            or position_context is not None
            or (manager is not None and manager.middlewares)
            or _INTROSPECTION_ROOTS.intersection(names)
        ):
            runs["standard"] += 1
            return super().execute_root_grouped_field_set(
                root_type, root_value, grouped_field_set, serially, position_context
            )
        return self._fast_then_standard(root_type, root_value, grouped_field_set)

    async def _fast_then_standard(
        self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: GroupedFieldSet
    ) -> Any:
        try:
            data = await compiler.execute(self, root_type, root_value, grouped_field_set)
        except compiler.NotPlanned as skipped:
            log.debug("not compiled to SQL (%s)", skipped)
        except Exception:  # the statement failed: the resolvers report it, with paths
            log.debug("compiled statement failed; running the resolvers", exc_info=True)
        else:
            runs["compiled"] += 1
            return data
        try:
            data = await _Run(self).root(root_type, root_value, grouped_field_set)
        except Fallback as gave_up:
            runs["fallback"] += 1
            log.debug("fast executor gave up (%r); running graphql-core's", gave_up)
        else:
            runs["fast"] += 1
            return data
        standard = super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, False, None
        )
        return await standard if self.is_awaitable(standard) else standard


async def _settle(waiting: list[Awaitable[Any]]) -> list[Any]:
    """Await everything together (so loaders batch); give up if any of it failed.

    Every awaitable is let finish before giving up, so no work of this attempt runs on
    while graphql-core's executor starts over.
    """
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise Fallback from outcome
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes


class _Run:
    """One fast execution: per-level plans, and caches of what depends only on types."""

    def __init__(self, executor: LevelExecutor) -> None:
        self.x = executor
        self.completers: dict[tuple[int, int], Complete] = {}
        self.runtime_types: dict[tuple[Any, type], GraphQLObjectType] = {}
        self.type_checks: dict[tuple[Any, type], bool] = {}

    async def root(
        self, root_type: GraphQLObjectType, root_value: Any, grouped: GroupedFieldSet
    ) -> dict[str, Any]:
        target: dict[str, Any] = {}
        await self.level(root_type, grouped, [(root_value, target)])
        return target

    async def level(
        self,
        parent_type: GraphQLObjectType,
        grouped: GroupedFieldSet,
        items: list[tuple[Any, dict[str, Any]]],
    ) -> None:
        """Resolve and complete every field of a group of objects, then their children."""
        keys = dict.fromkeys(grouped)
        for _, target in items:
            target.update(keys)  # the answer keeps the query's field order
        resolved, waiting, slots = self.start(parent_type, grouped, items)
        if waiting:
            for (values, i), outcome in zip(slots, await _settle(waiting), strict=True):
                if i == _ALL:
                    if len(outcome) != len(values):
                        raise Fallback("a batch answered another number of objects")
                    values[:] = outcome
                else:
                    values[i] = outcome
        pending: Pending = {}
        for key, complete, values in resolved:
            for (_, target), value in zip(items, values, strict=True):
                target[key] = complete(value, pending)
        if pending:
            await _settle(
                [
                    self.level(obj_type, self.x.collect_subfields(obj_type, details)[0], group)
                    for (obj_type, _), (details, group) in pending.items()
                ]
            )

    def start(
        self,
        parent_type: GraphQLObjectType,
        grouped: GroupedFieldSet,
        items: list[tuple[Any, dict[str, Any]]],
    ) -> tuple[
        list[tuple[str, Complete, list[Any]]], list[Awaitable[Any]], list[tuple[list[Any], int]]
    ]:
        """Call every resolver of a level; the awaitables come back with where they belong."""
        resolved: list[tuple[str, Complete, list[Any]]] = []
        waiting: list[Awaitable[Any]] = []
        slots: list[tuple[list[Any], int]] = []
        is_awaitable = self.x.is_awaitable
        try:
            for key, details in grouped.items():
                found = self.resolve(parent_type, key, details, items)
                if found is None:  # __typename
                    continue
                if isinstance(found, Batched):
                    values: list[Any] = [None] * found.count
                    waiting.append(found.values)
                    slots.append((values, _ALL))
                else:
                    values = found
                    for i, value in enumerate(values):
                        if is_awaitable(value):
                            waiting.append(value)
                            slots.append((values, i))
                field = parent_type.fields[details[0].node.name.value]
                resolved.append((key, self.completer(field, details, parent_type, key), values))
        except Fallback:
            for unstarted in waiting:  # created, never awaited: close them without a warning
                close = getattr(unstarted, "close", None)
                if close is not None:
                    close()
            raise
        return resolved, waiting, slots

    def resolve(
        self,
        parent_type: GraphQLObjectType,
        key: str,
        details: FieldDetailsList,
        items: list[tuple[Any, dict[str, Any]]],
    ) -> list[Any] | Batched | None:
        """The raw values of one field for every object (awaitables included)."""
        first = details[0]
        name = first.node.name.value
        if name == "__typename":
            for _, target in items:
                target[key] = parent_type.name
            return None
        field: GraphQLField | None = parent_type.fields.get(name)
        if field is None:
            raise Fallback(name)
        definition = field.extensions.get("strawberry-definition")
        if definition is not None and definition.is_basic_field and not first.node.arguments:
            attribute = definition.python_name
            return [getattr(source, attribute) for source, _ in items]
        try:
            args = (
                get_argument_values(
                    field,
                    first.node,
                    self.x.variable_values,
                    first.fragment_variable_values,
                    self.x.hide_suggestions,
                )
                if field.args or first.node.arguments
                else {}
            )
        except Exception as exc:
            raise Fallback from exc
        info = self.info(field, details, parent_type, key)
        try:
            if definition is not None and _direct(definition):
                sources = [source for source, _ in items]
                return call_resolver(self.x, definition, info, args, sources)
            resolve = field.resolve or self.x.field_resolver
            return [resolve(source, info, **args) for source, _ in items]
        except Exception as exc:
            raise Fallback from exc

    def info(
        self,
        field: GraphQLField,
        details: FieldDetailsList,
        parent_type: GraphQLObjectType,
        key: str,
    ) -> Info:
        """One resolve info for a field at a level (its path names the field, not the item)."""
        nodes = [d.node for d in details]
        return self.x.build_resolve_info(
            field, nodes, parent_type, Path(None, key, parent_type.name)
        )

    def completer(
        self, field: GraphQLField, details: FieldDetailsList, parent: GraphQLObjectType, key: str
    ) -> Complete:
        """A function turning a resolved value into its answer (memoised per field group)."""
        memo = (id(parent), id(details))
        found = self.completers.get(memo)
        if found is None:
            info = self.info(field, details, parent, key)
            found = self.completers[memo] = self._build(field.type, details, info)
        return found

    def _build(
        self, return_type: GraphQLOutputType, details: FieldDetailsList, info: Info
    ) -> Complete:
        if isinstance(return_type, GraphQLNonNull):
            inner = self._build(return_type.of_type, details, info)

            def non_null(value: Any, pending: Pending) -> Any:
                if value is None:
                    raise Fallback("null in a non-null position")
                return inner(value, pending)

            return non_null
        if isinstance(return_type, GraphQLList):
            item = self._build(return_type.of_type, details, info)

            def many(value: Any, pending: Pending) -> Any:
                if value is None:
                    return None
                if isinstance(value, str | bytes | dict):
                    raise Fallback("not a list")
                return [item(v, pending) for v in value]

            return many
        if is_leaf_type(return_type):
            coerce = return_type.coerce_output_value

            def leaf(value: Any, _pending: Pending) -> Any:
                if value is None:
                    return None
                try:
                    out = coerce(value)
                except Exception as exc:
                    raise Fallback from exc
                if out is None or out is Undefined:
                    raise Fallback("leaf coerced to null")
                return out

            return leaf
        if is_abstract_type(return_type):

            def abstract(value: Any, pending: Pending) -> Any:
                if value is None:
                    return None
                runtime = self.runtime_type(return_type, value, info)
                return self.defer(runtime, details, value, pending, info)

            return abstract
        assert isinstance(return_type, GraphQLObjectType)
        object_type = return_type

        def obj(value: Any, pending: Pending) -> Any:
            if value is None:
                return None
            return self.defer(object_type, details, value, pending, info)

        return obj

    def defer(
        self,
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
        value: Any,
        pending: Pending,
        info: Info,
    ) -> dict[str, Any]:
        """An empty answer object the next level fills in."""
        if object_type.is_type_of is not None:
            memo = (object_type, type(value))
            ok = self.type_checks.get(memo)
            if ok is None:
                ok = self.type_checks[memo] = object_type.is_type_of(value, info) is True
            if not ok:
                raise Fallback("is_type_of refused the value")
        target: dict[str, Any] = {}
        group = pending.get((object_type, id(details)))
        if group is None:
            group = pending[(object_type, id(details))] = (details, [])
        group[1].append((value, target))
        return target

    def runtime_type(self, abstract: Any, value: Any, info: Info) -> GraphQLObjectType:
        """The object type of a value in an interface or union position.

        Memoised per Python class: every record class maps to one GraphQL type.
        """
        memo = (abstract, type(value))
        found = self.runtime_types.get(memo)
        if found is not None:
            return found
        resolve_type = abstract.resolve_type or self.x.type_resolver
        name = resolve_type(value, info, abstract)
        if not isinstance(name, str):
            raise Fallback("runtime type is not a name")
        runtime = self.x.schema.get_type(name)
        if not isinstance(runtime, GraphQLObjectType) or not self.x.schema.is_sub_type(
            abstract, runtime
        ):
            raise Fallback("invalid runtime type")
        self.runtime_types[memo] = runtime
        return runtime


def call_resolver(
    execution: Any,
    definition: StrawberryField,
    info: Info,
    args: dict[str, Any],
    sources: list[Any],
) -> list[Any] | Batched:
    """A strawberry resolver called for every object, its arguments converted once.

    Strawberry's own wrapper does per call what `get_arguments` does here per level
    (conversion of the arguments to Python values, the strawberry Info, which of source,
    root, parent and info the function takes): about 10 µs for each object. A resolver
    with a `batch` function (`batch(sources, info, **arguments)`, see `paged_field`) is
    answered for all objects by one call of it instead.
    """
    strawberry_schema = execution.schema._strawberry_schema
    config = strawberry_schema.config
    strawberry_info = config.info_class(_raw_info=info, _field=definition)
    kwargs = convert_arguments(
        args,
        definition.arguments,
        scalar_registry=strawberry_schema.schema_converter.scalar_registry,
        config=config,
        info=strawberry_info,
    )
    resolver = definition.base_resolver
    assert resolver is not None
    batch = getattr(resolver.wrapped_func, "batch", None)
    if batch is not None:
        return Batched(batch(sources, strawberry_info, **kwargs), len(sources))
    if resolver.info_parameter is not None:
        kwargs[resolver.info_parameter.name] = strawberry_info
    takes_self = resolver.self_parameter is not None
    as_source = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    get_result = definition.get_result
    results: list[Any] = []
    for source in sources:
        for name in as_source:
            kwargs = {**kwargs, name: source}
        positional = [source] if takes_self else []
        results.append(get_result(source, strawberry_info, positional, kwargs))
    return results
