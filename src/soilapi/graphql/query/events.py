"""Root fields of events, people, documents, places and SDG targets."""

from __future__ import annotations

from typing import Annotated

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.pagination import Connection
from soilapi.graphql.query.args import (
    DATED,
    Countries,
    NameContains,
    Slug,
    day_from,
    day_to,
    one_of,
)
from soilapi.graphql.roots import Filter, Lookup, Read, arg, enum_values, root_field, root_list
from soilapi.graphql.types.registry import Document, Event, Person, Place, SdgTarget
from soilapi.vocab import EntityKind as K


@strawberry.type
class EventQueries:
    @root_field(Event | None, "An event by slug (`inser-launch-rabat-2025` ...).")
    @staticmethod
    def event(slug: Slug) -> Read:
        return Lookup(K.EVENT, "slug", slug)

    events = root_list(
        K.EVENT,
        Connection[Event],
        "Events: conferences, launches, symposia, sessions.",
        categories=Filter(
            Annotated[list[enums.EventCategory] | None, arg("Only these categories.")],
            "categories",
            enum_values,
        ),
        start_from=Filter(day_from("START", "start"), "start_from"),
        start_to=Filter(day_to("START", "start"), "start_to"),
        countries=Filter(Countries, "country_codes"),
        dated=DATED,
    )

    @root_field(Person | None, "A person by slug.")
    @staticmethod
    def person(slug: Slug) -> Read:
        return Lookup(K.PERSON, "slug", slug)

    people = root_list(
        K.PERSON,
        Connection[Person],
        "People named in the sources.",
        name_contains=Filter(NameContains, "name_contains"),
    )

    @root_field(Document | None, "A document by slug or by official symbol.")
    @staticmethod
    def document(
        slug: Annotated[str | None, arg("The document's slug.")] = None,
        symbol: Annotated[str | None, arg("Official symbol (CBD/SBSTTA/24/INF/8).")] = None,
    ) -> Read:
        return Lookup(K.DOCUMENT, *one_of("slug", slug, "symbol", symbol))

    documents = root_list(
        K.DOCUMENT,
        Connection[Document],
        "Official documents, decisions and memoranda.",
        dated=DATED,
    )

    @root_field(Place | None, "A place by slug (`rabat`, `france`).")
    @staticmethod
    def place(slug: Slug) -> Read:
        return Lookup(K.PLACE, "slug", slug)

    places = root_list(
        K.PLACE,
        Connection[Place],
        "Places: countries, territories, cities, regions.",
        categories=Filter(
            Annotated[list[enums.PlaceCategory] | None, arg("Only these categories.")],
            "categories",
            enum_values,
        ),
    )

    @root_field(SdgTarget | None, 'An SDG target by its code ("15.3").')
    @staticmethod
    def sdg_target(target: Annotated[str, arg('Target code, e.g. "15.3".')]) -> Read:
        return Lookup(K.SDG_TARGET, "target", target)
