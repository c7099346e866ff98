"""Proposals: the changes partners asked for outside their organisations, for curators to
review (`changeRequestApprove`, `changeRequestReject`). Who asks decides what is listed, so
these answers are never kept by the response cache."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from soilapi.graphql import enums
from soilapi.graphql.mutations.common import caller
from soilapi.graphql.pagination import (
    After,
    Connection,
    First,
    PageArgs,
    connection,
    window,
)
from soilapi.graphql.resolve import AnyInfo, page_limit
from soilapi.graphql.roots import arg
from soilapi.graphql.types.history import FieldChange
from soilapi.repositories.paging import Slice
from soilapi.services import writes
from soilapi.vocab import ChangeRequestStatus

TAG = "change_requests"


@strawberry.type(description="A partner's proposed change, for a curator to review.")
class ChangeRequest:
    id: strawberry.ID = strawberry.field(description="Give it to changeRequestApprove/Reject.")
    status: enums.ChangeRequestStatus = strawberry.field(description="Where it stands.")
    mutation: str = strawberry.field(description="The change asked for (recordUpdate ...).")
    input: JSON = strawberry.field(description="The change and its source, as proposed.")
    diff: list[FieldChange] = strawberry.field(description="What it would change.")
    base_revision: int | None = strawberry.field(
        description="The record's revision when it was proposed (null for a new record)."
    )
    stale: bool = strawberry.field(
        description="The record has changed since: approving it gets STALE."
    )
    comment: str | None = strawberry.field(description="The partner's reason.")
    proposer: str = strawberry.field(description='Who proposed it ("key:<prefix>").')
    reviewer: str | None = strawberry.field(description="The curator who decided.")
    reason: str | None = strawberry.field(description="The curator's reason.")
    created_at: datetime = strawberry.field(description="When it was proposed.")
    reviewed_at: datetime | None = strawberry.field(description="When it was decided.")


def _request(row: dict[str, Any]) -> ChangeRequest:
    return ChangeRequest(
        id=strawberry.ID(str(row["id"])),
        status=enums.ChangeRequestStatus(row["status"]),
        mutation=row["mutation"],
        input=row["input"],
        diff=[
            FieldChange(field=k, before=v[0], after=v[1]) for k, v in sorted(row["diff"].items())
        ],
        base_revision=row["base_revision"],
        stale=row["stale"],
        comment=row["comment"],
        proposer=row["proposer"],
        reviewer=row["reviewer"],
        reason=row["reason"],
        created_at=row["created_at"],
        reviewed_at=row["reviewed_at"],
    )


Status = Annotated[
    enums.ChangeRequestStatus | None, arg("Only proposals in this state (default: all).")
]


@strawberry.type
class ProposalQueries:
    @strawberry.field(
        description="Proposals, oldest first: a curator's key sees every one, a partner's key "
        "its own. Needs an API key (X-API-Key)."
    )
    async def change_requests(
        self, info: AnyInfo, status: Status = None, first: First = None, after: After = None
    ) -> Connection[ChangeRequest]:
        info.context.private = True
        asked = window(PageArgs(first=first, after=after), TAG, page_limit(info))
        cursor = None
        if asked.after is not None:
            stamp, key = asked.after
            cursor = (str(stamp), uuid.UUID(str(key)))
        engine, who = caller(info)
        chosen = None if status is None else ChangeRequestStatus(status.value)
        rows, more = await writes.change_requests(engine, who, chosen, cursor, asked.limit)
        keys = [(row["created_at"].isoformat(), row["id"]) for row in rows]
        page = Slice(rows=rows, keys=keys, has_next=more, has_previous=asked.after is not None)

        async def count() -> int:
            return await writes.change_requests_count(engine, who, chosen)

        return connection(TAG, page, [_request(row) for row in rows], count)
