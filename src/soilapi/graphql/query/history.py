"""The change feed: every revision, in the order they were committed, from a cursor.

Read by the resolvers (the SQL compiler does not plan it): one statement for the page, then
one for the records and one for the relations it shows, whatever its size; `totalCount`
(every change of the kinds asked, all pages) one more, only when selected.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from soilapi.errors import InvalidInput
from soilapi.graphql import enums, resolve
from soilapi.graphql.pagination import (
    FEED_CURSOR_TAG,
    After,
    Connection,
    First,
    PageArgs,
    PageInfo,
    connection,
    decode_cursor,
)
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.roots import arg
from soilapi.graphql.types.history import Revision
from soilapi.repositories.paging import Slice

Kinds = Annotated[
    list[enums.RecordKind] | None,
    arg("Only changes to these kinds of record (1 to 50; RELATION for relations). Default: all."),
]
MAX_KINDS = 50


@strawberry.type
class HistoryQueries:
    @strawberry.field(
        description="Every change to the registry, oldest first, in the order it was "
        "committed: creations and updates (`record` or `relation` is the record as it is now) "
        "and retirements (tombstones: `operation: RETIRE`, `record: null`, `target` the ID to "
        "delete). The order is the same on every replica and survives restarts, and no change "
        "ever commits before a cursor a client holds: page with `after: pageInfo.endCursor` "
        "from the start, or from any cursor saved earlier (a dump's), and you see every change "
        "exactly once. At the end of the feed the page is empty and `endCursor` is the cursor "
        "you sent: poll again with it."
    )
    async def changes(
        self,
        info: AnyInfo,
        after: After = None,
        kinds: Kinds = None,
        first: First = None,
    ) -> Connection[Revision]:
        if kinds is not None and not 1 <= len(kinds) <= MAX_KINDS:
            raise InvalidInput(
                f"`kinds` takes 1 to {MAX_KINDS} kinds, got {len(kinds)}", field="kinds"
            )
        chosen = None if kinds is None else sorted({kind.value for kind in kinds})
        page = await resolve.feed(info, chosen, PageArgs(first=first, after=after))
        return _feed_connection(info, chosen, page, after)


def _feed_connection(
    info: AnyInfo, kinds: list[str] | None, page: Slice, after: str | None
) -> Connection[Revision]:
    """The page as a connection whose `endCursor` is never null: past the last change it is
    the cursor the client sent (or the start's), so a client polls with it unchanged."""

    async def count() -> int:
        return await resolve.feed_count(info, kinds)

    made = connection(FEED_CURSOR_TAG, page, page.rows, count)
    if not page.keys:
        held = (0,) if after is None else decode_cursor(after, FEED_CURSOR_TAG)
        made.position = PageInfo(
            has_next_page=False,
            has_previous_page=page.has_previous,
            tag=FEED_CURSOR_TAG,
            first_key=None,
            last_key=held,
        )
    return made
