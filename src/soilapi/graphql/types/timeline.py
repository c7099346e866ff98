"""The entries of the timeline: one date of one record each.

An entry is a row of soilapi.repositories.dates.timeline_select, and its fields are the
factories' (a column, a date, the record a column points at), so the SQL compiler reads it as
it reads any row, and the resolvers read the same columns.
"""

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.sqlmark import column_field, date_field
from soilapi.graphql.types.fields import fk_one


@strawberry.type(description="One dated fact of the timeline: a record and one of its dates.")
class TimelineEntry:
    date_kind = column_field(
        "date_kind",
        enums.DateKind,
        "Which of the record's dates this is (START, LAUNCHED, SIGNED ...).",
    )
    date = date_field("date", "The date, with its precision.", required=True)
    record = fk_one("id", "Entity", "The record that carries the date.", required=True)
