"""Compile a query into one SQL statement per root field that returns its answer as JSON.

graphql-core's executor spends Python time on every object of an answer; PostGraphile spends
none, because PostgreSQL builds the JSON. This module plans the selection the way the resolvers
would read it (soilapi.repositories.json_query turns the plan
into SQL): each field says what it reads through its type (plain attributes are columns) or
its resolver's mark (soilapi.graphql.sqlmark). A root field is declared by the function of its
arguments that says what it reads (soilapi.graphql.roots): the planner calls that function,
the resolver reads what it returns, so its argument checks are the only ones.

Anything the planner does not know (a field without a mark, arguments it cannot read, an
error of any kind) raises NotPlanned, and the query runs through the resolvers as before:
the compiler is an optimisation, never the only way to an answer. The test suite runs every
query through graphql-core's executor too and compares the answers.

A document is planned once per shape of its variables: planning records where the variables
enter (root fields' arguments, nested pages' windows), and a later request with other values
only reads those into binds (`Planner.bind`), then finds the statements of its signature
(`compile_operation`, or `rebind` without graphql-core's execution at all).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import StrawberryArgument, convert_argument
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.unset import UNSET

from soilapi.errors import InvalidId
from soilapi.graphql import ids as global_ids
from soilapi.graphql import resolve
from soilapi.graphql import sqlmark as mk
from soilapi.graphql.facets import facet_args
from soilapi.graphql.limits import syntax_tree_bytes
from soilapi.graphql.pagination import FEED_CURSOR_TAG, PageArgs, encode_cursor, window
from soilapi.graphql.roots import (
    FeedRead,
    ListRead,
    Lookup,
    Read,
    RootRead,
    SearchRead,
    TimelineRead,
)
from soilapi.graphql.types.node import KINDS_BY_TYPE
from soilapi.lru import Lru
from soilapi.repositories import Reader, dates
from soilapi.repositories import entities as repo
from soilapi.repositories import json_query as q
from soilapi.repositories import search as search_repo
from soilapi.repositories.paging import prepared_bytes
from soilapi.vocab import EntityKind, Facet

# Root fields the planner reads itself; the others are planned from their declaration
# (soilapi.graphql.roots), and one without it (`entity`, source documents) runs as before.
_DIRECT_ROOTS = frozenset({"node", "nodes"})


# How each argument of a field converts (`converted_arguments`), by the field's definition.
_AS_GIVEN, _COPIED, _CONVERTED = "as given", "copied", "converted"
_CONVERTED_UNLESS_NULL = "converted unless null"  # an optional input: null stays None
_ARGUMENT_PLANS: dict[int, tuple[Any, tuple[tuple[str, StrawberryArgument, str], ...]]] = {}


def argument_plan(
    definition: Any, strawberry_schema: Any
) -> tuple[tuple[str, StrawberryArgument, str], ...]:
    """(GraphQL name, argument, how it converts) of each argument of a field's definition.

    strawberry's `convert_arguments` finds every argument's GraphQL name, and runs an import,
    at every call: 7 % of the server's time on a page through a list, whose every request
    binds a new cursor. A scalar or an enum (or a list of them) is what graphql-core gave,
    which strawberry returns as it is (a list copied); only other types (inputs, global IDs)
    go through strawberry, unless they are null where null is allowed (a list's `dated`, whose
    null default every page of the list carries). tests/api/test_compiled.py checks each
    argument of the schema against strawberry's own conversion.
    """
    known = _ARGUMENT_PLANS.get(id(definition))
    if known is not None and known[0] is definition:
        return known[1]
    registry = strawberry_schema.schema_converter.scalar_registry

    def as_given(type_: Any) -> bool:  # a scalar or an enum, perhaps optional
        if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
            type_ = type_.of_type
        if type_ is GlobalID:  # decoded by strawberry
            return False
        return bool(
            is_scalar(type_, registry)
            or isinstance(type_, StrawberryEnumDefinition)
            or has_enum_definition(type_)
        )

    plan = []
    for argument in definition.arguments:
        type_ = argument.type
        how = _CONVERTED
        if not isinstance(type_, StrawberryMaybe):
            inner = type_.of_type if isinstance(type_, StrawberryOptional) else type_
            if isinstance(inner, StrawberryList):
                how = _COPIED if as_given(inner.of_type) else _CONVERTED
            elif as_given(inner):
                how = _AS_GIVEN
            elif isinstance(type_, StrawberryOptional):
                how = _CONVERTED_UNLESS_NULL
        name = strawberry_schema.config.name_converter.from_argument(argument)
        plan.append((name, argument, how))
    planned = tuple(plan)
    _ARGUMENT_PLANS[id(definition)] = (definition, planned)
    return planned


def converted_arguments(
    field: GraphQLField, args: dict[str, Any], strawberry_schema: Any
) -> dict[str, Any]:
    """A field's arguments as its resolver receives them: what strawberry's
    `convert_arguments` gives, by the field's `argument_plan`."""
    definition = field.extensions["strawberry-definition"]
    kwargs: dict[str, Any] = {}
    for name, argument, how in argument_plan(definition, strawberry_schema):
        if name not in args:
            continue
        value = args[name]
        if how is _AS_GIVEN:
            kwargs[argument.python_name] = value
        elif how is _COPIED:
            kwargs[argument.python_name] = value if value is None or value is UNSET else list(value)
        elif value is None and how is _CONVERTED_UNLESS_NULL:
            kwargs[argument.python_name] = None
        else:
            kwargs[argument.python_name] = convert_argument(
                value,
                argument.type,
                strawberry_schema.schema_converter.scalar_registry,
                strawberry_schema.config,
                path=(name,),
            )
    return kwargs


