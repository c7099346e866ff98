"""The Relay `Node` interface and the mapping from record kinds to GraphQL type names."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Parent

from soilapi.db import models as m
from soilapi.graphql import ids
from soilapi.graphql.sqlmark import GlobalIdOf, reads
from soilapi.repositories.records import model_of
from soilapi.vocab import EntityKind

TYPE_NAMES: dict[EntityKind, str] = {
    EntityKind.ORGANIZATION: "Organization",
    EntityKind.PROGRAMME: "Programme",
    EntityKind.INITIATIVE: "Initiative",
    EntityKind.FACILITY_BLOCK: "FacilityBlock",
    EntityKind.FACILITY: "Facility",
    EntityKind.STRATEGIC_OBJECTIVE: "StrategicObjective",
    EntityKind.TASK_FORCE: "TaskForce",
    EntityKind.ALLIANCE: "Alliance",
    EntityKind.PARTNER_AGREEMENT: "PartnerAgreement",
    EntityKind.AGREEMENT_INSTRUMENT: "AgreementInstrument",
    EntityKind.OUTPUT: "Output",
    EntityKind.EVENT: "Event",
    EntityKind.PERSON: "Person",
    EntityKind.POST: "Post",
    EntityKind.DOCUMENT: "Document",
    EntityKind.CITATION: "Citation",
    EntityKind.PLACE: "Place",
    EntityKind.SDG_TARGET: "SdgTarget",
}
KINDS_BY_TYPE = {name: kind for kind, name in TYPE_NAMES.items()}


def type_name(obj: Any) -> str:
    """GraphQL type name of a model instance."""
    if model_of(obj) is m.SourceDocument:
        return "SourceDocument"
    return TYPE_NAMES[obj.kind]


@strawberry.interface(
    description="Any record with a stable global ID; fetch it again with `node(id:)`."
)
class Node:
    @strawberry.field(description="Opaque global ID. Store it, never parse it.")
    @reads(GlobalIdOf())
    def id(self, root: Parent[Any]) -> strawberry.ID:
        return strawberry.ID(ids.encode(type_name(root), root.id))
