"""Root fields of programmes, initiatives and their outputs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.pagination import Connection
from soilapi.graphql.query.args import DATED, NameContains, Slug, day_from, day_to
from soilapi.graphql.roots import Filter, Lookup, Read, arg, enum_values, root_field, root_list
from soilapi.graphql.types.registry import Initiative, Output, Programme
from soilapi.vocab import EntityKind as K

_NAME = Filter(NameContains, "name_contains")


@strawberry.type
class InitiativeQueries:
    @root_field(Programme | None, "A programme, strategy, law or treaty by slug.")
    @staticmethod
    def programme(slug: Slug) -> Read:
        return Lookup(K.PROGRAMME, "slug", slug)

    programmes = root_list(
        K.PROGRAMME,
        Connection[Programme],
        "Programmes, strategies, laws, treaties and frameworks.",
        categories=Filter(
            Annotated[list[enums.ProgrammeCategory] | None, arg("Only these categories.")],
            "categories",
            enum_values,
        ),
        name_contains=_NAME,
        dated=DATED,
    )

    @root_field(Initiative | None, "An initiative by slug (`recsoil`, `global-soil-doctors` ...).")
    @staticmethod
    def initiative(slug: Slug) -> Read:
        return Lookup(K.INITIATIVE, "slug", slug)

    initiatives = root_list(
        K.INITIATIVE,
        Connection[Initiative],
        "Initiatives, projects, missions and UN decades.",
        categories=Filter(
            Annotated[list[enums.InitiativeCategory] | None, arg("Only these categories.")],
            "categories",
            enum_values,
        ),
        name_contains=_NAME,
        dated=DATED,
    )

    @root_field(Output | None, "An output (report, protocol, map ...) by slug.")
    @staticmethod
    def output(slug: Slug) -> Read:
        return Lookup(K.OUTPUT, "slug", slug)

    outputs = root_list(
        K.OUTPUT,
        Connection[Output],
        'Outputs; `dated: {from: "2020", to: "2020", on: [PUBLISHED]}` gives those '
        "published in 2020.",
        categories=Filter(
            Annotated[list[enums.OutputCategory] | None, arg("Only these categories.")],
            "categories",
            enum_values,
        ),
        published_from=Filter(day_from("PUBLISHED", "publication"), "start_from"),
        published_to=Filter(day_to("PUBLISHED", "publication"), "start_to"),
        name_contains=_NAME,
        dated=DATED,
    )
