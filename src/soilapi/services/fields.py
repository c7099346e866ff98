"""What a write may set on each kind of record: one declaration per writable field.

Each `Writable` says the field's name, its type, what it means, and whether a new record
needs it; the service checks input with it (`Writable.columns`), and the GraphQL layer builds
each kind's input type and its mutations from the same declarations
(soilapi.graphql.mutations.records). Adding a writable field is one line here.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

from soilapi import vocab
from soilapi.errors import ErrorCode, FieldError, Rejected
from soilapi.services.listing import COUNTRY_RE
from soilapi.services.writes import as_json, day_of, text
from soilapi.vocab import EntityKind, Predicate, partial_iso

Path = tuple[str, ...]


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code in use (pycountry's list): "FR" is one, "XX" is not."""
    return COUNTRY_RE.match(code) is not None and pycountry.countries.get(alpha_2=code) is not None


class Shape(enum.Enum):
    """How a field is written in input, and checked."""

    TEXT = "text"  # one line
    LINES = "lines"  # line breaks allowed
    DATE = "date"  # a partial date: YYYY, YYYY-MM or YYYY-MM-DD, kept with its precision
    COUNTRY = "country"  # ISO 3166-1 alpha-2, upper case
    BOOL = "bool"
    INT = "int"
    NUMBER = "number"
    CHOICE = "choice"  # a value of `choices`
    REF = "ref"  # the ID of a record of one of `refs`


