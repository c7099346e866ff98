"""Synthetic registry rows at a chosen scale, deterministic from a seed.

Per unit of scale: 200 organisations (every fifth a network that keeps a list of about 25
partner agreements), 1,000 partner agreements with 1-3 instruments and 1-2 parties each,
1,000 outputs with authors and publishers, 50 events. Organisations hang in random trees, some
under the seed's GSP and ESP, so the deep traversal and per-parent pages grow with the scale.
Rows are tuples in the column order of `COLUMNS`, ready for COPY.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from soilapi import vocab
from soilapi.db.base import stable_id
from soilapi.seed.loader import agreement_dates

ORGS_PER_UNIT = 200
AGREEMENTS_PER_UNIT = 1000
OUTPUTS_PER_UNIT = 1000
EVENTS_PER_UNIT = 50
OWNER_EVERY = 5  # every fifth organisation is a network with its own list of agreements
SHARE_OF_4P1000 = 0.01  # of the agreements, listed by the seed's "4 per 1000" Initiative

PROV = ("document_id", "line_start", "line_end", "quote", "evidence")
# Synthetic records and relations are written at revision 1, the revision
# bench.generate.CREATE_REVISIONS records for them: setting it afterwards rewrote every row
# (a minute at scale 100, and tables twice their size).
ENTITY = ("id", "kind", "slug", "name", "acronym", "description", "country_code",
          "start_date", "start_precision", "end_date", "end_precision", "revision")  # fmt: skip
COLUMNS: dict[str, tuple[str, ...]] = {
    "entities": ENTITY,
    "organizations": ("id", "org_class", "category", "is_international_org",
                      "jurisdiction_label", "purpose"),
    "events": ("id", "category", "place_id", "attendance_mode", "is_implied"),
    "partner_agreements": ("id", "owner_id", "ordinal", "raw_text", "list_as_of_date",
                           "list_as_of_precision", "jurisdiction_label", "context_id",
                           "earliest_signed_date", "earliest_start_date"),
    "agreement_instruments": ("id", "agreement_id", "ordinal", "instrument_type", "raw_text",
                              "signed_date", "signed_precision", "duration_months", "fte",
                              "location_id", "end_is_derived", "date_note"),
    "outputs": ("id", "category", "subtitle", "publication_place_id", "launched_date",
                "launched_precision"),
    "relations": ("id", "subject_id", "predicate", "object_id", "ordinal", "note", "start_date",
                  "start_precision", "end_date", "end_precision", "rank", *PROV, "revision"),
    "entity_sources": ("id", "entity_id", "property", *PROV),
    "entity_names": ("id", "entity_id", "value", "kind", *PROV),
}  # fmt: skip

COUNTRIES = {
    "DE": "Germany", "FR": "France", "ES": "Spain", "IT": "Italy", "NL": "Netherlands",
    "PL": "Poland", "PT": "Portugal", "GR": "Greece", "SE": "Sweden", "AT": "Austria",
    "CH": "Switzerland", "GB": "United Kingdom", "US": "United States", "CA": "Canada",
    "BR": "Brazil", "AR": "Argentina", "MX": "Mexico", "CN": "China", "IN": "India",
    "JP": "Japan", "KE": "Kenya", "NG": "Nigeria", "MA": "Morocco", "ET": "Ethiopia",
    "ZA": "South Africa", "AU": "Australia", "ID": "Indonesia", "VN": "Viet Nam",
    "RU": "Russian Federation", "TR": "Türkiye",
}  # fmt: skip
ADJECTIVES = ("Regional", "National", "International", "Global", "Sustainable", "Integrated",
              "Applied", "Tropical", "Alpine", "Coastal", "Dryland", "Mediterranean", "Northern",
              "Southern", "Eastern", "Western", "Central", "Highland")  # fmt: skip
TOPICS = ("Soil", "Land", "Carbon", "Water", "Agroecology", "Erosion", "Biodiversity",
          "Soil Health", "Rangeland", "Peatland", "Soil Fertility", "Land Restoration",
          "Soil Information", "Soil Mapping", "Conservation Agriculture")  # fmt: skip
ORG_NOUNS = ("Institute", "Partnership", "Agency", "Council", "Centre", "Alliance", "Office",
             "Foundation", "Ministry", "Working Group", "Commission", "Society")  # fmt: skip
OUTPUT_NOUNS = ("Report", "Atlas", "Protocol", "Guidelines", "Assessment", "Map", "Database",
                "Handbook", "Brief", "Review")  # fmt: skip
EVENT_NOUNS = ("Conference", "Symposium", "Workshop", "Forum", "Summit", "Week", "Dialogue")
ORG_CATEGORIES = [c.value for c in vocab.OrgCategory if c is not vocab.OrgCategory.NETWORK]
ANCHORS = ("gsp", "esp", "fao", "4p1000", "cgiar", "iuss", "unep", "eu")

Row = tuple[Any, ...]


@dataclass
class SeedFacts:
    """What the synthetic rows point at in the seed data."""

    documents: list[tuple[uuid.UUID, int]]  # id, line count
    places: list[uuid.UUID]
    initiatives: list[uuid.UUID]
    organizations: list[uuid.UUID]
    anchors: dict[str, uuid.UUID]  # slug -> id, for ANCHORS that exist
    next_4p1000_ordinal: int


@dataclass
class Tables:
    """Rows per table, in COPY order."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in COLUMNS})

    def total(self) -> int:
        """Rows over all tables."""
        return sum(len(r) for r in self.rows.values())


