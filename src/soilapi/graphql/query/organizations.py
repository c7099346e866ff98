"""Root fields of the network of organisations: the GSP, its partnerships, FAO, INSER..."""

from __future__ import annotations

from typing import Annotated

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.pagination import Connection
from soilapi.graphql.query.args import DATED, Countries, NameContains, Slug, day_from, day_to
from soilapi.graphql.roots import Filter, Lookup, Read, arg, enum_values, root_field, root_list
from soilapi.graphql.types.registry import Organization
from soilapi.vocab import EntityKind as K


@strawberry.type
class OrganizationQueries:
    @root_field(Organization | None, "An organisation by slug (`gsp`, `esp`, `fao`, `inser` ...).")
    @staticmethod
    def organization(slug: Slug) -> Read:
        return Lookup(K.ORGANIZATION, "slug", slug)

    organizations = root_list(
        K.ORGANIZATION,
        Connection[Organization],
        "Organisations, partnerships, networks and units.",
        categories=Filter(
            Annotated[list[enums.OrgCategory] | None, arg("Only these categories.")],
            "categories",
            enum_values,
        ),
        org_classes=Filter(
            Annotated[list[enums.OrgClass] | None, arg("Only these W3C ORG classes.")],
            "org_classes",
            enum_values,
        ),
        countries=Filter(Countries, "country_codes"),
        international=Filter(
            Annotated[
                bool | None, arg("Only international (true) or national (false) organisations.")
            ],
            "international",
        ),
        founded_from=Filter(day_from("START", "founding"), "start_from"),
        founded_to=Filter(day_to("START", "founding"), "start_to"),
        name_contains=Filter(NameContains, "name_contains"),
        dated=DATED,
    )
