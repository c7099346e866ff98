"""Refuse abusive queries before any resolver runs, and price the ones that pass.

Anyone on the internet can send soilapi a document, so each one is measured after parsing and
refused when it is too big (tokens, at parse time), too deep, has too many aliases or
directives, or could return too many nodes. Nodes are counted the way GitHub's GraphQL API
counts them: every list's page size (`first`/`last`, default 20) multiplies with the page sizes
of the lists around it, and the request cost is the number of pages the server may have to
fetch, divided by 100. Errors state the limit and carry a code per limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    ListValueNode,
    Node,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    parse,
    value_from_ast_untyped,
    visit,
)
from graphql.validation import ASTValidationRule, MaxIntrospectionDepthRule
from graphql.validation.rules.max_introspection_depth_rule import MAX_LIST_DEPTH
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from soilapi.errors import ErrorCode
from soilapi.graphql.errors import code_of
from soilapi.graphql.inputs import TextColumnsCanHold
from soilapi.graphql.pagination import DEFAULT_PAGE_SIZE, default_size
from soilapi.lru import Lru
from soilapi.services.graph import MAX_WALK_RECORDS
from soilapi.settings import Settings

log = logging.getLogger("soilapi.limits")

# Distinct selection sets one analysis may measure; far above what 5000 tokens can spell
# without fragment tricks, so only a fragment bomb reaches it.
ANALYSIS_BUDGET = 20_000
# Counts stop growing here: ten nested lists of 100 multiply past what JSON encoders write as
# an integer (2^64), and JavaScript clients read integers exactly up to 2^53 - 1. Any count
# this large is far over every limit, so nothing is lost by saturating.
CEILING = 2**53 - 1
# Field metadata a list that is not a connection declares: the most items it returns for one
# parent (`lines`: 200). A list without it counts as a connection asked for no page size
# does: a default page.
MOST_ITEMS = "most_items"
# Field metadata of a root list's `facets`: `first` values (a default page when not given) for
# each of its `fields`, or for this many when `fields` is not given. Priced as one page request
# (its own statement on the resolvers) of that many items.
PER_FIELD = "per_field"
# Field metadata of an object read by a statement of its own (a list's totals): one page
# request of one item, plus what it holds.
OWN_READ = "own_read"
# Field metadata of a root field that walks relations (soilapi.graphql.query.graph): the name
# of its argument that says how many levels the walk goes. The walk reads the records within
# reach, not only the page it returns, so it costs `walk_nodes(levels)` nodes on top of its
# page, and one page request per level.
WALK = "walk"
# Records each record of a walk is priced to reach in one more level: a page's worth. Three
# levels would be a million; `MAX_WALK_RECORDS` bounds what a walk may reach, and its price.
WALK_FAN_OUT = 100
_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)
# The documented defaults, read without the environment: the limits of a request whose context
# does not carry an app's own (the tests' reference executor, scripts).
_DEFAULT = Settings.model_construct()


@dataclass(frozen=True)
class Limits:
    """What one operation may ask for and how long it may run: an app's settings, per request.

    create_app builds them from its settings and hands them to every request's context, where
    the extensions below, the resolvers' page windows and the compiled replays read them.
    """

    depth: int = _DEFAULT.max_query_depth
    aliases: int = _DEFAULT.max_query_aliases
    directives: int = _DEFAULT.max_query_directives
    tokens: int = _DEFAULT.max_query_tokens
    nodes: int = _DEFAULT.max_query_nodes
    page_size: int = _DEFAULT.max_page_size
    seconds: float = _DEFAULT.execution_timeout_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits `settings` configure."""
        return cls(
            depth=settings.max_query_depth,
            aliases=settings.max_query_aliases,
            directives=settings.max_query_directives,
            tokens=settings.max_query_tokens,
            nodes=settings.max_query_nodes,
            page_size=settings.max_page_size,
            seconds=settings.execution_timeout_seconds,
        )


def request_limits(context: object) -> Limits:
    """The limits a request's context carries; the defaults when it carries none."""
    found = getattr(context, "limits", None)
    return found if isinstance(found, Limits) else Limits()