class NotPlanned(Exception):
    """The query holds something the compiler leaves to the resolvers."""


class Planner:
    """Plans one operation: the plan of each root field and the values of its binds."""

    def __init__(self, execution: Any) -> None:
        self.x = execution
        self.values: dict[str, Any] = {}
        self.lists = itertools.count()
        # Where the operation's variables enter its plans, in planning order (see `bind`).
        self.sites: list[_Site] = []
        self.signature: list[Any] = []  # what of each site's values shapes the SQL
        self.root_index = 0

    def _selected(
        self, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> Iterator[tuple[str, str, FieldDetailsList]]:
        """(response key, field name, field nodes) of a selection on an object type."""
        for key, group in self.x.collect_subfields(object_type, details)[0].items():
            yield key, group[0].node.name.value, group

    # --- roots -------------------------------------------------------------------------

    async def root(
        self, root_type: GraphQLObjectType, key: str, details: FieldDetailsList
    ) -> tuple[Any, dict[str, Any]]:
        """(plan, bind values) of one root field."""
        self.values = {}
        name = details[0].node.name.value
        field = root_type.fields.get(name)
        if field is None:
            raise NotPlanned(name)
        site = _RootSite(self.root_index, name, field, details)
        self.sites.append(site)
        shape, read = self._bind_root(site)
        self.signature.append(shape)
        named = get_named_type(field.type)
        if read is None:
            return q.ByIds(name == "node", self.entities(named, details)), self.values
        if isinstance(read, Lookup):
            return q.BySlug(read.kind, read.column, self.entities(named, details)), self.values
        assert isinstance(named, GraphQLObjectType)
        planned, tag, form, shape = read
        if isinstance(planned, TimelineRead):
            parts = self.connection(named, details, "rows", q.TIMELINE_ROWS)
            return q.Timeline(shape, tag, form, parts, planned.filter), self.values
        if isinstance(planned, FeedRead):
            parts = self.connection(named, details, "rows", q.REVISION_ROWS)
            return q.Feed(planned.kinds is not None, tag, form, parts), self.values
        if isinstance(planned, SearchRead):
            parts = self.connection(named, details, "rows", q.SEARCH_ROWS)
            return q.Search(shape, form, parts, planned.filter), self.values
        parts = self.connection(named, details, "entities", "", planned.filter.kind)
        f = planned.filter
        return q.TopList(f.kind, shape, planned.order, tag, form, parts, f), self.values

    # --- binds -------------------------------------------------------------------------
    # A document is planned once: a later variable set only runs these, which fill the binds
    # from the new arguments and say what of them shapes the SQL (its "signature"). Equal
    # signatures mean equal plans (see compile_operation).

    def bind(self, sites: tuple[_Site, ...], roots: int) -> tuple[Any, ...]:
        """The bind values of each root field from this execution's variables, and the
        signature of the sites (NotPlanned where planning would stop)."""
        values: list[dict[str, Any]] = [{} for _ in range(roots)]
        signature: list[Any] = []
        for site in sites:
            self.values = values[site.root]
            if isinstance(site, _RootSite):
                signature.append(self._bind_root(site)[0])
            elif isinstance(site, _FacetSite):
                signature.append(self._bind_facets(site))
            else:
                signature.append(self._bind_page(site))
        return tuple(signature), tuple(values)

    def _bind_root(self, site: _RootSite) -> tuple[Any, Any]:
        """Fill a root field's own binds; (its signature, what it reads: None for ids, a
        Lookup, or (ListRead or TimelineRead, cursor tag, window form, filter shape))."""
        args = self._arguments(site)
        if site.name in _DIRECT_ROOTS:
            self._ids(args["id"] if site.name == "node" else args["ids"], site.name == "node")
            return "ids", None
        if site.list_read is not None:  # a root list whose variables are its page arguments
            listed, tag, values, shape = site.list_read
            page = _page_args(args)
            planned = ListRead(listed.filter, listed.order, listed.descending, page, listed.make)
            return self._bind_list(planned, tag, values, shape)
        read = self._read(site.field, args)
        if not isinstance(read, ListRead):
            return self._bind_other(read)
        tag = resolve.top_level_tag(read.filter, read.order)
        values = repo.filter_values(read.filter)
        shape = repo.list_shape(read.filter, values)
        if site.pages_only:
            site.list_read = (read, tag, values, shape)
        return self._bind_list(read, tag, values, shape)

    def _bind_other(self, planned: Read) -> tuple[Any, Any]:
        """Fill the binds of a root field that reads one record, a timeline, the change feed
        or a search."""
        if isinstance(planned, Lookup):
            self.values["value"] = planned.value
            return (planned.kind, planned.column), planned
        if isinstance(planned, TimelineRead):
            tag = resolve.TIMELINE_TAG
            form = self._window(planned.page, tag, False, "")
            self.values.update(dates.timeline_values(planned.filter))
            shape = dates.timeline_shape(planned.filter)
            return (tag, form, shape), (planned, tag, form, shape)
        if isinstance(planned, FeedRead):
            return self._bind_feed(planned)
        assert isinstance(planned, SearchRead)
        return self._bind_search(planned)

    def _bind_list(
        self, planned: ListRead, tag: str, values: dict[str, Any], shape: Any
    ) -> tuple[Any, Any]:
        """Fill a root list's binds: its page's, and its filter's (`values`)."""
        form = self._window(planned.page, tag, planned.descending, "")
        self.values.update(values)
        return (tag, planned.order, form, shape), (planned, tag, form, shape)

    def _bind_feed(self, planned: FeedRead) -> tuple[Any, Any]:
        """Fill the change feed's binds: its page, its kinds, and the cursor an empty page
        ends at (the one sent, or the start's: resolve.held_key)."""
        tag = FEED_CURSOR_TAG
        form = self._window(planned.page, tag, False, "")
        sent = (self.values["after0"],) if form.after is not None else None
        self.values["held"] = encode_cursor(tag, resolve.held_key(sent))
        if planned.kinds is not None:
            self.values["kinds"] = list(planned.kinds)
        shape = planned.kinds is not None
        return (tag, form, shape), (planned, tag, form, shape)

    def _bind_search(self, planned: SearchRead) -> tuple[Any, Any]:
        """Fill a search's binds: its page, its query and filters, and its cursor tag (a
        hash of the query: a bind, so that every query of one shape shares its plan)."""
        found = planned.filter
        tag = resolve.search_tag(found)
        form = self._window(planned.page, tag, False, "")
        self.values.update(search_repo.search_values(found))
        self.values["tag"] = tag
        shape = search_repo.search_shape(found)
        return ("search", form, shape), (planned, tag, form, shape)

    def _bind_page(self, site: _PageSite) -> q.WindowForm:
        """Fill a nested list's page binds; its window form is its signature.

        A page whose arguments hold no variable (`children(first: 20)`) binds the same
        values every time, for one page-size limit: they are kept on the site."""
        limit = self.x.context_value.limits.page_size
        kept = site.constant_page
        if kept is not None and kept[0] == limit:
            _, form, binds = kept
        else:
            args = self._arguments(site)
            page = _page_args(args)
            form, binds = self._page_binds(page, site.tag, site.descending, site.bind)
            if site.arguments.varying is None:
                site.constant_page = (limit, form, binds)
        self.values.update(binds)
        return form

    def _bind_facets(self, site: _FacetSite) -> tuple[Facet, ...]:
        """Fill a list's facets' bind (values per field); the facets counted are its
        signature, since they shape the SQL."""
        kwargs = self._converted(site.field, self._arguments(site))
        try:
            limit = self.x.context_value.limits.page_size
            fields, size = facet_args(site.kind, kwargs.get("fields"), kwargs.get("first"), limit)
        except Exception as exc:  # the resolvers report it, with its path
            raise NotPlanned("facet arguments") from exc
        self.values[f"{site.bind}first"] = size
        return fields

    def _read(self, field: GraphQLField, args: dict[str, Any]) -> Read:
        """What a root field reads, from the function that declares it (soilapi.graphql.roots):
        the same function, with the same argument checks, as its resolver calls."""
        mark = _declared_mark(field)
        if not isinstance(mark, RootRead):
            raise NotPlanned(f"{field.ast_node} is not declared by what it reads")
        kwargs = self._converted(field, args)
        try:
            return mark.read(**kwargs)
        except Exception as exc:  # the resolvers report it, with its path
            raise NotPlanned("arguments the resolvers refuse") from exc

    def _converted(self, field: GraphQLField, args: dict[str, Any]) -> dict[str, Any]:
        """A field's arguments as its resolver receives them (enum members, inputs...)."""
        return converted_arguments(field, args, self.x.schema._strawberry_schema)

    def _ids(self, given: Any, single: bool) -> None:
        """The binds of `node(id:)` / `nodes(ids:)`: ids and kinds decoded from global IDs."""
        given = [given] if single else given
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

    def entity_field(  # noqa: PLR0911 - one return per kind of mark
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
        mark = self._mark(field, details)
        named = get_named_type(field.type)
        match mark:
            case mk.Column(attribute):
                column = q.entity_column(kind, key, attribute)
                if column is None:
                    raise NotPlanned(f"no column for {parent.name}.{name}")
                return column
            case mk.GlobalIdOf():
                return q.GlobalId(key, parent.name)
            case mk.DateOf(prefix):
                return q.entity_date(key, prefix, self._date_parts(field, details))
            case mk.Related() | mk.RelationRows() | mk.Children() | mk.Attached():
                return self._page(key, field, details, mark)
            case mk.LatestRevision() | mk.RevisionTime() | mk.Revisions():
                return self._history(key, field, details, mark)
            case mk.FirstRelated(spec):
                source = q.ListSource("related", spec)
                return q.FirstOf(key, source, self.entities(named, details))
            case mk.Ref(attribute):
                return q.entity_ref(kind, key, attribute, self.entities(named, details))
        raise NotPlanned(f"{parent.name}.{name}")

    def row_fields(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, rows: str
    ) -> tuple[Any, ...]:
        """The fields of a plain row (a source, name, quantity... or a source document):
        `rows` names the list they come from, or json_query.DOCUMENT_ROWS."""
        out: list[Any] = []
        for key, name, group in self._selected(object_type, details):
            if name == "__typename":
                out.append(q.Const(key, object_type.name))
                continue
            field = object_type.fields[name]
            out.append(self._row_field(object_type, key, field, group, rows))
        return tuple(out)

    def _row_field(  # noqa: PLR0911 - one return per kind of mark
        self,
        object_type: GraphQLObjectType,
        key: str,
        field: GraphQLField,
        details: FieldDetailsList,
        rows: str,
    ) -> Any:
        """The plan of one field of a plain row."""
        mark = self._mark(field, details)
        match mark:
            case mk.Column(attribute, optional):
                named = get_named_type(field.type)
                enum = isinstance(named, GraphQLEnumType)
                column = q.row_column(rows, key, attribute, enum=enum)
                if column is None and not optional:
                    raise NotPlanned(f"no column for {object_type.name}.{attribute}")
                return q.Const(key, None) if column is None else column
            case mk.GlobalIdOf():
                return q.GlobalId(key, object_type.name)
            case mk.DateOf(prefix):
                return q.DateObject(key, prefix, False, self._date_parts(field, details))
            case mk.LinesOf():
                return q.Lines(key, self._parts(field, details, {"start", "end"}))
            case mk.SameRow():
                named = self._object(field)
                return q.SameRow(key, self.row_fields(named, details, rows))
            case mk.DocumentOf():
                named = self._object(field)
                fields = self.row_fields(named, details, q.DOCUMENT_ROWS)
                return q.DocumentRef(key, fields)
            case mk.Ref(attribute):  # a relation's end
                column = q.row_column(rows, key, attribute)
                if column is None:
                    raise NotPlanned(f"no column for {object_type.name}.{attribute}")
                target = self.entities(get_named_type(field.type), details)
                return q.EntityRef(key, column.name, False, target)
            case mk.RowRef() | mk.TargetOf() | mk.DiffOf() | mk.ProvenanceOf():
                return self._revision_field(key, field, details, mark, rows)
            case mk.LatestRevision() | mk.RevisionTime() | mk.Revisions():
                return self._history(key, field, details, mark)
        raise NotPlanned(f"{object_type.name}.{field.ast_node}")

    def _revision_field(
        self, key: str, field: GraphQLField, details: FieldDetailsList, mark: Any, rows: str
    ) -> Any:
        """The plan of a field a revision's row has: its relation, target, diff, source."""
        match mark:
            case mk.RowRef(attribute, table):
                column = q.row_column(rows, key, attribute)
                if column is None:
                    raise NotPlanned(f"no column for {attribute}")
                fields = self.row_fields(self._object(field), details, table)
                return q.RowRef(key, column.name, table, fields)
            case mk.TargetOf(names):
                return q.Target(key, names)
            case mk.DiffOf():
                return q.Diff(key, self._parts(field, details, {"field", "before", "after"}))
        return q.ProvenanceJson(key, self._provenance(field, details))

    def _history(
        self,
        key: str,
        field: GraphQLField,
        details: FieldDetailsList,
        mark: mk.LatestRevision | mk.RevisionTime | mk.Revisions,
    ) -> Any:
        """The plan of a record's (or relation's) history field: the same for both."""
        match mark:
            case mk.LatestRevision():
                fields = self.row_fields(self._object(field), details, q.REVISION_ROWS)
                return q.LatestRevision(key, fields)
            case mk.RevisionTime(first):
                return q.RevisionTime(key, first)
        return self._page(key, field, details, mark)

    def _provenance(self, field: GraphQLField, details: FieldDetailsList) -> tuple[Any, ...]:
        """(key, name) of a ChangeSource's fields, `lines` with its LineRange's parts."""
        named = self._object(field)
        known = set(q.PROVENANCE_KEYS)
        parts: list[tuple[str, Any]] = []
        for key, name, group in self._selected(named, details):
            if name == "lines":
                parts.append((key, self._parts(named.fields[name], group, {"start", "end"})))
            elif name == "__typename":
                parts.append((key, f"={named.name}"))
            elif name in known:
                parts.append((key, name))
            else:
                raise NotPlanned(f"{named.name}.{name}")
        return tuple(parts)

    # --- fields ------------------------------------------------------------------------

    def _mark(self, field: GraphQLField, details: FieldDetailsList) -> mk.Mark:
        """What a field reads: a plain attribute is a column, a resolver says by its mark."""
        definition = field.extensions.get("strawberry-definition")
        if definition is None:
            raise NotPlanned("not a strawberry field")
        if definition.is_basic_field:
            if details[0].node.arguments or not is_leaf_type(_unwrapped(field.type)):
                raise NotPlanned(definition.python_name)
            return mk.Column(definition.python_name)
        resolver = definition.base_resolver
        mark = mk.mark_of(resolver.wrapped_func) if resolver is not None else None
        if not isinstance(mark, mk.Mark) or definition.extensions:
            raise NotPlanned(definition.python_name)
        listed = isinstance(mark, mk.Listed)
        if not listed and (field.args or details[0].node.arguments):
            raise NotPlanned(f"{definition.python_name} takes arguments")
        return mark

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

    def _arguments(self, site: _Site) -> dict[str, Any]:
        """A site's arguments as graphql-core coerces them: the literal ones (and defaults)
        as coerced when the document was planned, the ones holding a variable now."""
        first = site.details[0]
        if first.fragment_variable_values is not None:  # graphql-core's experimental syntax
            raise NotPlanned("fragment arguments")
        try:
            split = site.arguments
            if split.varying is None:
                return dict(split.constant)
            field, node = split.varying
            variables = self.x.variable_values
            varying = get_argument_values(field, node, variables, None, self.x.hide_suggestions)
            return {**split.constant, **varying}
        except Exception as exc:
            raise NotPlanned("arguments") from exc

    def _window(self, args: PageArgs, tag: str, descending: bool, bind: str) -> q.WindowForm:
        form, binds = self._page_binds(args, tag, descending, bind)
        self.values.update(binds)
        return form

    def _page_binds(
        self, args: PageArgs, tag: str, descending: bool, bind: str
    ) -> tuple[q.WindowForm, dict[str, Any]]:
        """A page's window form and its binds (prefixed `bind`)."""
        try:
            limit = self.x.context_value.limits.page_size
            checked = window(args, tag, limit, descending=descending)
        except Exception as exc:  # the resolvers report it, with its path
            raise NotPlanned("page arguments") from exc
        return q.window_form(checked), q.window_values(bind, checked)

    def _page(
        self, key: str, field: GraphQLField, details: FieldDetailsList, mark: mk.Listed
    ) -> q.Page:
        source: q.ListSource
        match mark:
            case mk.Related(spec):
                tag, source = resolve.relation_tag(spec), q.ListSource("related", spec)
            case mk.RelationRows(spec):
                tag, source = resolve.relation_tag(spec), q.ListSource(q.RELATION_ROWS, spec)
            case mk.Children(spec):
                tag, source = resolve.children_tag(spec), q.ListSource("children", spec)
            case mk.Attached(what):
                tag, source = resolve.attached_tag(what), q.ListSource("attached", what)
            case mk.Revisions():
                tag, source = resolve.REVISIONS_TAG, q.ListSource(q.REVISION_ROWS, None)
        descending = isinstance(mark, mk.Revisions)  # newest first
        bind = f"l{next(self.lists)}_"
        site = _PageSite(self.root_index, field, details, tag, bind, descending)
        self.sites.append(site)
        form = self._bind_page(site)
        self.signature.append(form)
        connection = self._object(field)
        rows = "entities" if source.what in ("related", "children") else "rows"
        # Which table a plain row's fields read: the relations', revisions' or attached rows'.
        table = source.spec if source.what == "attached" else source.what
        parts = self.connection(connection, details, rows, table)
        return q.Page(key, source, site.bind, tag, form, parts)

    def connection(
        self,
        connection: GraphQLObjectType,
        details: FieldDetailsList,
        rows: str,
        spec: Any,
        kind: EntityKind | None = None,
    ) -> tuple[Any, ...]:
        """The parts of a connection the client asked for; `kind` is a root list's, whose
        connection also tells of the whole list (facets, totals)."""
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
            elif kind is not None:
                parts.append(self._whole_list(connection.fields[name], key, group, kind))
            else:
                raise NotPlanned(f"{connection.name}.{name}")
        return tuple(parts)

    def _whole_list(
        self, field: GraphQLField, key: str, details: FieldDetailsList, kind: EntityKind
    ) -> q.FacetsPlan | q.TotalsPlan:
        """The plan of what a root list's connection tells of all its records, as the
        field's mark says (soilapi.graphql.facets)."""
        mark = _declared_mark(field)
        if isinstance(mark, mk.Totals):
            return q.TotalsPlan(key, self._totals(field, details))
        if not isinstance(mark, mk.Facets):
            raise NotPlanned(f"{field.ast_node} of a root list")
        site = _FacetSite(self.root_index, field, details, kind, f"l{next(self.lists)}_")
        self.sites.append(site)
        fields = self._bind_facets(site)
        self.signature.append(fields)
        parts = self._parts(field, details, {"field", "value", "count"})
        return q.FacetsPlan(key, site.bind, fields, parts)

    def _totals(self, field: GraphQLField, details: FieldDetailsList) -> tuple[Any, ...]:
        """(key, fte | instruments | =TypeName | the parts of each type's count) of a list's
        totals (AgreementAggregates)."""
        named = self._object(field)
        parts: list[tuple[str, Any]] = []
        for key, name, group in self._selected(named, details):
            if name == "__typename":
                parts.append((key, f"={named.name}"))
            elif name in ("fte", "instruments"):
                parts.append((key, name))
            elif name == "byInstrumentType":
                by_type = named.fields[name]
                parts.append((key, self._parts(by_type, group, {"instrumentType", "count"})))
            else:
                raise NotPlanned(f"{named.name}.{name}")
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
        return self.row_fields(named, details, spec)


def _declared_mark(field: GraphQLField) -> Any:
    """The mark of a field's resolver (what it reads), if it has one."""
    definition = field.extensions.get("strawberry-definition")
    resolver = definition.base_resolver if definition is not None else None
    return mk.mark_of(resolver.wrapped_func) if resolver is not None else None


def _unwrapped(kind: GraphQLOutputType) -> GraphQLOutputType:
    """The type inside any non-null and list wrappers."""
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


@dataclass(frozen=True)
class _Arguments:
    """A field's arguments split by whether their value holds a variable. A rebind coerces
    only the ones that do (a cursor, a slug), as a field of just those arguments; the rest
    (a page size, a filter written in the document, every default) were coerced once.
    graphql-core's own `get_argument_values` does both parts, so the values are its own."""

    constant: dict[str, Any]
    # The field with only the arguments holding a variable, and its node with only those.
    varying: tuple[GraphQLField, FieldNode] | None


def _split_arguments(field: GraphQLField, node: FieldNode) -> _Arguments:
    given = {argument.name.value: argument for argument in node.arguments or ()}
    varying = {name for name, argument in given.items() if _holds_variable(argument.value)}

    def part(holding: bool) -> tuple[GraphQLField, FieldNode]:
        args = {name: arg for name, arg in field.args.items() if (name in varying) == holding}
        kept = tuple(a for n, a in given.items() if (n in varying) == holding)
        return GraphQLField(field.type, args), FieldNode(name=node.name, arguments=kept)

    constant = get_argument_values(*part(False))
    return _Arguments(constant, part(True) if varying else None)


def _holds_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_holds_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_holds_variable(item.value) for item in value.fields)
    return False


# The Relay arguments, named alike in GraphQL and in PageArgs, in its fields' order.
_PAGE_ARGUMENTS = tuple(f.name for f in dataclasses.fields(PageArgs))


def _page_args(args: dict[str, Any]) -> PageArgs:
    """The Relay arguments among a field's coerced arguments."""
    return PageArgs(*(args.get(name) for name in _PAGE_ARGUMENTS))


class _SiteArguments:
    """What every site has: its field's arguments, split once (`_split_arguments`)."""

    field: GraphQLField
    details: FieldDetailsList

    @cached_property
    def arguments(self) -> _Arguments:
        return _split_arguments(self.field, self.details[0].node)


@dataclass
class _RootSite(_SiteArguments):
    """A root field: its arguments fill its binds (`Planner._bind_root`)."""

    root: int  # which root field's statement the binds go to
    name: str
    field: GraphQLField
    details: FieldDetailsList
    # A root list whose variables are page arguments only reads the same records in the
    # same order for every variable set: its read, cursor tag, filter binds and filter shape
    # are kept at its first bind, and a later one reads only its page (a cursor, a size).
    # (`dataclasses.field`: `field` is a field's name here.)
    list_read: tuple[ListRead, str, dict[str, Any], Any] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    @cached_property
    def pages_only(self) -> bool:
        """Whether no argument but the Relay page arguments holds a variable."""
        varying = self.arguments.varying
        return varying is None or set(varying[0].args) <= set(_PAGE_ARGUMENTS)


@dataclass
class _PageSite(_SiteArguments):
    """A nested list: its page arguments fill the binds prefixed `bind`."""

    root: int
    field: GraphQLField
    details: FieldDetailsList
    tag: str
    bind: str
    descending: bool = False
    # Written without variables, its (page-size limit, window form, binds) (`_bind_page`).
    constant_page: tuple[int, q.WindowForm, dict[str, Any]] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )


