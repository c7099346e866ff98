"""The root Query and the schema object."""

import asyncio
import datetime
from typing import Annotated, Any

import strawberry

from soilapi.db import models as m
from soilapi.errors import InvalidInput
from soilapi.graphql import enums, resolve
from soilapi.graphql import ids as global_ids
from soilapi.graphql.errors import ErrorCodes
from soilapi.graphql.execution import CompilerFirst, ResolversOnly
from soilapi.graphql.limits import ExecutionTimeout, HideSuggestions, QueryLimits
from soilapi.graphql.pagination import After, Before, Connection, First, Last
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.types.entity import Entity, page
from soilapi.graphql.types.node import KINDS_BY_TYPE, Node
from soilapi.graphql.types.registry import (
    ENTITY_TYPES,
    Document,
    Event,
    Facility,
    Initiative,
    Organization,
    Output,
    PartnerAgreement,
    Person,
    Place,
    Programme,
    SdgTarget,
    StrategicObjective,
)
from soilapi.graphql.types.values import SourceDocument
from soilapi.repositories.entities import all_source_documents as _all_docs
from soilapi.services import listing
from soilapi.vocab import EntityKind as K
from soilapi.vocab import Order

MAX_NODES = global_ids.MAX_NODES


def arg(description: str) -> Any:
    """Shorthand for a described argument."""
    return strawberry.argument(description=description)


Slug = Annotated[str, arg("The record's slug (e.g. `gsp`).")]
Descending = Annotated[
    bool,
    arg(
        "Reverse the order: Z to A, newest first. Records without the date being sorted on "
        "still come last."
    ),
]
Countries = Annotated[
    list[str] | None, arg("Only these ISO 3166-1 alpha-2 codes, in upper case (e.g. DE).")
]
StartFrom = Annotated[
    datetime.date | None, arg("Only records whose start date is on or after this day.")
]
StartTo = Annotated[
    datetime.date | None, arg("Only records whose start date is on or before this day.")
]
NameContains = Annotated[
    str | None, arg("Only records whose name contains this text (case-insensitive).")
]


def _order_arg(kind: K) -> Any:
    return arg(f"Sort key (default: {listing.default_order(kind).name}).")


# Each root list's `orderBy`: its own enum, holding only the orders the list offers.
OrganizationOrderBy = Annotated[enums.OrganizationOrder | None, _order_arg(K.ORGANIZATION)]
ProgrammeOrderBy = Annotated[enums.ProgrammeOrder | None, _order_arg(K.PROGRAMME)]
InitiativeOrderBy = Annotated[enums.InitiativeOrder | None, _order_arg(K.INITIATIVE)]
FacilityOrderBy = Annotated[enums.FacilityOrder | None, _order_arg(K.FACILITY)]
StrategicObjectiveOrderBy = Annotated[
    enums.StrategicObjectiveOrder | None, _order_arg(K.STRATEGIC_OBJECTIVE)
]
PartnerAgreementOrderBy = Annotated[
    enums.PartnerAgreementOrder | None, _order_arg(K.PARTNER_AGREEMENT)
]
OutputOrderBy = Annotated[enums.OutputOrder | None, _order_arg(K.OUTPUT)]
EventOrderBy = Annotated[enums.EventOrder | None, _order_arg(K.EVENT)]
DocumentOrderBy = Annotated[enums.DocumentOrder | None, _order_arg(K.DOCUMENT)]
PersonOrderBy = Annotated[enums.PersonOrder | None, _order_arg(K.PERSON)]
PlaceOrderBy = Annotated[enums.PlaceOrder | None, _order_arg(K.PLACE)]


def _values(items: list[Any] | None) -> list[str] | None:
    return None if items is None else [item.value for item in items]


def _order(kind: K, order: Any, descending: bool) -> Order:
    chosen = Order(order.value) if order is not None else listing.default_order(kind)
    return listing.sort_key(chosen, descending)


async def _node(info: AnyInfo, global_id: str) -> Any:
    return await _load_node(info, *global_ids.decode(global_id))


async def _load_node(info: AnyInfo, type_name: str, raw_id: Any) -> Any:
    if type_name == "SourceDocument":
        return await resolve.loaders(info).source_document.load(raw_id)
    kind = KINDS_BY_TYPE.get(type_name)
    if kind is None:
        return None
    found = await resolve.entity(info, raw_id)
    return found if found is not None and found.kind == kind else None