# Rate-limit points, per unit of what a document asks for. Pages follow GitHub (one point per
# 100 page requests); selections and nodes make a long or wide document pay for the work it
# causes however it is spelled: a 20 KB document repeating one field costs as much to parse
# and validate as its length says, and a list of long lines as much as its items.
SELECTIONS_PER_POINT = 100
NODES_PER_POINT = 1000


@dataclass(frozen=True)
class Cost:
    """What an operation may cost: nodes it could return, pages of 100 it may fetch (GitHub's
    two figures), and the field selections its document writes."""

    max_nodes: int = 0
    requests: int = 0
    selections: int = 0

    @property
    def requested_query_cost(self) -> int:
        """Rate-limit points charged before the request runs; the README gives the formula.

        At least 1, for the page requests (rounded to 100s), plus one per
        `SELECTIONS_PER_POINT` selections written and one per `NODES_PER_POINT` nodes.
        """
        pages = max(1, (self.requests + 50) // 100)
        return pages + self.selections // SELECTIONS_PER_POINT + self.max_nodes // NODES_PER_POINT

    def as_extension(self) -> dict[str, int]:
        """The `extensions.cost` object of a response: the points, and what they count."""
        return {
            "requestedQueryCost": self.requested_query_cost,
            "maxNodes": self.max_nodes,
            "pageRequests": self.requests,
            "selections": self.selections,
        }


@dataclass(frozen=True)
class Shape:
    """Measures of a selection set, for one instance of its parent object."""

    depth: int = 0
    aliases: int = 0
    nodes: int = 0
    requests: int = 0
    # What the selection costs once per connection around it rather than once per item of
    # the connection's page (a root list's facets and totals): the connection adds it to its
    # own cost without multiplying it by its page size.
    once_nodes: int = 0
    once_requests: int = 0

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            nodes=min(CEILING, self.nodes + other.nodes),
            requests=min(CEILING, self.requests + other.requests),
            once_nodes=min(CEILING, self.once_nodes + other.once_nodes),
            once_requests=min(CEILING, self.once_requests + other.once_requests),
        )

    def settled(self) -> Shape:
        """The shape with what it costs once counted in (at a list, or at the operation)."""
        return Shape(
            depth=self.depth,
            aliases=self.aliases,
            nodes=min(CEILING, self.nodes + self.once_nodes),
            requests=min(CEILING, self.requests + self.once_requests),
        )


class TooComplex(Exception):
    """The document cannot be measured within the analysis budget or the recursion limit."""


Group = list[tuple[FieldNode, GraphQLField]]