@dataclass(frozen=True)
class Statements:
    """The statements of an operation, for any variables of one signature: per root field,
    its response key, plan and prepared statement. Built once per document and signature."""

    root_name: str
    keys: tuple[str, ...]  # every response key, in order (`__typename` ones answer root_name)
    roots: tuple[tuple[str, Any, q.Statement], ...]
    # An estimate of the bytes it holds: its plans as text, times what Python's objects take
    # per character of that text (4-6, measured on the tests' queries), and the syntax tree
    # of its document, which its plans keep alive; with several roots, their statement
    # together too (about the size of theirs).
    weight: int = field(compare=False)

    @cached_property
    def together(self) -> q.Statement | None:
        """One statement answering every root field (json_query.together), built at its
        first use; None when they cannot share one."""
        return q.together([plan for _, plan, _ in self.roots])


@dataclass(frozen=True)
class Compiled:
    """An operation compiled for given variables: its statements and their bind values.

    It holds no request state, so it may be kept to answer the same request again with
    `answer` alone, without the GraphQL machinery (soilapi.graphql.answers).
    """

    statements: Statements
    values: tuple[dict[str, Any], ...]  # per root field

    async def answer(self, reader: Reader) -> dict[str, Any]:
        """The `data` of the operation, one statement per root field, run concurrently.

        If a statement fails, the request's transaction is aborted: it is restarted so that
        the resolvers, which then answer, can read (and report the error with its path).
        """
        statements = self.statements
        data: dict[str, Any] = dict.fromkeys(statements.keys, statements.root_name)
        reads = [
            (prepared, values)
            for (_, _, prepared), values in zip(statements.roots, self.values, strict=True)
        ]
        try:
            answers = await q.run_each(reader, reads, lambda: statements.together) if reads else []
            for (key, _, _), answer in zip(statements.roots, answers, strict=True):
                data[key] = answer
        except Exception:
            await reader.restart()
            raise
        return data


