"""Rules for facets: which fields each root list can count its records by, and their checks."""

from collections.abc import Sequence

from soilapi.errors import InvalidInput
from soilapi.vocab import EntityKind, Facet

K, F = EntityKind, Facet

# The facets each root list offers, in the order they are answered when a client names none.
# This table is the only declaration: the SQL reads each facet from the kind's columns
# (soilapi.repositories.facets), and the `facets` field's description lists it. A list counts
# only what its records have: objectives have no country, agreements no category but the
# types of their instruments.
FACETS: dict[EntityKind, tuple[Facet, ...]] = {
    K.ORGANIZATION: (F.KIND, F.COUNTRY, F.CATEGORY, F.YEAR),
    K.PROGRAMME: (F.KIND, F.CATEGORY, F.YEAR),
    K.INITIATIVE: (F.KIND, F.CATEGORY, F.YEAR),
    K.FACILITY: (F.KIND,),
    K.STRATEGIC_OBJECTIVE: (F.KIND,),
    K.PARTNER_AGREEMENT: (F.KIND, F.COUNTRY, F.INSTRUMENT_TYPE, F.YEAR),
    K.OUTPUT: (F.KIND, F.CATEGORY, F.YEAR),
    K.EVENT: (F.KIND, F.COUNTRY, F.CATEGORY, F.YEAR),
    K.DOCUMENT: (F.KIND, F.CATEGORY),
    K.PERSON: (F.KIND,),
    K.PLACE: (F.KIND, F.COUNTRY, F.CATEGORY),
}


def names(facets: Sequence[Facet]) -> str:
    """Facets as a client writes them: `KIND, COUNTRY and YEAR`."""
    written = [facet.name for facet in facets]
    return written[0] if len(written) == 1 else f"{', '.join(written[:-1])} and {written[-1]}"


def checked_fields(kind: EntityKind, fields: Sequence[Facet] | None) -> tuple[Facet, ...]:
    """The facets to count, once each in the order asked; every facet of the list when the
    client names none. A facet the list does not offer is refused, not answered empty: an
    empty count would read as "no record has one"."""
    offered = FACETS[kind]
    if fields is None:
        return offered
    if not fields:
        raise InvalidInput(
            "`fields` is empty: name at least one facet, or leave it out for every facet "
            f"of the list ({names(offered)})",
            field="fields",
        )
    chosen = tuple(dict.fromkeys(fields))
    missing = [facet for facet in chosen if facet not in offered]
    if missing:
        raise InvalidInput(
            f"the {kind.name} list has no {names(missing)} facet; it offers {names(offered)}",
            field="fields",
        )
    return chosen