class Analyser:
    """Measures an operation through its fragments, merging fields as execution does.

    Results are memoised per (type, selection sets), and nodes and requests scale linearly
    with the number of parent objects, so a fragment used a million times is measured once.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        page_size: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.page_size = page_size
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[tuple[str, tuple[int, ...]], Shape] = {}
        self.budget = ANALYSIS_BUDGET

    def operation(self, operation: OperationDefinitionNode) -> Shape:
        """Measure one operation."""
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return Shape()
        return self.selections((operation.selection_set,), root).settled()

    def selections(self, sets: tuple[SelectionSetNode, ...], parent: GraphQLNamedType) -> Shape:
        """Measure merged selection sets on one object of type `parent`."""
        key = (parent.name, tuple(id(s) for s in sets))
        if key in self.memo:
            return self.memo[key]
        self.budget -= 1
        if self.budget < 0:
            raise TooComplex
        groups: dict[tuple[str, str], Group] = {}
        for selection_set in sets:
            self._collect(selection_set, parent, groups, set())
        shape = Shape()
        for group in groups.values():
            shape += self._field(group, parent)
        self.memo[key] = shape
        return shape

    def _collect(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        groups: dict[tuple[str, str], Group],
        spread: set[str],
    ) -> None:
        """Group fields by response key like execution does, expanding each fragment once."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                # An unknown field (validation reports it) still counts for the size limits:
                # its alias and its depth, as a leaf with no fan-out.
                field = _field_def(parent, selection.name.value) or _UNKNOWN_FIELD
                key = (_response_key(selection), get_named_type(field.type).name)
                groups.setdefault(key, []).append((selection, field))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    self._collect(selection.selection_set, target, groups, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue
                spread.add(name)
                target = self.schema.get_type(fragment.type_condition.name.value)
                if target is not None:
                    self._collect(fragment.selection_set, target, groups, spread)

    def _field(self, group: Group, parent: GraphQLNamedType) -> Shape:
        """Measure one response key: the field itself plus its merged sub-selections."""
        field = group[0][1]
        named = get_named_type(field.type)
        children = tuple(node.selection_set for node, _ in group if node.selection_set)
        child = self.selections(children, named) if children else Shape()
        # `ofType` unwraps list and non-null types one level each: one object per level, no
        # fan-out, and the standard introspection query nests it 9 deep.
        free_level = parent.name == "__Type" and group[0][0].name.value == "ofType"
        size = self._fan_out(group, parent, named, field)
        depth = child.depth + (0 if free_level else 1)
        aliases = child.aliases + int(any(node.alias for node, _ in group))
        walk = self._walk(group, field)
        reach = walk_nodes(walk)
        if size is None:  # one object per parent: what it costs once stays for the list around
            return Shape(
                depth,
                aliases,
                min(CEILING, child.nodes + reach),
                min(CEILING, child.requests + walk),
                child.once_nodes,
                child.once_requests,
            )
        nodes = min(CEILING, size + size * child.nodes + child.once_nodes + reach)
        requests = min(CEILING, 1 + size * child.requests + child.once_requests + walk)
        if _once(field):
            return Shape(depth, aliases, once_nodes=nodes, once_requests=requests)
        return Shape(depth, aliases, nodes, requests)

    def _walk(self, group: Group, field: GraphQLField) -> int:
        """The levels a field that walks relations (`WALK`) may go, as asked (its argument,
        else its default); 0 for any other field."""
        definition = (field.extensions or {}).get("strawberry-definition")
        name = (getattr(definition, "metadata", None) or {}).get(WALK)
        if name is None or name not in field.args:
            return 0
        default = field.args[name].default_value
        levels = [self._int(_argument(node, name)) for node, _ in group]
        given = [level if level is not None else default for level in levels]
        return max([0, *(level for level in given if isinstance(level, int))])

    def _fan_out(
        self, group: Group, parent: GraphQLNamedType, named: GraphQLNamedType, field: GraphQLField
    ) -> int | None:
        """Items one parent gets from this field when it is a connection or a list.

        A connection returns its page; a root list's `facets` a page per field counted
        (`PER_FIELD`); an object read by a statement of its own one item (`OWN_READ`);
        `nodes(ids:)` as many as it is given; another list what its field declares
        (`MOST_ITEMS`), else a default page. Introspection's lists are left to the
        introspection depth rule: the standard query must pass.
        """
        if named.name.endswith("Connection"):
            return max(self._page_size(node) for node, _ in group)
        if _once(field):
            return self._once_items(group, _metadata(field))
        if not _is_list(field) or parent.name.endswith("Connection"):
            return None  # a connection's `nodes` and `edges` are its page, counted above
        if named.name.startswith("__"):
            return None
        if "ids" in field.args:
            return max(self._length(_argument(node, "ids")) for node, _ in group)
        return _most_items(field, self.page_size)

    def _page_size(self, node: FieldNode) -> int:
        """`first`/`last` as the field will see them; default when neither is given.

        Sizes over the page-size limit are counted as the limit: execution refuses them with
        the clearer PAGE_SIZE_EXCEEDED error.
        """
        sizes = [self._int(_argument(node, name)) for name in ("first", "last")]
        given = [size for size in sizes if size is not None]
        if not given:
            return default_size(self.page_size)
        return min(max(*given, 0), self.page_size)

    def _once_items(self, group: Group, declared: Mapping[str, Any]) -> int:
        """Items of a field read once per connection: for `facets(fields:, first:)`, `first`
        per field asked (every field, `PER_FIELD`, when none is); else one object."""
        if PER_FIELD not in declared:
            return 1
        every: int = declared[PER_FIELD]
        return max(
            min(CEILING, (self._length(_argument(node, "fields")) or every) * self._page_size(node))
            for node, _ in group
        )

    def _value(self, value: ValueNode | None) -> Any:
        if value is None or isinstance(value, NullValueNode):
            return None
        if isinstance(value, VariableNode):
            return self.variables.get(value.name.value)
        return value_from_ast_untyped(value)

    def _int(self, value: ValueNode | None) -> int | None:
        found = self._value(value)
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    def _length(self, value: ValueNode | None) -> int:
        if isinstance(value, ListValueNode):
            return len(value.values)
        found = self._value(value)
        if found is None:
            return 0
        return len(found) if isinstance(found, list) else 1


def walk_nodes(levels: int) -> int:
    """The nodes a walk of `levels` levels is priced at: what it may read, `WALK_FAN_OUT`
    records more per record and level, up to the records a walk may reach at all."""
    return 0 if levels <= 0 else min(MAX_WALK_RECORDS, WALK_FAN_OUT ** min(levels, 8))


# What the size limits take a field that the schema does not have for.
_UNKNOWN_FIELD = GraphQLField(GraphQLString)


def _once(field: GraphQLField) -> bool:
    """Whether a field costs once per connection around it, not per item (`PER_FIELD`,
    `OWN_READ`)."""
    declared = _metadata(field)
    return PER_FIELD in declared or OWN_READ in declared


def _metadata(field: GraphQLField) -> Mapping[str, Any]:
    """The metadata a field's declaration gives (`strawberry.field(metadata=...)`)."""
    definition = (field.extensions or {}).get("strawberry-definition")
    return getattr(definition, "metadata", None) or {}


def _most_items(field: GraphQLField, page_size: int) -> int:
    """The most items a list field declares it returns per parent, else a default page."""
    most = _metadata(field).get(MOST_ITEMS)
    return most if isinstance(most, int) else default_size(page_size)


def _response_key(node: FieldNode) -> str:
    return (node.alias or node.name).value


def _argument(node: FieldNode, name: str) -> ValueNode | None:
    return next((a.value for a in node.arguments or () if a.name.value == name), None)


def _is_list(field: GraphQLField) -> bool:
    kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return isinstance(kind, GraphQLList)


def _field_def(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    meta: dict[str, GraphQLField] = {
        "__typename": TypeNameMetaFieldDef,
        "__schema": SchemaMetaFieldDef,
        "__type": TypeMetaFieldDef,
    }
    if name in meta:
        return meta[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


class _Census(Visitor):
    """Counts the directives and the field selections a document writes (fragments once)."""

    def __init__(self) -> None:
        super().__init__()
        self.directives = 0
        self.fields = 0

    def enter_directive(self, *_: Any) -> None:
        self.directives += 1

    def enter_field(self, *_: Any) -> None:
        self.fields += 1


def census(document: DocumentNode) -> _Census:
    """The directives and field selections anywhere in the document."""
    counter = _Census()
    visit(document, counter)
    return counter


def _variables(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    """The operation's variables: the request's values over the declared defaults."""
    values = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }
    return values | dict(given)


def _operations(document: DocumentNode, name: str | None) -> list[OperationDefinitionNode]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if name is not None and op.name and op.name.value == name]
    return chosen or operations


MESSAGES = {
    ErrorCode.QUERY_TOO_DEEP: "Query is {value} fields deep; the limit is {limit}. Ask for "
    "fewer nested levels, or follow IDs with a second query.",
    ErrorCode.TOO_MANY_ALIASES: "Query uses {value} aliases (each use of a fragment counts its "
    "own); the limit is {limit}.",
    ErrorCode.TOO_MANY_DIRECTIVES: "Query uses {value} directives; the limit is {limit} per "
    "document.",
    ErrorCode.QUERY_TOO_COSTLY: "Query could return up to {value} nodes; the limit is {limit}. "
    f"Each list counts its `first`/`last` (default {DEFAULT_PAGE_SIZE}) times the page sizes of "
    "the lists around it: ask for smaller pages or fewer nested lists.",
    ErrorCode.QUERY_TOO_COMPLEX: "Introspection nests `fields`, `inputFields`, `interfaces` or "
    "`possibleTypes` {value} or more deep; the limit is {limit} (the standard introspection query "
    "stays below it).",
}


def _over(code: ErrorCode, value: int, limit: int, node: Node | None) -> list[GraphQLError]:
    """A refusal naming the limit, with the limit and the query's value in `extensions`."""
    if value <= limit:
        return []
    message = MESSAGES[code].format(value=value, limit=limit)
    extensions = {"code": code, "limit": limit, "value": value}
    return [GraphQLError(message, node, extensions=extensions)]


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    limits: Limits,
) -> tuple[Cost | None, list[GraphQLError]]:
    """The cost of the operation to run (the costliest if unnamed) and every limit it breaks."""
    written = census(document)
    errors = _over(ErrorCode.TOO_MANY_DIRECTIVES, written.directives, limits.directives, None)
    cost: Cost | None = None
    for operation in _operations(document, operation_name):
        given = _variables(operation, variables or {})
        analyser = Analyser(schema, document, given, limits.page_size)
        try:
            shape = analyser.operation(operation)
        except (TooComplex, RecursionError):
            message = "Query nests fragments too deeply or too often to be measured; simplify it."
            errors.append(
                GraphQLError(message, operation, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX})
            )
            continue
        errors += _over(ErrorCode.QUERY_TOO_DEEP, shape.depth, limits.depth, operation)
        errors += _over(ErrorCode.TOO_MANY_ALIASES, shape.aliases, limits.aliases, operation)
        errors += _over(ErrorCode.QUERY_TOO_COSTLY, shape.nodes, limits.nodes, operation)
        found = Cost(max_nodes=shape.nodes, requests=shape.requests, selections=written.fields)
        if cost is None or found.max_nodes > cost.max_nodes:
            cost = found
    return cost, errors