@dataclass(frozen=True)
class _FacetSite(_SiteArguments):
    """A root list's facets: their arguments fill the bind `<bind>first` and choose the
    facets counted."""

    root: int
    field: GraphQLField
    details: FieldDetailsList
    kind: EntityKind
    bind: str


_Site = _RootSite | _PageSite | _FacetSite
_TemplateKey = tuple[int, int, tuple[Any, ...]]  # (schema, operation, its Boolean variables)
_PlanKey = tuple[int, int, tuple[Any, ...], tuple[Any, ...]]  # ... and a signature
_Owner = tuple[GraphQLSchema, OperationDefinitionNode]


def _template_bytes(key: _TemplateKey, found: tuple[_Owner, tuple[_Site, ...], int]) -> int:
    return syntax_tree_bytes(found[0][1]) + 256 * (1 + len(found[1]))


def _plan_bytes(key: _PlanKey, found: tuple[_Owner, Statements]) -> int:
    return found[1].weight  # the syntax tree it keeps alive included


# Where each operation's variables enter its plans, by operation and Boolean variables (which
# @include and @skip may read, changing the selection itself), and the statements of each
# signature those sites give, per schema (an app's own: a field's declaration is its
# schema's). The parse cache (soilapi.graphql.limits) hands back the same operation node for a
# repeated query text; schema and node are kept with each entry so that ids reused by later
# objects can never match.
_TEMPLATES: Lru[_TemplateKey, tuple[_Owner, tuple[_Site, ...], int]] = Lru(
    "plan_templates", max_entries=512, max_bytes=32 * 1024 * 1024, weigh=_template_bytes
)
_PLANS: Lru[_PlanKey, tuple[_Owner, Statements]] = Lru(
    "plans", max_entries=256, max_bytes=32 * 1024 * 1024, weigh=_plan_bytes
)