class Maker:
    """Draws every row from one random.Random, so a seed always gives the same registry."""

    def __init__(self, seed: int, facts: SeedFacts) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.facts = facts
        self.t = Tables()
        self.ordinals: dict[uuid.UUID, int] = defaultdict(int)
        if "4p1000" in facts.anchors:
            self.ordinals[facts.anchors["4p1000"]] = facts.next_4p1000_ordinal - 1

    # --- small draws -------------------------------------------------------------------------

    def uid(self) -> uuid.UUID:
        """A random (but seeded) row id."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def pick(self, seq: Any) -> Any:
        """One element of a sequence."""
        return seq[self.rng.randrange(len(seq))]

    def day(self, first: int = 1945, last: int = 2025) -> tuple[date, str]:
        """A partial date: year, month or day precision, stored as the period's first day."""
        year = self.rng.randint(first, last)
        precision = self.rng.choices(("year", "month", "day"), (4, 3, 3))[0]
        if precision == "year":
            return date(year, 1, 1), precision
        month = self.rng.randint(1, 12)
        return date(year, month, 1 if precision == "month" else self.rng.randint(1, 28)), precision

    def prov(self, quote: str) -> Row:
        """Inline provenance: a few lines of one source document."""
        doc, lines = self.pick(self.facts.documents)
        start = self.rng.randint(1, max(1, lines - 3))
        end = min(lines, start + self.rng.randint(0, 3))
        evidence = self.rng.choices(("stated", "derived", "inferred"), (16, 3, 1))[0]
        return doc, start, end, quote, evidence

    # --- rows ----------------------------------------------------------------------------------

    def entity(self, kind: str, slug: str, name: str, **cols: Any) -> uuid.UUID:
        """An `entities` row; returns its id (stable from the slug, like the seed's)."""
        eid = stable_id("entity", slug)
        values = {"id": eid, "kind": kind, "slug": slug, "name": name, "revision": 1, **cols}
        self.t.rows["entities"].append(tuple(values.get(c) for c in ENTITY))
        return eid

    def source(self, entity_id: uuid.UUID, quote: str) -> None:
        """An excerpt backing a record."""
        prop = self.rng.choices((None, "name", "start"), (8, 1, 1))[0]
        self.t.rows["entity_sources"].append((self.uid(), entity_id, prop, *self.prov(quote)))

    def relation(self, subject: uuid.UUID, predicate: str, obj: uuid.UUID, quote: str) -> None:
        """A typed edge subject → object."""
        row = (self.uid(), subject, predicate, obj, None, None, None, None, None, None,
               "preferred", *self.prov(quote), 1)  # fmt: skip
        self.t.rows["relations"].append(row)

    def org_name(self, country: str | None, noun: str) -> tuple[str, str, str]:
        """Name, acronym and topic of an organisation."""
        adjective, topic = self.pick(ADJECTIVES), self.pick(TOPICS)
        place = f" of {COUNTRIES[country]}" if country else ""
        name = f"{adjective} {topic} {noun}{place}"
        acronym = "".join(w[0] for w in name.split() if w[0].isupper())
        return name, acronym, topic

    def someone(self, orgs: list[uuid.UUID]) -> uuid.UUID:
        """An organisation: mostly synthetic, sometimes one of the seed's."""
        if self.rng.random() < 0.1 or not orgs:
            return self.pick(self.facts.organizations)  # type: ignore[no-any-return]
        return self.pick(orgs)  # type: ignore[no-any-return]