MIB = 1024 * 1024
# graphql-core's syntax tree takes 45-80 bytes per character of query text (measured on the
# introspection query and the tests' queries), so a document weighs the most of those.
AST_BYTES_PER_CHAR = 80
Rules = tuple[type[ASTValidationRule], ...]
Validated = tuple[GraphQLSchema, DocumentNode, list[GraphQLError]]  # and the errors found


def syntax_tree_bytes(node: Node) -> int:
    """What the syntax tree a node belongs to weighs: every cache that keeps a node (or a
    plan pointing at one) keeps its whole document alive, so each counts it in full."""
    return AST_BYTES_PER_CHAR * (len(node.loc.source.body) if node.loc else 0)


def _document_bytes(key: tuple[str, int], _document: DocumentNode) -> int:
    return AST_BYTES_PER_CHAR * len(key[0])


def _validation_bytes(_key: tuple[int, int, Rules], found: Validated) -> int:
    # The document is kept alive here too (it is counted in both caches), and each error
    # holds a message and the nodes it points at.
    return syntax_tree_bytes(found[1]) + 1024 * len(found[2])


def _cost_bytes(key: tuple[Any, ...], _found: tuple[GraphQLSchema, Cost | None]) -> int:
    return len(key[1]) + 64 * len(key[2]) + 256


