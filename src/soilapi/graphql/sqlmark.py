"""Marks on resolver functions that tell the SQL compiler what a field reads.

A resolver stays the reference implementation; its mark says how the same value is read in
SQL (soilapi.graphql.compiler). A field without a mark is never compiled: the query it is in
runs through the resolvers instead.
"""

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__soilapi_sql__"


def compiles_to(*spec: Any) -> Callable[[F], F]:
    """Mark a resolver: `("column", attribute)`, `("date", prefix)`, `("global_id",)`..."""

    def mark(func: F) -> F:
        setattr(func, _ATTRIBUTE, spec)
        return func

    return mark


def spec_of(func: Any) -> tuple[Any, ...] | None:
    """The mark of a resolver function, if it has one."""
    found: tuple[Any, ...] | None = getattr(func, _ATTRIBUTE, None)
    return found
