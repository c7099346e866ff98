"""Every record type, by domain; string references between types resolve here.

The types point at each other in every direction (organisation → agreements → parties →
organisation), so the field factories (soilapi.graphql.types.fields) name item types as strings
that strawberry resolves in this module, which imports them all.
"""

from typing import Any

from strawberry import Parent

from soilapi.graphql.pagination import After, Before, Connection, First, Last
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.types.entity import Entity
from soilapi.graphql.types.fourper1000 import (
    AgreementInstrument,
    Alliance,
    Facility,
    FacilityBlock,
    PartnerAgreement,
    StrategicObjective,
    TaskForce,
)
from soilapi.graphql.types.initiatives import (
    Citation,
    Document,
    Event,
    Initiative,
    Output,
    Programme,
    Speech,
)
from soilapi.graphql.types.organizations import (
    Organization,
    Person,
    Place,
    Post,
    SdgTarget,
    TreeEntry,
)
from soilapi.repositories.records import Record

# The factories' resolvers are resolved here (their `__module__`): the names their annotations
# use (Connection, Entity, Parent, the page arguments...) are part of this namespace.
__all__ = [
    "After",
    "AgreementInstrument",
    "Alliance",
    "Any",
    "AnyInfo",
    "Before",
    "Citation",
    "Connection",
    "Document",
    "Entity",
    "Event",
    "Facility",
    "FacilityBlock",
    "First",
    "Initiative",
    "Last",
    "Organization",
    "Output",
    "Parent",
    "PartnerAgreement",
    "Person",
    "Place",
    "Post",
    "Programme",
    "Record",
    "SdgTarget",
    "Speech",
    "StrategicObjective",
    "TaskForce",
    "TreeEntry",
]
