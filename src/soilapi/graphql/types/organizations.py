"""Record types of the network: organisations and their tree, people, posts, places and
SDG targets."""

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.types.entity import Entity
from soilapi.graphql.types.fields import (
    fk_list,
    fk_one,
    incoming,
    outgoing,
    rel_list,
    rel_one,
    rel_rows,
    tree_list,
)
from soilapi.graphql.types.node import entity_type
from soilapi.repositories.entities import ChildList
from soilapi.vocab import EntityKind as K
from soilapi.vocab import Order
from soilapi.vocab import Predicate as P

ORG_TREE = (P.SUB_ORGANIZATION_OF, P.UNIT_OF, P.TECHNICAL_NETWORK_OF)

# --- organisations and people ------------------------------------------------------------


@entity_type(
    description="An organisation, partnership, network or unit (GSP, ESP, FAO, INSER ...)."
)
class Organization(Entity):
    org_class: enums.OrgClass | None = strawberry.field(
        description="W3C ORG class: formal organisation, unit or collaboration."
    )
    category: enums.OrgCategory | None = strawberry.field(description="What the organisation is.")
    is_international_org: bool | None = strawberry.field(
        description="True for intergovernmental or international organisations."
    )
    jurisdiction_label: str | None = strawberry.field(
        description='Country or status label as written in the source ("IO", "France Martinique").'
    )
    purpose: str | None = strawberry.field(description="Purpose as stated in the sources.")

    parent = rel_one(
        outgoing(*ORG_TREE),
        "Organization",
        "The organisation this one sits under (sub-organisation, unit or technical network).",
    )
    children = rel_list(
        incoming(*ORG_TREE),
        "Organization",
        "Organisations directly under this one: sub-organisations, units, technical networks.",
    )

    ancestors = tree_list(
        upward=True, description="All organisations above this one, nearest first."
    )
    descendants = tree_list(
        upward=False, description="All organisations below this one, level by level."
    )

    hosted_by = rel_list(outgoing(P.HOSTED_BY), "Organization", "Organisations that host this one.")
    hosts = rel_list(incoming(P.HOSTED_BY), "Organization", "Organisations this one hosts.")
    operates_within = rel_list(
        outgoing(P.OPERATES_WITHIN), "Organization", "Frameworks this organisation operates within."
    )
    agreements = rel_list(
        outgoing(P.PARTY_TO),
        "PartnerAgreement",
        "Partner agreements this organisation is a party to (with their instruments).",
    )
    partner_agreements = fk_list(
        ChildList(K.PARTNER_AGREEMENT, "owner_id", Order.ORDINAL),
        "PartnerAgreement",
        "The organisation's own list of partner agreements, in list order.",
    )
    facility_blocks = fk_list(
        ChildList(K.FACILITY_BLOCK, "owner_id", Order.NAME),
        "FacilityBlock",
        'Facility blocks the organisation runs (the "4 per 1000" Core and Global Facilities).',
    )
    posts = fk_list(
        ChildList(K.POST, "organization_id", Order.NAME), "Post", "Posts in this organisation."
    )
    authored = rel_list(incoming(P.AUTHORED_BY), "Output", "Outputs this organisation authored.")
    published = rel_list(incoming(P.PUBLISHED_BY), "Output", "Outputs this organisation published.")
    organized_events = rel_list(incoming(P.ORGANIZED_BY), "Event", "Events it organised.")
    represented_at = rel_list(
        outgoing(P.REPRESENTED_AT), "Event", "Events where the organisation was represented."
    )
    implements = rel_list(
        incoming(P.IMPLEMENTED_BY, P.LED_BY, P.IMPLEMENTED_WITHIN),
        "Initiative",
        "Initiatives it implements or leads, or that run within its framework.",
    )


@strawberry.type(description="One organisation in a hierarchy walk, with its distance.")
class TreeEntry:
    depth: int = strawberry.field(description="1 for direct children or the parent, 2 next...")
    via: enums.Predicate = strawberry.field(
        description="The relation that links this organisation to the level before it."
    )
    organization: Organization = strawberry.field(description="The organisation.")


@entity_type(description="A named person.")
class Person(Entity):
    honorific: str | None = strawberry.field(description='Honorific as written ("Mr.", "Ms.").')
    given_name: str | None = strawberry.field(description="Given name, when certain.")
    family_name: str | None = strawberry.field(description="Family name, when certain.")
    name_order_uncertain: bool = strawberry.field(
        description="True when the source does not make clear which name is the family name."
    )
    posts = rel_list(outgoing(P.HOLDS_POST), "Post", "Posts the person holds.")
    spoke_at = rel_list(
        outgoing(P.SPEAKER_AT),
        "Event",
        "Events the person spoke at; in which order and role is on `speeches`.",
    )
    speeches = rel_rows(
        outgoing(P.SPEAKER_AT),
        "Speech",
        "Event",
        "The person's turns to speak: at which event, in which order and role.",
    )


@entity_type(description="A position in an organisation (Director, Secretary ...).")
class Post(Entity):
    label: str = strawberry.field(description="Title of the post as written.")
    organization = fk_one("organization_id", "Organization", "Where the post is.", required=True)
    holders = rel_list(incoming(P.HOLDS_POST), "Person", "People who hold the post.")


@entity_type(description="A country, territory, city or region.")
class Place(Entity):
    category: enums.PlaceCategory | None = strawberry.field(description="What kind of place.")
    iso3166_1: str | None = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    iso3166_2: str | None = strawberry.field(description="ISO 3166-2 subdivision code.")
    parent = fk_one("parent_id", "Place", "The place this one lies in.")
    children = fk_list(ChildList(K.PLACE, "parent_id", Order.NAME), "Place", "Places within.")
    located_here = rel_list(incoming(P.LOCATED_IN), "Entity", "Records located in this place.")


@entity_type(description="A Sustainable Development Goal target.")
class SdgTarget(Entity):
    goal: int = strawberry.field(description="Goal number (15).")
    target: str = strawberry.field(description='Target code ("15.3").')
    contributors = rel_list(incoming(P.CONTRIBUTES_TO), "Entity", "Records that contribute to it.")