# Documents by query text and token limit: a repeated query is parsed once.
_DOCUMENTS: Lru[tuple[str, int], DocumentNode] = Lru(
    "documents", max_entries=256, max_bytes=32 * MIB, weigh=_document_bytes
)
# Validation errors of a schema's document, by their ids: the parse cache hands back the same
# DocumentNode for a repeated query text, and an id costs nothing to hash where the document's
# own hash walks the whole tree (~60 us). Schema and document are kept with the errors, so an
# id reused by a later object can never match.
_VALIDATIONS: Lru[tuple[int, int, Rules], Validated] = Lru(
    "validations", max_entries=256, max_bytes=32 * MIB, weigh=_validation_bytes
)
# The cost of a request within the limits, by its text, measured variables (`_memo_key`),
# operation and limits, kept with the schema it was measured on.
_COSTS: Lru[tuple[Any, ...], tuple[GraphQLSchema, Cost | None]] = Lru(
    "costs", max_entries=1024, max_bytes=16 * MIB, weigh=_cost_bytes
)


def known_query(
    query: str, operation_name: str | None, tokens: int
) -> tuple[DocumentNode, OperationDefinitionNode] | None:
    """The query operation a request runs, from the parse cache; None when the text does not
    parse, names no single operation, or is not a query (execution then reports why)."""
    found = _operation(query, operation_name, tokens)
    if found is None or found[1].operation != OperationType.QUERY:
        return None
    return found


