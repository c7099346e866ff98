"""The root Query: one class of root fields per domain, joined with merge_types.

A root lookup is a `root_field` over a function of its arguments; a root list is one
`root_list(kind, type, description, **filters)` call (soilapi.graphql.roots).
"""

from __future__ import annotations

from strawberry.tools import merge_types

from soilapi.graphql.query.events import EventQueries
from soilapi.graphql.query.fourper1000 import FourPer1000Queries
from soilapi.graphql.query.graph import GraphQueries
from soilapi.graphql.query.history import HistoryQueries
from soilapi.graphql.query.initiatives import InitiativeQueries
from soilapi.graphql.query.organizations import OrganizationQueries
from soilapi.graphql.query.proposals import ProposalQueries
from soilapi.graphql.query.records import RecordQueries, SourceQueries
from soilapi.graphql.query.search import SearchQueries
from soilapi.graphql.query.time import TimeQueries

Query = merge_types(
    "Query",
    (
        RecordQueries,
        OrganizationQueries,
        InitiativeQueries,
        FourPer1000Queries,
        EventQueries,
        GraphQueries,
        SourceQueries,
        SearchQueries,
        TimeQueries,
        ProposalQueries,
        HistoryQueries,
    ),
)
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Entry points into the soil-governance registry."
)

__all__ = ["Query"]
