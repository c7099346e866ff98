"""The two ways a query is answered: the SQL compiler first, graphql-core's resolvers after.

A query the compiler can plan (soilapi.graphql.compiler) is answered by one statement per
root field that builds the JSON in PostgreSQL. Anything else runs through graphql-core's
executor and the resolvers, one batched statement per list level: a field the compiler does
not know, an argument it leaves to the resolvers to report, introspection, mutations, or a
compiled statement that failed. The resolvers are the reference: the test suite runs every
query with the compiler off too (setting `QUERY_COMPILER`) and compares the answers.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, get_operation_ast
from graphql.execution.collect_fields import GroupedFieldSet
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from soilapi.errors import ErrorCode
from soilapi.graphql import compiler
from soilapi.graphql.limits import INTROSPECTION_ROOTS, SCHEMA_ONLY_ROOTS

log = logging.getLogger(__name__)
# How often each engine answered since start: "compiled", "resolvers" (the compiler could not),
# "compiler_off" (the resolvers, with the compiler switched off).
runs: Counter[str] = Counter()


class CompilerFirst(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution context, trying the SQL compiler first for a whole query."""

    compile = True

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's set-up, with the errors of variables the client sent coded
        BAD_USER_INPUT, as Apollo's clients expect: coercing the variables is the only step
        of it that can fail once the operation to run is known."""
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            document = kwargs.get("document", args[1] if len(args) > 1 else None)
            name = kwargs.get("operation_name")
            if document is not None and get_operation_ast(document, name) is not None:
                return [_bad_input(error) for error in built]
        return built

    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        position_context: Any | None,
    ) -> Any:
        names = {details[0].node.name.value for details in grouped_field_set.values()}
        if serially and self.context_value is not None:
            # A mutation: its answer depends on who sent it and changes the data; never kept.
            self.context_value.private = True
        if names <= SCHEMA_ONLY_ROOTS and self.context_value is not None:
            # The answer depends on the schema alone: the caller may remember it for good.
            self.context_value.schema_only = True
        manager = self.middleware_manager
        if (
            not self.compile
            or serially
            or position_context is not None
            or (manager is not None and manager.middlewares)
            or INTROSPECTION_ROOTS.intersection(names)
        ):
            return self._resolvers(
                root_type, root_value, grouped_field_set, serially, position_context
            )
        return self._compiled_or_resolvers(root_type, root_value, grouped_field_set)

    def _resolvers(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        position_context: Any | None,
    ) -> Any:
        runs["resolvers" if self.compile else "compiler_off"] += 1
        return super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, serially, position_context
        )

    async def _compiled_or_resolvers(
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
        answer = self._resolvers(root_type, root_value, grouped_field_set, False, None)
        return await answer if self.is_awaitable(answer) else answer


def _bad_input(error: GraphQLError) -> GraphQLError:
    extensions = {**(error.extensions or {}), "code": ErrorCode.BAD_USER_INPUT}
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        extensions,
    )


class ResolversOnly(CompilerFirst):
    """The same with the compiler off (`QUERY_COMPILER=off`): debugging, and the reference
    the tests compare the compiler with."""

    compile = False
