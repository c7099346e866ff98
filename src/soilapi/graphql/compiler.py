"""Compile a query into one SQL statement per root field that returns its answer as JSON.

graphql-core's executor spends Python time on every object of an answer; PostGraphile spends
none, because PostgreSQL builds the JSON. This module plans the
selection the way the resolvers would read it (soilapi.repositories.json_query turns the plan
into SQL): each field says what it reads through its type (plain attributes are columns) or
its resolver's mark (soilapi.graphql.sqlmark). Root resolvers run for real in a planning mode
in which they return what they would read, so their argument checks stay the only ones.

Anything the planner does not know (a field without a mark, arguments it cannot read, an
error of any kind) raises NotPlanned, and the query runs through the resolvers as before:
the compiler is an optimisation, never the only way to an answer. The test suite runs every
query through graphql-core's executor too and compares the answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path

from soilapi.db import models as m
from soilapi.db.session import Reader
from soilapi.errors import InvalidId
from soilapi.graphql import ids as global_ids
from soilapi.graphql import resolve
from soilapi.graphql.pagination import PageArgs, window
from soilapi.graphql.sqlmark import spec_of
from soilapi.graphql.types.node import KINDS_BY_TYPE
from soilapi.lru import Lru
from soilapi.repositories import entities as repo
from soilapi.repositories import json_query as q
from soilapi.repositories.entities import ATTACHED
from soilapi.vocab import EntityKind

_ROWS_OF_LISTS = {what: model for what, (model, _) in ATTACHED.items()}
_DIRECT_ROOTS = frozenset({"node", "nodes"})
# Root fields answered by resolve.by_slug / by_lookup / top_level, which can tell what they
# would read; the others (entity by slug of any kind, source documents) run as before.
_UNPLANNED_ROOTS = frozenset({"entity", "sourceDocument", "sourceDocuments"})


class NotPlanned(Exception):
    """The query holds something the compiler leaves to the resolvers."""


def _columns(model: type[m.Base]) -> dict[str, sa.Column[Any]]:
    mapper: Any = sa.inspect(model)
    return {prop.key: prop.columns[0] for prop in mapper.column_attrs}


_ENTITY_COLUMNS = {kind: _columns(model) for kind, model in m.DETAIL_MODELS.items()}
_BASE_TABLE = m.Entity.__table__


def _form(column: sa.Column[Any]) -> str:
    if isinstance(column.type, sa.Enum):
        return "enum"
    if isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Integer):
        return "float"
    return "plain"


class Planner:
    """Plans one operation: the plan of each root field and the values of its binds."""

    def __init__(self, execution: Any) -> None:
        self.x = execution
        self.values: dict[str, Any] = {}
        self.lists = itertools.count()

    def _selected(
        self, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> Iterator[tuple[str, str, FieldDetailsList]]:
        """(response key, field name, field nodes) of a selection on an object type."""
        for key, group in self.x.collect_subfields(object_type, details)[0].items():
            yield key, group[0].node.name.value, group

    # --- roots -------------------------------------------------------------------------

    async def root(
        self, root_type: GraphQLObjectType, root_value: Any, key: str, details: FieldDetailsList
    ) -> tuple[Any, dict[str, Any]]:
        """(plan, bind values) of one root field."""
        self.values = {}
        node = details[0].node
        name = node.name.value
        field = root_type.fields.get(name)
        if field is None or name in _UNPLANNED_ROOTS:
            raise NotPlanned(name)
        args = self._arguments(field, details)
        if name in _DIRECT_ROOTS:
            return self._by_ids(field, details, args, single=name == "node"), self.values
        planned = await self._ask_resolver(root_type, root_value, key, field, details, args)
        named = get_named_type(field.type)
        if isinstance(planned, resolve.PlannedLookup):
            self.values["value"] = planned.value
            plan: Any = q.BySlug(planned.kind, planned.column, self.entities(named, details))
            return plan, self.values
        if isinstance(planned, resolve.PlannedList):
            assert isinstance(named, GraphQLObjectType)
            f, order = planned.filter, planned.order
            tag = resolve.top_level_tag(f, order)
            page = self._window(planned.args, tag, planned.descending, "")
            values = repo.filter_values(f)
            self.values.update(values)
            parts = self.connection(named, details, "entities", "")
            shape = repo.list_shape(f, values)
            return q.TopList(f.kind, shape, order, tag, page, parts, f), self.values
        raise NotPlanned(f"{name} answered {type(planned).__name__}")

    async def _ask_resolver(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        key: str,
        field: GraphQLField,
        details: FieldDetailsList,
        args: dict[str, Any],
    ) -> Any:
        """Run a root resolver in planning mode: it checks its arguments and says what it
        would read, without reading it."""
        context = self.x.context_value
        if field.resolve is None or context is None or not hasattr(context, "planning"):
            raise NotPlanned("no strawberry resolver")
        info = self.x.build_resolve_info(
            field, [d.node for d in details], root_type, Path(None, key, root_type.name)
        )
        context.planning = True
        try:
            found = field.resolve(root_value, info, **args)
            return await found if self.x.is_awaitable(found) else found
        except Exception as exc:
            raise NotPlanned("the resolver refused its arguments") from exc
        finally:
            context.planning = False

    def _by_ids(
        self, field: GraphQLField, details: FieldDetailsList, args: dict[str, Any], single: bool
    ) -> q.ByIds:
        given = [args["id"]] if single else args["ids"]
        if len(given) > global_ids.MAX_NODES:
            raise NotPlanned("too many IDs")
        pairs: list[tuple[Any, EntityKind | None]] = []
        for global_id in given:
            try:
                type_name, raw = global_ids.decode(global_id)
            except InvalidId as exc:
                raise NotPlanned("invalid ID") from exc
            if type_name == "SourceDocument":
                raise NotPlanned("source documents are read by the resolvers")
            pairs.append((raw, KINDS_BY_TYPE.get(type_name)))
        self.values["ids"] = [raw for raw, _ in pairs]
        self.values["kinds"] = [kind.value if kind else "" for _, kind in pairs]
        return q.ByIds(single, self.entities(get_named_type(field.type), details))

    # --- objects -----------------------------------------------------------------------

    def entities(self, named: GraphQLNamedType, details: FieldDetailsList) -> q.Entities:
        """How an entity in a position of type `named` (an entity type or an interface) is
        written, per kind it may have."""
        if isinstance(named, GraphQLObjectType):
            runtime = [named]
        elif isinstance(named, GraphQLInterfaceType):
            runtime = list(self.x.schema.get_possible_types(named))
        else:
            raise NotPlanned(f"{named} is a union")
        branches = []
        for object_type in runtime:
            kind = KINDS_BY_TYPE.get(object_type.name)
            if kind is None:
                if isinstance(named, GraphQLObjectType):
                    raise NotPlanned(f"{named.name} is not an entity type")
                continue  # SourceDocument under Node: `nodes` refused those ids already
            fields = tuple(
                self.entity_field(object_type, kind, key, name, group)
                for key, name, group in self._selected(object_type, details)
            )
            branches.append((kind, fields))
        return q.Entities(tuple(branches))

    def entity_field(
        self,
        parent: GraphQLObjectType,
        kind: EntityKind,
        key: str,
        name: str,
        details: FieldDetailsList,
    ) -> Any:
        """The plan of one field of an entity of `kind` (type `parent`)."""
        if name == "__typename":
            return q.Const(key, parent.name)
        field = parent.fields[name]
        columns = _ENTITY_COLUMNS[kind]
        spec = self._spec(field, details, columns)
        what = spec[0]
        named = get_named_type(field.type)
        planned: Any
        if what == "column":
            column = columns.get(spec[1])
            if column is None:
                raise NotPlanned(f"no column for {parent.name}.{name}")
            planned = q.Column(key, column.name, column.table is not _BASE_TABLE, _form(column))
        elif what == "global_id":
            planned = q.GlobalId(key, parent.name)
        elif what == "date":
            detail = f"{spec[1]}_date" not in _BASE_TABLE.c
            planned = q.DateObject(key, spec[1], detail, self._date_parts(field, details))
        elif what == "list":
            planned = self._page(key, field, details, spec[1], spec[2])
        elif what == "first":
            source = q.ListSource("related", spec[1])
            planned = q.FirstOf(key, source, self.entities(named, details))
        elif what == "ref":
            column = columns[spec[1]]
            target = self.entities(named, details)
            planned = q.EntityRef(key, column.name, column.table is not _BASE_TABLE, target)
        else:
            raise NotPlanned(f"{parent.name}.{name}")
        return planned

    def row_fields(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, model: type[m.Base]
    ) -> tuple[Any, ...]:
        """The fields of a plain row (a source, name, quantity... or a source document)."""
        columns = _columns(model)
        out: list[Any] = []
        for key, name, group in self._selected(object_type, details):
            if name == "__typename":
                out.append(q.Const(key, object_type.name))
                continue
            field = object_type.fields[name]
            spec = self._spec(field, group, columns)
            what = spec[0]
            if what in ("column", "optional_column"):
                column = columns.get(spec[1])
                if column is None and what == "column":
                    raise NotPlanned(f"no column for {object_type.name}.{name}")
                out.append(
                    q.Const(key, None)
                    if column is None
                    else q.Column(key, column.name, False, _form(column))
                )
            elif what == "global_id":
                out.append(q.GlobalId(key, object_type.name))
            elif what == "date":
                out.append(q.DateObject(key, spec[1], False, self._date_parts(field, group)))
            elif what == "lines":
                out.append(q.Lines(key, self._parts(field, group, {"start", "end"})))
            elif what == "same_row":
                named = self._object(field)
                out.append(q.SameRow(key, self.row_fields(named, group, model)))
            elif what == "document":
                named = self._object(field)
                out.append(q.DocumentRef(key, self.row_fields(named, group, m.SourceDocument)))
            else:
                raise NotPlanned(f"{object_type.name}.{name}")
        return tuple(out)

    # --- fields ------------------------------------------------------------------------

    def _spec(
        self, field: GraphQLField, details: FieldDetailsList, columns: dict[str, Any]
    ) -> tuple[Any, ...]:
        """What a field reads: a plain attribute is a column, a resolver says by its mark."""
        definition = field.extensions.get("strawberry-definition")
        if definition is None:
            raise NotPlanned("not a strawberry field")
        if definition.is_basic_field:
            if details[0].node.arguments or not is_leaf_type(_unwrapped(field.type)):
                raise NotPlanned(definition.python_name)
            return ("column", definition.python_name)
        resolver = definition.base_resolver
        spec = spec_of(resolver.wrapped_func) if resolver is not None else None
        if spec is None or definition.extensions:
            raise NotPlanned(definition.python_name)
        if spec[0] != "list" and (field.args or details[0].node.arguments):
            raise NotPlanned(f"{definition.python_name} takes arguments")
        return spec

    def _object(self, field: GraphQLField) -> GraphQLObjectType:
        named = get_named_type(field.type)
        if not isinstance(named, GraphQLObjectType):
            raise NotPlanned(str(named))
        return named

    def _parts(
        self, field: GraphQLField, details: FieldDetailsList, known: set[str]
    ) -> tuple[tuple[str, str], ...]:
        """(key, field name) of a small value object; `=TypeName` for __typename."""
        named = self._object(field)
        parts = []
        for key, name, group in self._selected(named, details):
            if name == "__typename":
                parts.append((key, f"={named.name}"))
            elif name in known and not group[0].node.arguments:
                parts.append((key, name))
            else:
                raise NotPlanned(f"{named.name}.{name}")
        return tuple(parts)

    def _date_parts(
        self, field: GraphQLField, details: FieldDetailsList
    ) -> tuple[tuple[str, str], ...]:
        return self._parts(field, details, {"iso", "year", "value", "precision"})

    def _arguments(self, field: GraphQLField, details: FieldDetailsList) -> dict[str, Any]:
        first = details[0]
        try:
            return get_argument_values(
                field,
                first.node,
                self.x.variable_values,
                first.fragment_variable_values,
                self.x.hide_suggestions,
            )
        except Exception as exc:
            raise NotPlanned("arguments") from exc

    def _window(self, args: PageArgs, tag: str, descending: bool, bind: str) -> q.WindowForm:
        try:
            limit = self.x.context_value.limits.page_size
            checked = window(args, tag, limit, descending=descending)
        except Exception as exc:  # the resolvers report it, with its path
            raise NotPlanned("page arguments") from exc
        self.values.update(q.window_values(bind, checked))
        return q.window_form(checked)

    def _page(
        self, key: str, field: GraphQLField, details: FieldDetailsList, what: str, spec: Any
    ) -> q.Page:
        args = self._arguments(field, details)
        page_args = PageArgs(
            first=args.get("first"),
            after=args.get("after"),
            last=args.get("last"),
            before=args.get("before"),
        )
        if what == "related":
            tag = resolve.relation_tag(spec)
        elif what == "children":
            tag = resolve.children_tag(spec)
        else:
            tag = resolve.attached_tag(spec)
        bind = f"l{next(self.lists)}_"
        form = self._window(page_args, tag, False, bind)
        connection = self._object(field)
        rows = "rows" if what == "attached" else "entities"
        parts = self.connection(connection, details, rows, spec)
        return q.Page(key, q.ListSource(what, spec), bind, tag, form, parts)

    def connection(
        self, connection: GraphQLObjectType, details: FieldDetailsList, rows: str, spec: Any
    ) -> tuple[Any, ...]:
        """The parts of a connection the client asked for."""
        parts: list[Any] = []
        for key, name, group in self._selected(connection, details):
            if name == "__typename":
                parts.append(q.Const(key, connection.name))
            elif name == "nodes":
                parts.append(q.Nodes(key, self._item(connection.fields[name], group, rows, spec)))
            elif name == "edges":
                parts.append(q.Edges(key, self._edge(connection.fields[name], group, rows, spec)))
            elif name == "pageInfo":
                known = {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}
                parts.append(
                    q.PageInfoPlan(key, self._parts(connection.fields[name], group, known))
                )
            elif name == "totalCount":
                parts.append(q.TotalCount(key))
            else:
                raise NotPlanned(f"{connection.name}.{name}")
        return tuple(parts)

    def _edge(
        self, field: GraphQLField, details: FieldDetailsList, rows: str, spec: Any
    ) -> tuple[tuple[str, Any], ...]:
        edge = self._object(field)
        parts: list[tuple[str, Any]] = []
        for key, name, group in self._selected(edge, details):
            if name == "__typename":
                parts.append((key, f"={edge.name}"))
            elif name == "cursor":
                parts.append((key, "cursor"))
            else:
                parts.append((key, self._item(edge.fields[name], group, rows, spec)))
        return tuple(parts)

    def _item(self, field: GraphQLField, details: FieldDetailsList, rows: str, spec: Any) -> Any:
        named = get_named_type(field.type)
        if rows == "entities":
            return self.entities(named, details)
        assert isinstance(named, GraphQLObjectType)
        return self.row_fields(named, details, _ROWS_OF_LISTS[spec])


def _unwrapped(kind: GraphQLOutputType) -> GraphQLOutputType:
    """The type inside any non-null and list wrappers."""
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


@dataclass(frozen=True)
class Compiled:
    """An operation compiled for given variables: the root fields' plans and bind values.

    It holds no request state, so it may be kept to answer the same request text again with
    `answer` alone, without the GraphQL machinery (soilapi.graphql.answers).
    """

    root_name: str
    keys: tuple[str, ...]  # every response key, in order (`__typename` ones answer root_name)
    roots: tuple[tuple[str, Any, dict[str, Any]], ...]  # (response key, plan, bind values)

    async def answer(self, reader: Reader) -> dict[str, Any]:
        """The `data` of the operation, one statement per root field.

        If a statement fails, the request's transaction is aborted: it is restarted so that
        the resolvers, which then answer, can read (and report the error with its path).
        """
        data: dict[str, Any] = dict.fromkeys(self.keys, self.root_name)
        try:
            for key, plan, values in self.roots:
                data[key] = await q.run(reader, plan, values, alone=len(self.roots) == 1)
        except Exception:
            await reader.restart()
            raise
        return data

    def weight(self) -> int:
        """An estimate of the bytes it holds: its plans and values as text, times what
        Python's objects take per character of that text (4-6, measured on the tests' queries)."""
        return 6 * len(repr(self.roots))


PlanKey = tuple[int, str]


def _plan_bytes(key: PlanKey, found: tuple[Any, Compiled]) -> int:
    return len(key[1]) + found[1].weight()


# Plans by (operation, variables). The parse cache (soilapi.graphql.limits) hands back the same
# operation node for a repeated query text; the node is kept with its plans so an id reused
# by a later node can never match.
_PLANS: Lru[PlanKey, tuple[Any, Compiled]] = Lru(
    "plans", max_entries=256, max_bytes=32 * 1024 * 1024, weigh=_plan_bytes
)


async def compile_operation(
    execution: Any, root_type: GraphQLObjectType, root_value: Any, grouped: GroupedFieldSet
) -> Compiled:
    """The plans of an operation's root fields (remembered per operation and variables);
    NotPlanned if it cannot be compiled."""
    operation = execution.operation
    key = (id(operation), repr(sorted(execution.variable_values.coerced.items())))
    found = _PLANS.get(key)
    if found is not None and found[0] is operation:
        return found[1]
    planner = Planner(execution)
    roots: list[tuple[str, Any, dict[str, Any]]] = []
    for response_key, details in grouped.items():
        if details[0].node.name.value == "__typename":
            continue
        try:
            plan, values = await planner.root(root_type, root_value, response_key, details)
            q.statement(plan)
        except NotPlanned:
            raise
        except Exception as exc:  # a plan the SQL side cannot build (too many fields...)
            raise NotPlanned(repr(exc)) from exc
        roots.append((response_key, plan, values))
    compiled = Compiled(root_type.name, tuple(grouped), tuple(roots))
    _PLANS.put(key, (operation, compiled))
    return compiled


async def execute(
    execution: Any, root_type: GraphQLObjectType, root_value: Any, grouped: GroupedFieldSet
) -> dict[str, Any]:
    """The answer of a query, one statement per root field; NotPlanned if it cannot be.

    The context keeps what was compiled (`compiled`), for the endpoint to remember.
    """
    compiled = await compile_operation(execution, root_type, root_value, grouped)
    context = execution.context_value
    data = await compiled.answer(context.reader)
    if hasattr(context, "compiled"):
        context.compiled = compiled
    return data