# --- the registry, kind by kind ---------------------------------------------------------------


def organizations(mk: Maker, count: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Organisations in random trees; returns all of them and the agreement owners."""
    made: list[uuid.UUID] = []
    owners: list[uuid.UUID] = []
    seed_parents = [mk.facts.anchors[s] for s in ANCHORS if s in mk.facts.anchors]
    for i in range(count):
        owner = i % OWNER_EVERY == 0
        country = None if mk.rng.random() < 0.15 else mk.pick(list(COUNTRIES))
        name, acronym, topic = mk.org_name(country, "Network" if owner else mk.pick(ORG_NOUNS))
        start, precision = mk.day()
        eid = mk.entity(
            "organization", f"bench-org-{i:06d}", name, acronym=acronym,
            description=f"{name} works on {topic.lower()}.", country_code=country,
            start_date=start, start_precision=precision,
        )  # fmt: skip
        category = "network" if owner else mk.pick(ORG_CATEGORIES)
        org_class = "collaboration" if owner else mk.rng.choice(("formal", "formal", "unit"))
        purpose = f"To advance {topic.lower()}." if mk.rng.random() < 0.3 else None
        label = COUNTRIES[country] if country else "IO"
        mk.t.rows["organizations"].append(
            (eid, org_class, category, country is None, label, purpose)
        )
        for _ in range(mk.rng.randint(1, 3)):
            mk.source(eid, f"{name} ({acronym}) was founded in {start.year}.")
        if mk.rng.random() < 0.5:
            mk.t.rows["entity_names"].append(
                (mk.uid(), eid, acronym, "acronym", *mk.prov(f"{name} ({acronym})"))
            )
        parent = _parent(mk, made, seed_parents)
        if parent is not None:
            mk.relation(eid, "sub_organization_of", parent, f"{name} is part of a larger body.")
        made.append(eid)
        if owner:
            owners.append(eid)
    return made, owners


def _parent(mk: Maker, made: list[uuid.UUID], seed_parents: list[uuid.UUID]) -> uuid.UUID | None:
    """A random recursive forest whose roots hang under the GSP, the ESP or other seed bodies."""
    if made and mk.rng.random() >= 0.1:
        return made[mk.rng.randrange(len(made))]
    draw = mk.rng.random()
    anchors = mk.facts.anchors
    if draw < 0.3 and "gsp" in anchors:
        return anchors["gsp"]
    if draw < 0.5 and "esp" in anchors:
        return anchors["esp"]
    if draw < 0.8 and seed_parents:
        return mk.pick(seed_parents)  # type: ignore[no-any-return]
    return None


INSTRUMENT_TYPES = [t.value for t in vocab.InstrumentType]


def agreements(mk: Maker, count: int, orgs: list[uuid.UUID], owners: list[uuid.UUID]) -> None:
    """Partner agreements in their owners' lists, with parties and instruments."""
    the_4p1000 = mk.facts.anchors.get("4p1000")
    for n in range(count):
        owner = the_4p1000 if the_4p1000 and mk.rng.random() < SHARE_OF_4P1000 else None
        owner = owner or mk.pick(owners)
        mk.ordinals[owner] += 1
        ordinal = mk.ordinals[owner]
        country = mk.pick(list(COUNTRIES))
        slug = f"bench-agreement-{n:07d}"
        terms = [mk.pick(INSTRUMENT_TYPES) for _ in range(mk.rng.choices((1, 2, 3), (6, 3, 1))[0])]
        raw = (
            f"Partner {n} ({COUNTRIES[country]}) [{', '.join(t.replace('_', ' ') for t in terms)}]"
        )
        eid = mk.entity(
            "partner_agreement", slug, f"Existing Partnership {ordinal}: partner {n}",
            country_code=country,
        )  # fmt: skip
        listed, precision = mk.day(2015, 2025)
        mk.source(eid, raw)
        for _ in range(mk.rng.choices((1, 2), (4, 1))[0]):
            mk.relation(mk.someone(orgs), "party_to", eid, raw)
        dates = [_instrument(mk, eid, f"{slug}-i{k}", k, kind) for k, kind in enumerate(terms, 1)]
        # The sort dates the seed loader stores for the SIGNED and START orders.
        signed, started = agreement_dates(dates)
        row = (eid, owner, ordinal, raw, listed, precision, COUNTRIES[country], None, signed,
               started)  # fmt: skip
        mk.t.rows["partner_agreements"].append(row)


def _instrument(
    mk: Maker, agreement: uuid.UUID, slug: str, ordinal: int, kind: str
) -> tuple[date | None, date | None]:
    """An instrument row; returns its (signed, start) dates."""
    signed, precision = mk.day(2010, 2025)
    months = mk.rng.choice((12, 24, 36, 48, 60, None))
    end = signed + timedelta(days=30 * months) if months else None
    label = kind.replace("_", " ")
    eid = mk.entity(
        "agreement_instrument", slug, f"Partner - {label}", start_date=signed,
        start_precision=precision, end_date=end, end_precision=precision if end else None,
    )  # fmt: skip
    fte = Decimal(mk.rng.randint(1, 20)) / 10 if kind == "secondment" else None
    place = mk.pick(mk.facts.places) if kind == "premises" and mk.facts.places else None
    raw = f"{label.capitalize()} {signed.isoformat()}" + (f", {months} months" if months else "")
    mk.t.rows["agreement_instruments"].append(
        (eid, agreement, ordinal, kind, raw, signed, precision, months, fte, place,
         end is not None, None)
    )  # fmt: skip
    if mk.rng.random() < 0.5:
        mk.source(eid, raw)
    return signed, signed


OUTPUT_CATEGORIES = [c.value for c in vocab.OutputCategory]
EVENT_CATEGORIES = [c.value for c in vocab.EventCategory]
ATTENDANCE = [a.value for a in vocab.AttendanceMode]


def outputs(mk: Maker, count: int, orgs: list[uuid.UUID]) -> None:
    """Reports, maps, databases ... with authors, a publisher, sometimes an initiative."""
    for n in range(count):
        published, precision = mk.day(1990, 2025)
        name = f"{mk.pick(ADJECTIVES)} {mk.pick(TOPICS)} {mk.pick(OUTPUT_NOUNS)} {published.year}"
        subtitle = f"Edition {mk.rng.randint(1, 5)}" if mk.rng.random() < 0.3 else None
        eid = mk.entity(
            "output", f"bench-output-{n:07d}", name, start_date=published,
            start_precision=precision,
        )  # fmt: skip
        place = mk.pick(mk.facts.places) if mk.rng.random() < 0.3 and mk.facts.places else None
        mk.t.rows["outputs"].append((eid, mk.pick(OUTPUT_CATEGORIES), subtitle, place, None, None))
        mk.source(eid, f"{name} was published in {published.year}.")
        for _ in range(mk.rng.randint(1, 2)):
            mk.relation(eid, "authored_by", mk.someone(orgs), f"{name}, by its authors.")
        mk.relation(eid, "published_by", mk.someone(orgs), f"{name}, published.")
        if mk.facts.initiatives and mk.rng.random() < 0.3:
            mk.relation(eid, "produced_under", mk.pick(mk.facts.initiatives), name)


def events(mk: Maker, count: int, orgs: list[uuid.UUID]) -> None:
    """Conferences, symposia ... each organised by someone."""
    for n in range(count):
        held = date(mk.rng.randint(1990, 2025), mk.rng.randint(1, 12), mk.rng.randint(1, 28))
        name = f"{mk.pick(ADJECTIVES)} {mk.pick(TOPICS)} {mk.pick(EVENT_NOUNS)} {held.year}"
        country = mk.pick(list(COUNTRIES))
        eid = mk.entity(
            "event", f"bench-event-{n:06d}", name, country_code=country, start_date=held,
            start_precision="day",
        )  # fmt: skip
        place = mk.pick(mk.facts.places) if mk.facts.places else None
        mk.t.rows["events"].append(
            (eid, mk.pick(EVENT_CATEGORIES), place, mk.pick(ATTENDANCE), False)
        )
        mk.source(eid, f"{name} took place on {held.isoformat()}.")
        mk.relation(eid, "organized_by", mk.someone(orgs), f"{name} was organised.")


def build(scale: int, seed: int, facts: SeedFacts) -> Tables:
    """Every synthetic row for a scale."""
    mk = Maker(seed, facts)
    orgs, owners = organizations(mk, ORGS_PER_UNIT * scale)
    agreements(mk, AGREEMENTS_PER_UNIT * scale, orgs, owners)
    outputs(mk, OUTPUTS_PER_UNIT * scale, orgs)
    events(mk, EVENTS_PER_UNIT * scale, orgs)
    return mk.t