def _switches(execution: Any) -> tuple[Any, ...]:
    """The operation's Boolean variables: @include(if: $x) may change what is selected."""
    coerced = execution.variable_values.coerced
    return tuple(sorted((k, v) for k, v in coerced.items() if isinstance(v, bool)))


@dataclass(frozen=True)
class _Rebinding:
    """What `Planner.bind` reads of an execution, for a request that needs no other part of
    graphql-core's: the schema, the coerced variables, the request's context."""

    schema: GraphQLSchema
    variable_values: Any
    context_value: Any
    hide_suggestions: bool = True


def rebind(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Any, context: Any
) -> Compiled | None:
    """The statements of an operation planned before, with the binds of new variables
    (coerced by graphql-core: `get_variable_values`); None when this operation and variable
    shape were never planned, or the arguments are ones the resolvers must report.

    This is the cost of a known document with new variables: reading its arguments and two
    cache lookups, without graphql-core's execution (soilapi.graphql.answers).
    """
    try:
        return _planned_before(_Rebinding(schema, variables, context), schema, operation)
    except NotPlanned:
        return None


def _planned_before(
    execution: Any, schema: GraphQLSchema, operation: OperationDefinitionNode
) -> Compiled | None:
    """The operation's statements for this execution's variables, if a signature of theirs
    was planned before: the template's sites read into binds, then the statements looked up.
    NotPlanned where planning would stop too (arguments the resolvers must report)."""
    template_key = (id(schema), id(operation), _switches(execution))
    template = _TEMPLATES.get(template_key)
    if template is None or not _owns(template[0], schema, operation):
        return None
    _, sites, root_count = template
    signature, values = Planner(execution).bind(sites, root_count)
    found = _PLANS.get((*template_key, signature))
    if found is None or not _owns(found[0], schema, operation):
        return None
    return Compiled(found[1], values)


