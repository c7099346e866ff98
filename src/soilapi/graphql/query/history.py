"""The change feed: every revision, in the order they were committed, from a cursor.

Declared by what it reads (soilapi.graphql.roots): the SQL compiler answers it in one
statement (the page, its records and relations built as JSON); the resolvers in one statement
for the page, then one for the records and one for the relations it shows, whatever its size.
`totalCount` (every change of the kinds asked, all pages) is one more, only when selected.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from soilapi.errors import InvalidInput
from soilapi.graphql import enums
from soilapi.graphql.pagination import After, Connection, First, PageArgs
from soilapi.graphql.roots import FeedRead, Read, arg, root_field
from soilapi.graphql.types.history import Revision

Kinds = Annotated[
    list[enums.RecordKind] | None,
    arg("Only changes to these kinds of record (1 to 50; RELATION for relations). Default: all."),
]
MAX_KINDS = 50


@strawberry.type
class HistoryQueries:
    @root_field(
        Connection[Revision],
        "Every change to the registry, oldest first, in the order it was "
        "committed: creations and updates (`record` or `relation` is the record as it is now) "
        "and retirements (tombstones: `operation: RETIRE`, `record: null`, `target` the ID to "
        "delete). The order is the same on every replica and survives restarts, and no change "
        "ever commits before a cursor a client holds: page with `after: pageInfo.endCursor` "
        "from the start, or from any cursor saved earlier (a dump's), and you see every change "
        "exactly once. At the end of the feed the page is empty and `endCursor` is the cursor "
        "you sent: poll again with it.",
    )
    @staticmethod
    def changes(after: After = None, kinds: Kinds = None, first: First = None) -> Read:
        if kinds is not None and not 1 <= len(kinds) <= MAX_KINDS:
            raise InvalidInput(
                f"`kinds` takes 1 to {MAX_KINDS} kinds, got {len(kinds)}", field="kinds"
            )
        chosen = None if kinds is None else tuple(sorted({kind.value for kind in kinds}))
        return FeedRead(chosen, PageArgs(first=first, after=after))
