"""Value types: partial dates, provenance, names, identifiers, quantities, statements."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry import Parent

from soilapi.errors import InvalidInput
from soilapi.graphql import enums, ids
from soilapi.graphql.limits import MOST_ITEMS
from soilapi.graphql.resolve import AnyInfo, loaders
from soilapi.graphql.sqlmark import (
    Column,
    DocumentOf,
    GlobalIdOf,
    LinesOf,
    SameRow,
    column_field,
    date_field,
    reads,
)
from soilapi.graphql.types.node import Node
from soilapi.repositories.records import Record, is_source_document
from soilapi.vocab import partial_iso


@strawberry.type(
    description="A date known to a year, a month or a day. `iso` shows only the known part "
    "(`2012`, `2013-11`, `2021-05-27`)."
)
class PartialDate:
    value: date = strawberry.field(
        description="First day of the period (1 January for a year, the 1st for a month)."
    )
    precision: enums.DatePrecision = strawberry.field(description="How much of the date is known.")

    @strawberry.field(description="The known part in ISO 8601: YYYY, YYYY-MM or YYYY-MM-DD.")
    def iso(self) -> str:
        return partial_iso(self.value, self.precision)

    @strawberry.field(description="The year.")
    def year(self) -> int:
        return self.value.year


def partial(value: date | None, precision: Any) -> PartialDate | None:
    """A PartialDate from a (date, precision) column pair."""
    return None if value is None else PartialDate(value=value, precision=precision)


# The most lines one `lines` call returns: its cost in the query limits, and its bound.
MOST_LINES = 200


@strawberry.type(description="A range of lines of a source document (1-based, inclusive).")
class LineRange:
    start: int = strawberry.field(description="First line.")
    end: int = strawberry.field(description="Last line.")


@strawberry.type(
    description="One of the documents the registry was transcribed from, kept verbatim."
)
class SourceDocument(Node):
    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return is_source_document(obj)

    key: str = strawberry.field(
        description='Short key of the document: "000" ... "003" for the seed documents, '
        '"web-…" for a web page and "stated-…" for a partner\'s statement a write cited.'
    )
    file_name: str = strawberry.field(description="File name of the verbatim copy.")
    sha256: str = strawberry.field(description="SHA-256 of the file, to detect any change.")
    title: str = strawberry.field(description="Title of the document.")
    genre: str = strawberry.field(description="What the document is (web page, news item...).")
    publisher: str | None = strawberry.field(description="Publisher or section, as written.")
    notes: str | None = strawberry.field(
        description="What the document is, its date if known, and the junk that was skipped."
    )
    line_count: int = strawberry.field(description="Number of lines.")
    url: str | None = strawberry.field(description="The web page a write cited, if it is one.")
    read_on: date | None = strawberry.field(description="The day that web page was read.")

    published = date_field("published", "Publication date, when the document states one.")

    @strawberry.field(
        description=f"The verbatim text of some lines (at most {MOST_LINES}).",
        metadata={MOST_ITEMS: MOST_LINES},
    )
    def lines(
        self,
        root: Parent[Record],
        start: Annotated[int, strawberry.argument(description="First line (1-based).")] = 1,
        end: Annotated[
            int | None,
            strawberry.argument(description=f"Last line (default: start + {MOST_LINES - 1})."),
        ] = None,
    ) -> list[str]:
        text: list[str] = root.content.split("\n")
        last = min(end if end is not None else start + MOST_LINES - 1, len(text))
        if start < 1 or last < start or last - start >= MOST_LINES:
            raise InvalidInput(
                f"lines {start}-{end} are outside 1-{len(text)} or span more than {MOST_LINES}",
                field="start",
            )
        return text[start - 1 : last]


@strawberry.type(
    description="Where a fact comes from: document, lines, the verbatim quote, and whether "
    "the fact is stated, derived or inferred."
)
class Provenance:
    quote: str = strawberry.field(description="Verbatim excerpt of the lines that back the fact.")
    evidence: enums.Evidence = strawberry.field(description="How the fact follows from the quote.")

    @strawberry.field(description="Which field of the record this source backs, if only one.")
    @reads(Column("property", optional=True))
    def property(self, root: Parent[Any]) -> str | None:
        return getattr(root, "property", None)

    @strawberry.field(description="The lines of the document that hold the quote.")
    @reads(LinesOf())
    def lines(self, root: Parent[Any]) -> LineRange:
        return LineRange(start=root.line_start, end=root.line_end)

    @strawberry.field(description="The source document.")
    @reads(DocumentOf())
    async def document(self, root: Parent[Any], info: AnyInfo) -> SourceDocument:
        doc: uuid.UUID = root.document_id
        return await loaders(info).source_document.load(doc)  # type: ignore[return-value]


@strawberry.type(description="Another name of a record: an acronym, alias or spelling variant.")
class Name:
    @strawberry.field(description="Opaque global ID; `nameRetire` removes the name.")
    @reads(GlobalIdOf())
    def id(self, root: Parent[Record]) -> strawberry.ID:
        return strawberry.ID(ids.encode("Name", root.id))

    value: str = strawberry.field(description="The name as written.")
    kind: enums.NameKind = strawberry.field(description="Why the record has this name.")

    @strawberry.field(description="Where the name appears.")
    @reads(SameRow())
    def source(self, root: Parent[Record]) -> Provenance:
        return root  # type: ignore[return-value]


@strawberry.type(description="An identifier of a record in an outside scheme.")
class Identifier:
    scheme: enums.IdentifierScheme = strawberry.field(
        description="Which scheme the value belongs to."
    )
    value: str = strawberry.field(description="The identifier (a URL, a code, a symbol).")

    @strawberry.field(description="Where the identifier appears.")
    @reads(SameRow())
    def source(self, root: Parent[Record]) -> Provenance:
        return root  # type: ignore[return-value]


@strawberry.type(
    description='A number stated about a record, with its qualifier ("over 300") and date.'
)
class Quantity:
    @strawberry.field(description="Opaque global ID; `quantityRetire` removes it.")
    @reads(GlobalIdOf())
    def id(self, root: Parent[Record]) -> strawberry.ID:
        return strawberry.ID(ids.encode("Quantity", root.id))

    metric: str = strawberry.field(
        description="What is counted (participants, registered_members, countries...)."
    )
    qualifier: enums.Qualifier = strawberry.field(
        description="How the number relates to the true value."
    )
    unit: str | None = strawberry.field(description="Unit, when not a plain count.")
    text: str | None = strawberry.field(description="The number as written in the source.")
    note: str | None = strawberry.field(description="Context needed to read the number.")

    value = column_field("value", float, "The number.", lambda value: float(Decimal(value)))
    as_of = date_field("as_of", "The date the number refers to, when known.")

    @strawberry.field(description="Where the number is stated.")
    @reads(SameRow())
    def source(self, root: Parent[Record]) -> Provenance:
        return root  # type: ignore[return-value]


@strawberry.type(
    description="A free-text fact about a record: an aim, objective, provision or remark."
)
class Statement:
    @strawberry.field(description="Opaque global ID; `statementRetire` removes it.")
    @reads(GlobalIdOf())
    def id(self, root: Parent[Record]) -> strawberry.ID:
        return strawberry.ID(ids.encode("Statement", root.id))

    property: enums.StatementProperty = strawberry.field(description="What kind of fact this is.")
    ordinal: int | None = strawberry.field(description="Position in a numbered list, if any.")
    text: str = strawberry.field(description="The fact, quoted or closely paraphrased.")

    @strawberry.field(description="Where the fact is stated.")
    @reads(SameRow())
    def source(self, root: Parent[Record]) -> Provenance:
        return root  # type: ignore[return-value]


@strawberry.type(
    description="A known gap or artefact of the sources, recorded instead of invented data."
)
class QualityNote:
    code: str = strawberry.field(description="Short machine-readable code of the issue.")
    note: str = strawberry.field(description="What the issue is and how the data handles it.")

    @strawberry.field(description="The lines the note is about.")
    @reads(SameRow())
    def source(self, root: Parent[Record]) -> Provenance:
        return root  # type: ignore[return-value]