def _operation(
    query: str, operation_name: str | None, tokens: int
) -> tuple[DocumentNode, OperationDefinitionNode] | None:
    """The parsed document and the one operation it runs, or None."""
    try:
        document = parsed(query, tokens)
    except GraphQLError:
        return None
    operations = _operations(document, operation_name)
    return (document, operations[0]) if len(operations) == 1 else None


def parsed(query: str, tokens: int) -> DocumentNode:
    """The document of `query`, parsed once for every stage that reads it (the endpoint's
    check of its operations, the limits, execution); GraphQLError if it cannot be parsed."""
    return _DOCUMENTS.get_or_build((query, tokens), lambda: parse(query, max_tokens=tokens))


def _validate(schema: GraphQLSchema, document: DocumentNode, rules: Rules) -> list[GraphQLError]:
    """The errors of the standard rules (and `rules`) on a document, found once."""
    key = (id(schema), id(document), rules)
    found = _VALIDATIONS.get(key)
    if found is not None and found[0] is schema and found[1] is document:
        return found[2]
    errors = validate_document(schema, document, rules)
    _VALIDATIONS.put(key, (schema, document, errors))
    return errors


def _memo_key(
    schema: GraphQLSchema,
    query: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    limits: Limits,
) -> tuple[Any, ...]:
    """The key of a request's cost: the measure reads a variable only as an integer (`first:
    $n`) or as a list's length (`ids: $ids`), so other slugs, cursors or ids of the same count
    share one entry: a front-end's varied variables are measured once per document."""
    seen = tuple(sorted((name, _as_measured(value)) for name, value in (variables or {}).items()))
    return (id(schema), query, seen, operation_name, limits)


