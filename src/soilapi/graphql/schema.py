"""The schema object: the root Query (soilapi.graphql.query), every record type, extensions."""

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from soilapi.graphql.errors import ErrorCodes, log_client_errors
from soilapi.graphql.execution import CompilerFirst, ResolversOnly
from soilapi.graphql.limits import ExecutionTimeout, HideSuggestions, QueryLimits
from soilapi.graphql.query import Query
from soilapi.graphql.scalars import SCALAR_OVERRIDES
from soilapi.graphql.types import registry  # noqa: F401 - declares every record type
from soilapi.graphql.types.node import ENTITY_TYPES
from soilapi.graphql.types.values import SourceDocument


class Schema(strawberry.Schema):
    """Strawberry's schema, logging a client's mistakes as such (soilapi.graphql.errors).

    Strawberry's own `process_errors` logs every error at ERROR with its traceback, a
    misspelt field as loudly as a bug.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """One INFO line for the client's errors; server faults are logged where masked."""
        log_client_errors(errors)


def build_schema(*, compiler: bool = True) -> strawberry.Schema:
    """The schema; `compiler=False` answers every query through the resolvers alone."""
    return Schema(
        query=Query,
        types=[*ENTITY_TYPES, SourceDocument],
        execution_context_class=CompilerFirst if compiler else ResolversOnly,
        scalar_overrides=SCALAR_OVERRIDES,
        extensions=[
            ErrorCodes,
            QueryLimits,  # parses and validates through bounded caches, then applies the limits
            HideSuggestions,
            ExecutionTimeout,
        ],
    )


schema = build_schema()