@dataclass(frozen=True)
class Writable:
    """One field a write may set."""

    name: str
    shape: Shape
    description: str
    required: bool = False
    choices: type[enum.StrEnum] | None = None
    refs: tuple[EntityKind, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    column: str | None = None

    @property
    def stored_as(self) -> str:
        """The column (for a date: the prefix of its date and precision columns)."""
        if self.column is not None:
            return self.column
        return f"{self.name}_id" if self.shape is Shape.REF else self.name

    @property
    def stored_columns(self) -> tuple[str, ...]:
        """Every column the field is stored in (a date: its day and its precision)."""
        if self.shape is Shape.DATE:
            return (f"{self.stored_as}_date", f"{self.stored_as}_precision")
        return (self.stored_as,)

    def shown(self, row: dict[str, Any], slugs: Mapping[uuid.UUID, str]) -> Any:
        """The field's value in a row, as a diff shows it, the way the seed loader's do
        (soilapi.seed.history): a date to its precision ("2015", "2015-06", "2015-06-01"), a
        reference as the slug of the record it names, a number as a JSON number."""
        if self.shape is Shape.DATE:
            day = row.get(f"{self.stored_as}_date")
            precision = row.get(f"{self.stored_as}_precision")
            return None if day is None else partial_iso(day, str(precision))
        value = row.get(self.stored_as)
        if self.shape is Shape.REF and value is not None:
            return slugs.get(value, str(value))
        return as_json(value)

    def columns(self, value: Any, path: Path) -> dict[str, Any]:
        """The columns this value sets, checked; Rejected with a field error if it is wrong.

        A REF's value is the record id (a uuid string); that the record exists and is of
        the right kind is checked against the database by the write (soilapi.services.changes).
        """
        if value is None:
            if self.required:
                raise Rejected([FieldError(path, "is required, and cannot be unset")])
            return dict.fromkeys(self.stored_columns)
        if self.shape is Shape.DATE:
            day, precision = day_of(value, path)
            return {f"{self.stored_as}_date": day, f"{self.stored_as}_precision": precision}
        return {self.stored_as: self._checked(value, path)}

    def _checked(self, value: Any, path: Path) -> Any:
        shape = self.shape
        if shape in (Shape.TEXT, Shape.LINES):
            return text(value, path, required=self.required, lines=shape is Shape.LINES)
        if shape is Shape.BOOL:
            return bool(value)
        if shape in (Shape.INT, Shape.NUMBER):
            return self._number(value, path)
        if shape is Shape.REF:
            try:
                return uuid.UUID(str(value))
            except ValueError:
                raise Rejected(
                    [FieldError(path, "is not a valid ID", ErrorCode.NOT_FOUND)]
                ) from None
        allowed = {m.value for m in self.choices} if self.choices else set()
        if (shape is Shape.COUNTRY and not is_country(str(value))) or (
            shape is Shape.CHOICE and value not in allowed
        ):
            what = (
                "an ISO 3166-1 alpha-2 code (upper case)"
                if shape is Shape.COUNTRY
                else (f"one of {self.choices.__name__ if self.choices else ''}")
            )
            raise Rejected([FieldError(path, f"is not {what}")])
        return value

    def _number(self, value: Any, path: Path) -> Any:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise Rejected([FieldError(path, "is not a number")]) from None
        if not number.is_finite():
            raise Rejected([FieldError(path, "is not a finite number")])
        if self.minimum is not None and number < self.minimum:
            raise Rejected([FieldError(path, f"is below {self.minimum}")])
        if self.maximum is not None and number > self.maximum:
            raise Rejected([FieldError(path, f"is above {self.maximum}")])
        if self.shape is Shape.INT and number != number.to_integral_value():
            raise Rejected([FieldError(path, "is not a whole number")])
        return int(number) if self.shape is Shape.INT else number


def _choice(name: str, choices: type[enum.StrEnum], description: str, **more: Any) -> Writable:
    return Writable(name, Shape.CHOICE, description, choices=choices, **more)


def _ref(name: str, kinds: tuple[EntityKind, ...], description: str, **more: Any) -> Writable:
    return Writable(name, Shape.REF, description, refs=kinds, **more)


PLACE = (EntityKind.PLACE,)
# The fields every record has.
SHARED = (
    Writable("name", Shape.TEXT, "Preferred name.", required=True),
    Writable("acronym", Shape.TEXT, "Acronym or short name."),
    Writable("description", Shape.LINES, "What it is, in a few sentences."),
    Writable(
        "country", Shape.COUNTRY, "ISO 3166-1 alpha-2 code (upper case).", column="country_code"
    ),
    Writable("start", Shape.DATE, "When it began: YYYY, YYYY-MM or YYYY-MM-DD."),
    Writable("end", Shape.DATE, "When it ended: YYYY, YYYY-MM or YYYY-MM-DD."),
)
# The columns of `entities` the shared fields are stored in (the rest are a kind's own).
SHARED_COLUMNS = frozenset(column for w in SHARED for column in w.stored_columns)
# Each writable kind's own fields.
DETAIL: dict[EntityKind, tuple[Writable, ...]] = {
    EntityKind.ORGANIZATION: (
        _choice("org_class", vocab.OrgClass, "Formal organisation, unit or collaboration."),
        _choice("category", vocab.OrgCategory, "What kind of organisation it is."),
        Writable(
            "is_international_org", Shape.BOOL, "Whether it is an international organisation."
        ),
        Writable("jurisdiction_label", Shape.TEXT, "The area it works for, as sources name it."),
        Writable("purpose", Shape.LINES, "Its stated purpose."),
    ),
    EntityKind.PARTNER_AGREEMENT: (
        _ref(
            "owner",
            (EntityKind.ORGANIZATION,),
            "Whose list of partnerships it is in.",
            required=True,
        ),
        Writable(
            "ordinal", Shape.INT, "Its place in that list (1, 2 ...).", required=True, minimum=1
        ),
        Writable("raw_text", Shape.LINES, "The list item as written.", required=True),
        Writable("list_as_of", Shape.DATE, "The date the list is as of."),
        Writable("jurisdiction_label", Shape.TEXT, "The partner's country or area, as written."),
        _ref("context", (EntityKind.EVENT,), "The event it was made at."),
    ),
    EntityKind.AGREEMENT_INSTRUMENT: (
        _ref("agreement", (EntityKind.PARTNER_AGREEMENT,), "The agreement.", required=True),
        Writable(
            "ordinal",
            Shape.INT,
            "Its place among the agreement's.",
            required=True,
            minimum=1,
            maximum=2**31 - 1,
        ),
        _choice(
            "instrument_type", vocab.InstrumentType, "Grant, secondment, MoU ...", required=True
        ),
        Writable("raw_text", Shape.LINES, "The instrument as written.", required=True),
        Writable("signed", Shape.DATE, "When it was signed: YYYY, YYYY-MM or YYYY-MM-DD."),
        Writable(
            "duration_months", Shape.INT, "How long it runs, in months.", minimum=0, maximum=1200
        ),
        Writable("fte", Shape.NUMBER, "Full-time equivalents (0 to 999).", minimum=0, maximum=999),
        _ref("location", PLACE, "Where it is carried out."),
        Writable("date_note", Shape.TEXT, "What the source says about its dates."),
    ),
    EntityKind.OUTPUT: (
        _choice("category", vocab.OutputCategory, "What kind of output."),
        Writable("subtitle", Shape.TEXT, "Subtitle."),
        _ref("publication_place", PLACE, "Where it was published."),
        Writable("launched", Shape.DATE, "When it was launched: YYYY, YYYY-MM or YYYY-MM-DD."),
    ),
    EntityKind.EVENT: (
        _choice("category", vocab.EventCategory, "What kind of event."),
        _ref("place", PLACE, "Where it took place."),
        _choice("attendance_mode", vocab.AttendanceMode, "In person, online or both."),
    ),
    EntityKind.PERSON: (
        Writable("honorific", Shape.TEXT, "Dr, Prof. ..."),
        Writable("given_name", Shape.TEXT, "Given name."),
        Writable("family_name", Shape.TEXT, "Family name."),
        Writable(
            "name_order_uncertain", Shape.BOOL, "Whether given and family name may be swapped."
        ),
    ),
    EntityKind.POST: (
        _ref("organization", (EntityKind.ORGANIZATION,), "The organisation.", required=True),
        Writable("label", Shape.TEXT, "The post (Director, Secretary ...).", required=True),
    ),
}

# The relation by which an organisation owns a new record of a kind (a partner may create
# such a record for its own organisations): (predicate, the organisation is the subject).
OWNING: dict[EntityKind, tuple[Predicate, bool]] = {
    EntityKind.ORGANIZATION: (Predicate.SUB_ORGANIZATION_OF, False),
    EntityKind.PARTNER_AGREEMENT: (Predicate.PARTY_TO, True),
    EntityKind.OUTPUT: (Predicate.AUTHORED_BY, False),
    EntityKind.EVENT: (Predicate.ORGANIZED_BY, False),
}


def writable(kind: EntityKind) -> dict[str, Writable]:
    """Every field a write may set on a record of `kind`, by name."""
    return {w.name: w for w in (*SHARED, *DETAIL[kind])}


# Sub-facts of a record, with their provenance inline: a quantity, a statement.
QUANTITY = (
    Writable("metric", Shape.TEXT, "What is counted (members, budget ...).", required=True),
    Writable(
        "value", Shape.NUMBER, "The number.", required=True, minimum=-(10**15), maximum=10**15
    ),
    _choice("qualifier", vocab.Qualifier, "Exact, more than, about ...", required=True),
    Writable("unit", Shape.TEXT, "Its unit."),
    Writable("as_of", Shape.DATE, "When it held: YYYY, YYYY-MM or YYYY-MM-DD."),
    Writable("text", Shape.TEXT, "The number as the source writes it."),
    Writable("note", Shape.TEXT, "A remark."),
)
STATEMENT = (
    _choice("property", vocab.StatementProperty, "What the statement is about.", required=True),
    Writable(
        "ordinal",
        Shape.INT,
        "Its place among the record's statements.",
        minimum=0,
        maximum=2**31 - 1,
    ),
    Writable("text", Shape.LINES, "The statement.", required=True),
)
NAME = (
    Writable("value", Shape.TEXT, "The name as written.", required=True),
    _choice(
        "kind",
        vocab.NameKind,
        "Acronym, alias, spelling variant, full or former name.",
        required=True,
    ),
)
