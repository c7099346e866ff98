"""What `search` and `match` answer: hits and candidates, each pointing at a record.

A hit is a row of soilapi.repositories.search.page_statement (SEARCH_COLUMNS): its plain
fields are those columns and its `node` the record `entity_id` points at, so the SQL compiler
reads it as it reads any row, and the resolvers read the same columns."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Parent

from soilapi.graphql import enums, resolve
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.sqlmark import Ref, reads
from soilapi.graphql.types.entity import Entity


@strawberry.type(
    description="A record found by `search`: how well it matched, in which of its texts, and "
    "that text with the matched words marked."
)
class SearchHit:
    score: float = strawberry.field(
        description="How well the record matched, from 0 to 1 (6 decimals): 1 for an exact "
        "name, acronym or alias (case and accents aside); below 1 otherwise, names above "
        "descriptions, statements and source quotes. Hits come best first."
    )
    field: enums.SearchField = strawberry.field(
        description="Which of the record's texts matched best."
    )
    text: str = strawberry.field(description="That text, as written.")
    snippet: str = strawberry.field(
        description="That text as HTML-escaped text with each matched word in "
        "`<mark>`...`</mark>` (PostgreSQL's ts_headline); a long text is cut to its best "
        "fragments joined by ` … `. Safe to insert as HTML. A hit found only by trigram "
        "similarity (a typo, part of a word) has no marks."
    )

    @strawberry.field(description="The record found.")
    @reads(Ref("entity_id"))
    async def node(self, root: Parent[Any], info: AnyInfo) -> Entity:
        return await resolve.entity(info, root.entity_id)  # type: ignore[no-any-return]


@strawberry.type(
    description="A record that a name given to `match` may mean, with how and how surely."
)
class MatchCandidate:
    score: float = strawberry.field(
        description="How surely the name means this record, from 0 to 1; candidates come "
        "best first, and none below 0.5 is listed."
    )
    chosen: bool = strawberry.field(
        description="True on one candidate at most: the best, when it scores 0.9 or more, "
        "did not match by acronym alone, and no other candidate scores 0.9. Safe to link "
        "automatically; anything else wants a person's look."
    )
    match_type: enums.MatchType = strawberry.field(description="How the names met.")
    reason: str = strawberry.field(
        description='Why, in words: which name matched and how ("a part of the name given '
        'is its name ...; in DE, as given").'
    )

    @strawberry.field(description="The record's name that matched, as written.")
    def matched_name(self, root: Parent[Any]) -> str:
        return root.name.text  # type: ignore[no-any-return]

    @strawberry.field(description="Which of its names that is: NAME, ACRONYM or ALIAS.")
    def matched_field(self, root: Parent[Any]) -> enums.SearchField:
        return root.name.field

    @strawberry.field(description="The candidate record.")
    async def node(self, root: Parent[Any], info: AnyInfo) -> Entity:
        return await resolve.entity(info, root.record.id)  # type: ignore[no-any-return]