def _as_measured(value: Any) -> Any:
    """What `Analyser._int` and `Analyser._length` can read of a variable's value."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list):
        return ("list", len(value))
    return "value"  # neither an integer nor a list: a length of 1


def measured(
    schema: GraphQLSchema,
    query: str,
    document: Callable[[], DocumentNode],
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    limits: Limits,
) -> tuple[Cost | None, list[GraphQLError]]:
    """`measure`, remembered for documents within the limits (bounded LRU).

    The same query text with variables of the same measure (`_memo_key`) always has the same
    cost, and clients repeat their queries, so the walk runs once per document and page sizes
    rather than twice per request (rate limiter, then validation). Refusals are not
    remembered: they are rare and their errors are mutable objects.
    """
    key = _memo_key(schema, query, variables, operation_name, limits)
    found = _COSTS.get(key)
    if found is not None and found[0] is schema:
        return found[1], []
    cost, errors = measure(schema, document(), variables, operation_name, limits)
    if not errors:
        _COSTS.put(key, (schema, cost))
    return cost, errors


def estimate(
    schema: strawberry.Schema,
    query: str,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    limits: Limits | None = None,
) -> Cost:
    """Price a request without running it, for the rate limiter.

    A document that will be refused (syntax error, over a limit) costs the minimum, 1 point,
    since nothing of it runs.
    """
    limits = limits or Limits()

    def document() -> DocumentNode:
        return parsed(query, limits.tokens)

    try:
        cost, errors = measured(schema._schema, query, document, variables, operation_name, limits)
    except (GraphQLError, RecursionError):
        return Cost()
    return Cost() if errors or cost is None else cost


# Root fields whose answer depends on the schema alone (soilapi.graphql.answers keeps such an
# answer for the process's life); the first two are introspection, which the resolvers answer.
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
SCHEMA_ONLY_ROOTS = INTROSPECTION_ROOTS | {"__typename"}


def root_field_names(query: str, operation_name: str | None, tokens: int) -> frozenset[str]:
    """The names of the root fields the operation selects, fragments followed, read from the
    parsed document (parsed once per text: the parse cache). Empty when the text does not
    parse or names no single operation: execution then reports why.
    """
    found = _operation(query, operation_name, tokens)
    if found is None:
        return frozenset()
    document, operation = found
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()
    pending, seen = [operation.selection_set], set[str]()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return frozenset(names)


def schema_only(query: str, operation_name: str | None, tokens: int) -> bool:
    """Whether the operation is a query whose root fields are all meta-fields (`__schema`,
    `__type`, `__typename`), so that its answer may depend on the schema alone.

    Asked of every request before any cache is read, so it is decided once per text and
    operation, and remembered: walking the document again cost a request 4-9 us.
    `__typename` deeper in a query (Apollo Client adds it to every selection) does not
    count: only the root fields are read.
    """
    key = (query, operation_name, tokens)
    found = _SCHEMA_ONLY.get(key)
    if found is None:
        names = root_field_names(query, operation_name, tokens)
        found = bool(names) and names <= SCHEMA_ONLY_ROOTS and is_query(*key)
        _SCHEMA_ONLY.put(key, found)
    return found


def _text_bytes(key: tuple[str, str | None, int], _found: bool) -> int:
    return len(key[0]) + len(key[1] or "") + 64


_SCHEMA_ONLY: Lru[tuple[str, str | None, int], bool] = Lru(
    "schema_only", max_entries=1024, max_bytes=8 * MIB, weigh=_text_bytes
)


def is_query(query: str, operation_name: str | None, tokens: int) -> bool:
    """Whether the operation to run is a query (not a mutation): only a query's answer may be
    kept and served again, and only a query runs over GET."""
    found = _operation(query, operation_name, tokens)
    return found is not None and found[1].operation is OperationType.QUERY


class QueryLimits(SchemaExtension):
    """Applies the limits at parse and validation time and reports the cost.

    The token limit makes graphql-core's parser stop early; the other limits are one
    validation rule that closes over the request's variables, since `first: $n` is only
    known with them.
    """

    def __init__(self, *, limits: Limits | None = None) -> None:
        """`limits` fixes the limits; without them each request's context gives its own."""
        self.fixed = limits
        self.cost: Cost | None = None

    @property
    def limits(self) -> Limits:
        """The limits of the request being run."""
        if self.fixed is not None:
            return self.fixed
        return request_limits(self.execution_context.context)

    def on_parse(self) -> Iterator[None]:
        """Parse through a bounded cache; a refused document is left to strawberry's parser.

        Strawberry parses only when no document is set, so a failure here makes it parse
        again (with the same token limit) and report the syntax error the usual way, which
        the code below then explains.
        """
        started = time.thread_time()
        context = self.execution_context
        context.parse_options["max_tokens"] = self.limits.tokens
        if context.query is not None and context.graphql_document is None:
            with contextlib.suppress(GraphQLError, RecursionError):
                context.graphql_document = parsed(context.query, self.limits.tokens)
        yield
        for found in self.execution_context.pre_execution_errors or ():
            self._explain_parse_error(found)
        self._charge(time.thread_time() - started)

    def _charge(self, seconds: float) -> None:
        """Add CPU time to the request's account (its context's `cpu_seconds`).

        Parsing and validation run without pausing for other requests, so the time this
        thread spent in them is this request's alone.
        """
        context = self.execution_context.context
        if hasattr(context, "cpu_seconds"):
            context.cpu_seconds += seconds

    def _explain_parse_error(self, found: GraphQLError) -> None:
        """Give graphql-core's parser aborts a code and a sentence that states the limit."""
        if f"more than {self.limits.tokens} tokens" in found.message:
            found.message = (
                f"Query has more than {self.limits.tokens} tokens (names, punctuation and "
                f"values); the limit is {self.limits.tokens} per document."
            )
            found.extensions = {"code": ErrorCode.TOO_MANY_TOKENS, "limit": self.limits.tokens}
        elif "nested too deeply" in found.message:
            found.message = "Query nests too deeply to be parsed; ask for fewer nested levels."
            found.extensions = {"code": ErrorCode.QUERY_TOO_DEEP}

    def on_validate(self) -> Iterator[None]:
        """Apply the limits, then validate (cached per document), before strawberry would.

        The limits come first and do not need a valid document: a document with 2,400
        unknown directives is refused for its size, without graphql-core first writing an
        error for each. Only a document too tangled to measure is validated first, since a
        fragment cycle reads better as graphql-core's own error. Setting
        `pre_execution_errors` here makes strawberry skip its own validation. The standard
        rules depend only on the document, so their result is cached; the limits depend on
        the variables too (`first: $n`) and come from a memo keyed by both.
        """
        started = time.thread_time()
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.query is not None:
            schema = context.schema._schema
            self.cost, errors = measured(
                schema,
                context.query,
                lambda: document,
                context.variables,
                context.operation_name,
                self.limits,
            )
            if all(code_of(e) == ErrorCode.QUERY_TOO_COMPLEX for e in errors):
                rules = tuple(
                    IntrospectionDepth if rule is MaxIntrospectionDepthRule else rule
                    for rule in context.validation_rules
                )
                errors = list(_validate(schema, document, (*rules, TextColumnsCanHold))) or errors
            if errors:
                self.cost = None
            context.pre_execution_errors = errors
        self._charge(time.thread_time() - started)
        yield

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else {"cost": self.cost.as_extension()}