@strawberry.type(description="Entry points into the soil-governance registry.")
class Query:
    @strawberry.field(description="Any record by its global ID; null if there is none.")
    async def node(
        self, info: AnyInfo, id: Annotated[strawberry.ID, arg("A global ID from this API.")]
    ) -> Node | None:
        return await _node(info, id)  # type: ignore[no-any-return]

    @strawberry.field(
        description=f"Several records by global ID, in the order asked (at most {MAX_NODES}); "
        "null for IDs with no record."
    )
    async def nodes(
        self, info: AnyInfo, ids: Annotated[list[strawberry.ID], arg("Global IDs.")]
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidInput(f"`ids` takes at most {MAX_NODES} IDs, got {len(ids)}", field="ids")
        # Reject every bad ID before any I/O starts, so no load outlives the failed request.
        decoded = [global_ids.decode(global_id) for global_id in ids]
        return list(await asyncio.gather(*(_load_node(info, *key) for key in decoded)))

    @strawberry.field(description="Any record by slug, whatever its type.")
    async def entity(self, info: AnyInfo, slug: Slug) -> Entity | None:
        entity_id = await resolve.loaders(info).slug.load(slug)
        return await resolve.entity(info, entity_id)  # type: ignore[no-any-return]

    @strawberry.field(description="An organisation by slug (`gsp`, `esp`, `fao`, `inser` ...).")
    async def organization(self, info: AnyInfo, slug: Slug) -> Organization | None:
        return await resolve.by_slug(info, slug, K.ORGANIZATION)  # type: ignore[no-any-return]

    @strawberry.field(description="Organisations, partnerships, networks and units.")
    async def organizations(
        self,
        info: AnyInfo,
        categories: Annotated[
            list[enums.OrgCategory] | None,
            arg("Only these categories."),
        ] = None,
        org_classes: Annotated[
            list[enums.OrgClass] | None,
            arg("Only these W3C ORG classes."),
        ] = None,
        countries: Countries = None,
        international: Annotated[
            bool | None, arg("Only international (true) or national (false) organisations.")
        ] = None,
        founded_from: StartFrom = None,
        founded_to: StartTo = None,
        name_contains: NameContains = None,
        order_by: OrganizationOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Organization]:
        f = listing.build(
            K.ORGANIZATION,
            categories=_values(categories),
            country_codes=countries,
            start_from=founded_from,
            start_to=founded_to,
            range_args=("foundedFrom", "foundedTo"),
            name_contains=name_contains,
            org_classes=_values(org_classes),
            international=international,
        )
        order = _order(K.ORGANIZATION, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="A programme, strategy, law or treaty by slug.")
    async def programme(self, info: AnyInfo, slug: Slug) -> Programme | None:
        return await resolve.by_slug(info, slug, K.PROGRAMME)  # type: ignore[no-any-return]

    @strawberry.field(description="Programmes, strategies, laws, treaties and frameworks.")
    async def programmes(
        self,
        info: AnyInfo,
        categories: Annotated[
            list[enums.ProgrammeCategory] | None,
            arg("Only these categories."),
        ] = None,
        name_contains: NameContains = None,
        order_by: ProgrammeOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Programme]:
        f = listing.build(K.PROGRAMME, categories=_values(categories), name_contains=name_contains)
        order = _order(K.PROGRAMME, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="An initiative by slug (`recsoil`, `global-soil-doctors` ...).")
    async def initiative(self, info: AnyInfo, slug: Slug) -> Initiative | None:
        return await resolve.by_slug(info, slug, K.INITIATIVE)  # type: ignore[no-any-return]

    @strawberry.field(description="Initiatives, projects, missions and UN decades.")
    async def initiatives(
        self,
        info: AnyInfo,
        categories: Annotated[
            list[enums.InitiativeCategory] | None,
            arg("Only these categories."),
        ] = None,
        name_contains: NameContains = None,
        order_by: InitiativeOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Initiative]:
        f = listing.build(K.INITIATIVE, categories=_values(categories), name_contains=name_contains)
        order = _order(K.INITIATIVE, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description='A "4 per 1000" facility by slug or by code (`CF3`).')
    async def facility(
        self,
        info: AnyInfo,
        slug: Annotated[str | None, arg("The facility's slug.")] = None,
        code: Annotated[str | None, arg("The facility's code (CF3, GF1).")] = None,
    ) -> Facility | None:
        if (slug is None) == (code is None):
            raise InvalidInput("pass exactly one of `slug` or `code`", field="slug")
        if code is not None:
            return await resolve.by_lookup(info, m.Facility.code, code)  # type: ignore[no-any-return]
        return await resolve.by_slug(info, slug or "", K.FACILITY)  # type: ignore[no-any-return]

    @strawberry.field(description='The "4 per 1000" facilities.')
    async def facilities(
        self,
        info: AnyInfo,
        kind: Annotated[
            enums.FacilityKind | None,
            arg("Only core or only global facilities."),
        ] = None,
        order_by: FacilityOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Facility]:
        f = listing.build(K.FACILITY, facility_kind=kind.value if kind else None)
        order = _order(K.FACILITY, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="A strategic objective by slug or by label (`A1`).")
    async def strategic_objective(
        self,
        info: AnyInfo,
        slug: Annotated[str | None, arg("The objective's slug.")] = None,
        label: Annotated[str | None, arg("The objective's label (A1 ... F3).")] = None,
    ) -> StrategicObjective | None:
        if (slug is None) == (label is None):
            raise InvalidInput("pass exactly one of `slug` or `label`", field="slug")
        if label is not None:
            return await resolve.by_lookup(  # type: ignore[no-any-return]
                info, m.StrategicObjective.label, label
            )
        return await resolve.by_slug(  # type: ignore[no-any-return]
            info, slug or "", K.STRATEGIC_OBJECTIVE
        )

    @strawberry.field(description='The "4 per 1000" strategic objectives (A1 ... F3).')
    async def strategic_objectives(
        self,
        info: AnyInfo,
        goal_letters: Annotated[
            list[str] | None, arg("Only these goal letters: A, B, C, D, E or F (upper case).")
        ] = None,
        order_by: StrategicObjectiveOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[StrategicObjective]:
        f = listing.build(K.STRATEGIC_OBJECTIVE, goal_letters=goal_letters)
        order = _order(K.STRATEGIC_OBJECTIVE, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="A partner agreement by slug (`4p1000-partner-05`).")
    async def partner_agreement(self, info: AnyInfo, slug: Slug) -> PartnerAgreement | None:
        return await resolve.by_slug(info, slug, K.PARTNER_AGREEMENT)  # type: ignore[no-any-return]

    @strawberry.field(
        description='Partner agreements, e.g. the "4 per 1000" Initiative\'s partners in '
        'Germany: `partnerAgreements(countries: ["DE"])`.'
    )
    async def partner_agreements(
        self,
        info: AnyInfo,
        countries: Countries = None,
        instrument_types: Annotated[
            list[enums.InstrumentType] | None,
            arg("Only agreements with an instrument of these types."),
        ] = None,
        active_on: Annotated[
            datetime.date | None,
            arg(
                "Only agreements with an instrument in force on this day (start or signature "
                "on or before it, end unknown or on or after it)."
            ),
        ] = None,
        order_by: PartnerAgreementOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PartnerAgreement]:
        f = listing.build(
            K.PARTNER_AGREEMENT,
            country_codes=countries,
            instrument_types=_values(instrument_types),
            active_on=active_on,
        )
        order = _order(K.PARTNER_AGREEMENT, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="An output (report, protocol, map ...) by slug.")
    async def output(self, info: AnyInfo, slug: Slug) -> Output | None:
        return await resolve.by_slug(info, slug, K.OUTPUT)  # type: ignore[no-any-return]

    @strawberry.field(
        description='Outputs; `publishedFrom: "2020-01-01", publishedTo: "2020-12-31"` '
        "gives those published in 2020."
    )
    async def outputs(
        self,
        info: AnyInfo,
        categories: Annotated[
            list[enums.OutputCategory] | None,
            arg("Only these categories."),
        ] = None,
        published_from: StartFrom = None,
        published_to: StartTo = None,
        name_contains: NameContains = None,
        order_by: OutputOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Output]:
        f = listing.build(
            K.OUTPUT,
            categories=_values(categories),
            start_from=published_from,
            start_to=published_to,
            range_args=("publishedFrom", "publishedTo"),
            name_contains=name_contains,
        )
        order = _order(K.OUTPUT, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="An event by slug (`inser-launch-rabat-2025` ...).")
    async def event(self, info: AnyInfo, slug: Slug) -> Event | None:
        return await resolve.by_slug(info, slug, K.EVENT)  # type: ignore[no-any-return]

    @strawberry.field(description="Events: conferences, launches, symposia, sessions.")
    async def events(
        self,
        info: AnyInfo,
        categories: Annotated[
            list[enums.EventCategory] | None,
            arg("Only these categories."),
        ] = None,
        start_from: StartFrom = None,
        start_to: StartTo = None,
        countries: Countries = None,
        order_by: EventOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Event]:
        f = listing.build(
            K.EVENT,
            categories=_values(categories),
            start_from=start_from,
            start_to=start_to,
            country_codes=countries,
        )
        order = _order(K.EVENT, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="A person by slug.")
    async def person(self, info: AnyInfo, slug: Slug) -> Person | None:
        return await resolve.by_slug(info, slug, K.PERSON)  # type: ignore[no-any-return]

    @strawberry.field(description="People named in the sources.")
    async def people(
        self,
        info: AnyInfo,
        name_contains: NameContains = None,
        order_by: PersonOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Person]:
        f = listing.build(K.PERSON, name_contains=name_contains)
        order = _order(K.PERSON, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="A document by slug or by official symbol.")
    async def document(
        self,
        info: AnyInfo,
        slug: Annotated[str | None, arg("The document's slug.")] = None,
        symbol: Annotated[str | None, arg("Official symbol (CBD/SBSTTA/24/INF/8).")] = None,
    ) -> Document | None:
        if (slug is None) == (symbol is None):
            raise InvalidInput("pass exactly one of `slug` or `symbol`", field="slug")
        if symbol is not None:
            return await resolve.by_lookup(info, m.Document.symbol, symbol)  # type: ignore[no-any-return]
        return await resolve.by_slug(info, slug or "", K.DOCUMENT)  # type: ignore[no-any-return]

    @strawberry.field(description="Official documents, decisions and memoranda.")
    async def documents(
        self,
        info: AnyInfo,
        order_by: DocumentOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Document]:
        f = listing.build(K.DOCUMENT)
        order = _order(K.DOCUMENT, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description="A place by slug (`rabat`, `france`).")
    async def place(self, info: AnyInfo, slug: Slug) -> Place | None:
        return await resolve.by_slug(info, slug, K.PLACE)  # type: ignore[no-any-return]

    @strawberry.field(description="Places: countries, territories, cities, regions.")
    async def places(
        self,
        info: AnyInfo,
        categories: Annotated[
            list[enums.PlaceCategory] | None,
            arg("Only these categories."),
        ] = None,
        order_by: PlaceOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Place]:
        f = listing.build(K.PLACE, categories=_values(categories))
        order = _order(K.PLACE, order_by, descending)
        return await resolve.top_level(info, f, order, descending, page(first, after, last, before))

    @strawberry.field(description='An SDG target by its code ("15.3").')
    async def sdg_target(
        self, info: AnyInfo, target: Annotated[str, arg('Target code, e.g. "15.3".')]
    ) -> SdgTarget | None:
        return await resolve.by_lookup(info, m.SdgTarget.target, target)  # type: ignore[no-any-return]

    @strawberry.field(description="A source document by key (`000` ... `003`).")
    async def source_document(
        self, info: AnyInfo, key: Annotated[str, arg('Document key, e.g. "002".')]
    ) -> SourceDocument | None:
        docs = await _all_docs(info.context.reader)
        return next((doc for doc in docs if doc.key == key), None)  # type: ignore[return-value]

    @strawberry.field(description="The source documents the registry was transcribed from.")
    async def source_documents(self, info: AnyInfo) -> list[SourceDocument]:
        return await _all_docs(info.context.reader)  # type: ignore[return-value]


def build_schema(*, compiler: bool = True) -> strawberry.Schema:
    """The schema; `compiler=False` answers every query through the resolvers alone."""
    return strawberry.Schema(
        query=Query,
        types=[*ENTITY_TYPES, SourceDocument],
        execution_context_class=CompilerFirst if compiler else ResolversOnly,
        extensions=[
            ErrorCodes,
            QueryLimits,  # parses and validates through bounded caches, then applies the limits
            HideSuggestions,
            ExecutionTimeout,
        ],
    )


schema = build_schema()
