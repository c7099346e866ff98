"""The schema object: the root Query (soilapi.graphql.query), every record type, extensions."""

from typing import Any

import strawberry
from graphql import GraphQLError
from opentelemetry.trace import TracerProvider
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.types import ExecutionContext

from soilapi.graphql.errors import ErrorCodes, log_client_errors
from soilapi.graphql.execution import CompilerFirst, ResolversOnly
from soilapi.graphql.limits import ExecutionTimeout, HideSuggestions, QueryLimits
from soilapi.graphql.mutations import Mutation
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


class OperationSpans(OpenTelemetryExtension):
    """Strawberry's spans for an operation, its parsing and its validation, without its span
    per resolved field: that one comes as a resolve hook, which sends every field through
    graphql-core's middleware (so the SQL compiler steps aside, soilapi.graphql.execution)
    and costs a span per field of every answer."""

    resolve = SchemaExtension.resolve  # type: ignore[assignment]


def _spans(provider: TracerProvider) -> type[SchemaExtension]:
    """OperationSpans sending to `provider` (strawberry builds an extension per request)."""

    class Spans(OperationSpans):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs, tracer_provider=provider)

    return Spans


def build_schema(
    *, compiler: bool = True, tracer_provider: TracerProvider | None = None
) -> strawberry.Schema:
    """The schema; `compiler=False` answers every query through the resolvers alone, and a
    `tracer_provider` receives a span per operation (soilapi.tracing)."""
    tracing = [] if tracer_provider is None else [_spans(tracer_provider)]
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[*ENTITY_TYPES, SourceDocument],
        execution_context_class=CompilerFirst if compiler else ResolversOnly,
        scalar_overrides=SCALAR_OVERRIDES,
        extensions=[
            ErrorCodes,
            QueryLimits,  # parses and validates through bounded caches, then applies the limits
            HideSuggestions,
            ExecutionTimeout,
            *tracing,
        ],
    )


schema = build_schema()