class IntrospectionDepth(MaxIntrospectionDepthRule):
    """graphql-core's bound on introspection fan-out, with a code and the limit stated.

    `__schema { types { fields { type { fields { ... } } } } }` grows ~30-fold per level
    with no connection to count, so graphql-core refuses such lists nested 3 deep or more.
    """

    def report_error(self, error: GraphQLError) -> None:
        limit = MAX_LIST_DEPTH - 1
        message = MESSAGES[ErrorCode.QUERY_TOO_COMPLEX].format(value=MAX_LIST_DEPTH, limit=limit)
        code = {"code": ErrorCode.QUERY_TOO_COMPLEX, "limit": limit, "value": MAX_LIST_DEPTH}
        super().report_error(GraphQLError(message, error.nodes, extensions=code))


class HideSuggestions(SchemaExtension):
    """Drop graphql-core's "Did you mean ...?" hints, so typos do not map the schema.

    Introspection stays on; this only stops error messages from suggesting names (fields,
    arguments, types, enum values), which would otherwise leak what introspection is not
    asked for, and would survive if introspection were ever turned off.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for found in (result.errors if result is not None else None) or ():
            found.message = _SUGGESTION.sub("", found.message)


class ExecutionTimeout(SchemaExtension):
    """Stop an operation that runs longer than the configured time, with code TIMEOUT.

    Cancellation reaches resolvers at their next await (every database call); CPU-bound work
    between awaits is bounded by the query limits instead.
    """

    def __init__(self, *, seconds: float | None = None) -> None:
        """`seconds` fixes the limit; without it each request's context gives its own."""
        self.fixed = seconds
        self.seconds = 0.0

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        self.seconds = self.fixed if self.fixed is not None else request_limits(context).seconds
        deadline = asyncio.timeout(self.seconds)
        try:
            async with deadline:
                yield
        except TimeoutError:
            if not deadline.expired():
                raise
            name = self.execution_context.operation_name
            log.warning("operation %s stopped after %ss", name or "(anonymous)", self.seconds)
            message = (
                f"Query ran longer than the limit of {self.seconds:g} s and was stopped; ask "
                "for less (smaller pages, fewer nested lists)."
            )
            extensions = {"code": ErrorCode.TIMEOUT, "limit": self.seconds}
            raise GraphQLError(message, extensions=extensions) from None
