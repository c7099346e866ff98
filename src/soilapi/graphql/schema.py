"""The schema object: the root Query (soilapi.graphql.query), every record type, extensions."""

import strawberry

from soilapi.graphql.errors import ErrorCodes
from soilapi.graphql.execution import CompilerFirst, ResolversOnly
from soilapi.graphql.limits import ExecutionTimeout, HideSuggestions, QueryLimits
from soilapi.graphql.query import Query
from soilapi.graphql.types import registry  # noqa: F401 - declares every record type
from soilapi.graphql.types.node import ENTITY_TYPES
from soilapi.graphql.types.values import SourceDocument


def build_schema(*, compiler: bool = True) -> strawberry.Schema:
    """The schema; `compiler=False` answers every query through the resolvers alone."""
    return strawberry.Schema(
        query=Query,
        types=[*ENTITY_TYPES, SourceDocument],
        execution_context_class=CompilerFirst if compiler else ResolversOnly,
        extensions=[
            ErrorCodes,
            QueryLimits,  # parses and validates through bounded caches, then applies the limits
            HideSuggestions,
            ExecutionTimeout,
        ],
    )


schema = build_schema()
