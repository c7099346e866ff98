"""The root Query and the schema object."""

import asyncio
import datetime
from typing import Annotated, Any

import strawberry

from soilapi.errors import InvalidInput
from soilapi.graphql import enums, resolve
from soilapi.graphql import ids as global_ids
from soilapi.graphql.errors import ErrorCodes
from soilapi.graphql.execution import CompilerFirst, ResolversOnly
from soilapi.graphql.limits import ExecutionTimeout, HideSuggestions, QueryLimits
from soilapi.graphql.pagination import After, Before, Connection, First, Last
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.roots import ListRead, Lookup, Read, root_field
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


def _one_of(name: str, value: str | None, other: str, other_value: str | None) -> tuple[str, str]:
    """(column, value) of a lookup by exactly one of two arguments."""
    if (value is None) == (other_value is None):
        raise InvalidInput(f"pass exactly one of `{name}` or `{other}`", field=name)
    return (name, value) if value is not None else (other, other_value or "")


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

    @root_field(Organization | None, "An organisation by slug (`gsp`, `esp`, `fao`, `inser` ...).")
    @staticmethod
    def organization(slug: Slug) -> Read:
        return Lookup(K.ORGANIZATION, "slug", slug)

    @root_field(Connection[Organization], "Organisations, partnerships, networks and units.")
    @staticmethod
    def organizations(
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
    ) -> Read:
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
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Programme | None, "A programme, strategy, law or treaty by slug.")
    @staticmethod
    def programme(slug: Slug) -> Read:
        return Lookup(K.PROGRAMME, "slug", slug)

    @root_field(Connection[Programme], "Programmes, strategies, laws, treaties and frameworks.")
    @staticmethod
    def programmes(
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
    ) -> Read:
        f = listing.build(K.PROGRAMME, categories=_values(categories), name_contains=name_contains)
        order = _order(K.PROGRAMME, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Initiative | None, "An initiative by slug (`recsoil`, `global-soil-doctors` ...).")
    @staticmethod
    def initiative(slug: Slug) -> Read:
        return Lookup(K.INITIATIVE, "slug", slug)

    @root_field(Connection[Initiative], "Initiatives, projects, missions and UN decades.")
    @staticmethod
    def initiatives(
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
    ) -> Read:
        f = listing.build(K.INITIATIVE, categories=_values(categories), name_contains=name_contains)
        order = _order(K.INITIATIVE, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Facility | None, 'A "4 per 1000" facility by slug or by code (`CF3`).')
    @staticmethod
    def facility(
        slug: Annotated[str | None, arg("The facility's slug.")] = None,
        code: Annotated[str | None, arg("The facility's code (CF3, GF1).")] = None,
    ) -> Read:
        return Lookup(K.FACILITY, *_one_of("slug", slug, "code", code))

    @root_field(Connection[Facility], 'The "4 per 1000" facilities.')
    @staticmethod
    def facilities(
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
    ) -> Read:
        f = listing.build(K.FACILITY, facility_kind=kind.value if kind else None)
        order = _order(K.FACILITY, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(StrategicObjective | None, "A strategic objective by slug or by label (`A1`).")
    @staticmethod
    def strategic_objective(
        slug: Annotated[str | None, arg("The objective's slug.")] = None,
        label: Annotated[str | None, arg("The objective's label (A1 ... F3).")] = None,
    ) -> Read:
        return Lookup(K.STRATEGIC_OBJECTIVE, *_one_of("slug", slug, "label", label))

    @root_field(
        Connection[StrategicObjective], 'The "4 per 1000" strategic objectives (A1 ... F3).'
    )
    @staticmethod
    def strategic_objectives(
        goal_letters: Annotated[
            list[str] | None, arg("Only these goal letters: A, B, C, D, E or F (upper case).")
        ] = None,
        order_by: StrategicObjectiveOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Read:
        f = listing.build(K.STRATEGIC_OBJECTIVE, goal_letters=goal_letters)
        order = _order(K.STRATEGIC_OBJECTIVE, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(PartnerAgreement | None, "A partner agreement by slug (`4p1000-partner-05`).")
    @staticmethod
    def partner_agreement(slug: Slug) -> Read:
        return Lookup(K.PARTNER_AGREEMENT, "slug", slug)

    @root_field(
        Connection[PartnerAgreement],
        'Partner agreements, e.g. the "4 per 1000" Initiative\'s partners in '
        'Germany: `partnerAgreements(countries: ["DE"])`.',
    )
    @staticmethod
    def partner_agreements(
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
    ) -> Read:
        f = listing.build(
            K.PARTNER_AGREEMENT,
            country_codes=countries,
            instrument_types=_values(instrument_types),
            active_on=active_on,
        )
        order = _order(K.PARTNER_AGREEMENT, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Output | None, "An output (report, protocol, map ...) by slug.")
    @staticmethod
    def output(slug: Slug) -> Read:
        return Lookup(K.OUTPUT, "slug", slug)

    @root_field(
        Connection[Output],
        'Outputs; `publishedFrom: "2020-01-01", publishedTo: "2020-12-31"` '
        "gives those published in 2020.",
    )
    @staticmethod
    def outputs(
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
    ) -> Read:
        f = listing.build(
            K.OUTPUT,
            categories=_values(categories),
            start_from=published_from,
            start_to=published_to,
            range_args=("publishedFrom", "publishedTo"),
            name_contains=name_contains,
        )
        order = _order(K.OUTPUT, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Event | None, "An event by slug (`inser-launch-rabat-2025` ...).")
    @staticmethod
    def event(slug: Slug) -> Read:
        return Lookup(K.EVENT, "slug", slug)

    @root_field(Connection[Event], "Events: conferences, launches, symposia, sessions.")
    @staticmethod
    def events(
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
    ) -> Read:
        f = listing.build(
            K.EVENT,
            categories=_values(categories),
            start_from=start_from,
            start_to=start_to,
            country_codes=countries,
        )
        order = _order(K.EVENT, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Person | None, "A person by slug.")
    @staticmethod
    def person(slug: Slug) -> Read:
        return Lookup(K.PERSON, "slug", slug)

    @root_field(Connection[Person], "People named in the sources.")
    @staticmethod
    def people(
        name_contains: NameContains = None,
        order_by: PersonOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Read:
        f = listing.build(K.PERSON, name_contains=name_contains)
        order = _order(K.PERSON, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Document | None, "A document by slug or by official symbol.")
    @staticmethod
    def document(
        slug: Annotated[str | None, arg("The document's slug.")] = None,
        symbol: Annotated[str | None, arg("Official symbol (CBD/SBSTTA/24/INF/8).")] = None,
    ) -> Read:
        return Lookup(K.DOCUMENT, *_one_of("slug", slug, "symbol", symbol))

    @root_field(Connection[Document], "Official documents, decisions and memoranda.")
    @staticmethod
    def documents(
        order_by: DocumentOrderBy = None,
        descending: Descending = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Read:
        f = listing.build(K.DOCUMENT)
        order = _order(K.DOCUMENT, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(Place | None, "A place by slug (`rabat`, `france`).")
    @staticmethod
    def place(slug: Slug) -> Read:
        return Lookup(K.PLACE, "slug", slug)

    @root_field(Connection[Place], "Places: countries, territories, cities, regions.")
    @staticmethod
    def places(
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
    ) -> Read:
        f = listing.build(K.PLACE, categories=_values(categories))
        order = _order(K.PLACE, order_by, descending)
        return ListRead(f, order, descending, page(first, after, last, before))

    @root_field(SdgTarget | None, 'An SDG target by its code ("15.3").')
    @staticmethod
    def sdg_target(target: Annotated[str, arg('Target code, e.g. "15.3".')]) -> Read:
        return Lookup(K.SDG_TARGET, "target", target)

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