def _owns(owner: _Owner, schema: GraphQLSchema, operation: OperationDefinitionNode) -> bool:
    return owner[0] is schema and owner[1] is operation


async def compile_operation(
    execution: Any, root_type: GraphQLObjectType, grouped: GroupedFieldSet
) -> Compiled:
    """The statements of an operation's root fields and their binds; NotPlanned if it cannot
    be compiled.

    A document is planned once per signature: a new variable set (another slug, cursor or
    list of ids) costs reading its arguments into binds and two cache lookups.
    """
    operation, schema = execution.operation, execution.schema
    known = _planned_before(execution, schema, operation)
    if known is not None:
        return known
    planner = Planner(execution)
    planned: list[tuple[str, Any, q.Statement]] = []
    root_values: list[dict[str, Any]] = []
    for response_key, details in grouped.items():
        if details[0].node.name.value == "__typename":
            continue
        try:
            plan, values = await planner.root(root_type, response_key, details)
            prepared = q.statement(plan)
        except NotPlanned:
            raise
        except Exception as exc:  # a plan the SQL side cannot build (too many fields...)
            raise NotPlanned(repr(exc)) from exc
        planned.append((response_key, plan, prepared))
        root_values.append(values)
        planner.root_index += 1
    roots = tuple(planned)
    # Its plans point into the document's syntax tree, which they keep alive: counted whole.
    weight = 6 * len(repr(roots)) + syntax_tree_bytes(operation)
    if len(roots) > 1:
        weight += sum(prepared_bytes(prepared) for _, _, prepared in roots)
    statements = Statements(root_type.name, tuple(grouped), roots, weight)
    template_key = (id(schema), id(operation), _switches(execution))
    _TEMPLATES.put(template_key, ((schema, operation), tuple(planner.sites), len(roots)))
    _PLANS.put((*template_key, tuple(planner.signature)), ((schema, operation), statements))
    return Compiled(statements, tuple(root_values))


async def execute(
    execution: Any, root_type: GraphQLObjectType, root_value: Any, grouped: GroupedFieldSet
) -> dict[str, Any]:
    """The answer of a query, one statement per root field; NotPlanned if it cannot be.

    The context keeps what was compiled (`compiled`), for the endpoint to remember.
    """
    compiled = await compile_operation(execution, root_type, grouped)
    context = execution.context_value
    data = await compiled.answer(context.reader)
    if hasattr(context, "compiled"):
        context.compiled = compiled
    return data
