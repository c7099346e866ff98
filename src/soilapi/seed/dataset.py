"""Parse and validate the hand-written seed dataset (see FORMAT.md) without touching a database.

Validation is strict on purpose: the data is typed by hand, so every typo must fail loudly with
the file and record it came from rather than load as a silent wrong fact.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from soilapi import vocab
from soilapi.db.attributes import Attribute, AttributeType, attributes
from soilapi.vocab import DatePrecision, EntityKind, Evidence

PACKAGE_DIR = Path(__file__).parent
DATA_DIR = PACKAGE_DIR / "data"
DOCUMENTS_DIR = PACKAGE_DIR / "documents"

DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
LINES_RE = re.compile(r"^(\d+)(?:-(\d+))?$")
WS_RE = re.compile(r"\s+")


class DatasetError(ValueError):
    """A seed data file breaks the format; the message names the file and record."""


@dataclass(frozen=True)
class PartialDate:
    """A date known to a year, a month or a day, stored as its first day."""

    value: date
    precision: DatePrecision

    @classmethod
    def parse(cls, raw: object) -> PartialDate:
        """Read "2012", "2013-11" or "2021-05-27"."""
        match = DATE_RE.match(str(raw))
        if not match:
            raise ValueError(f"not a partial date (YYYY, YYYY-MM or YYYY-MM-DD): {raw!r}")
        year, month, day = match.groups()
        if day is not None:
            return cls(date(int(year), int(month), int(day)), DatePrecision.DAY)
        if month is not None:
            return cls(date(int(year), int(month), 1), DatePrecision.MONTH)
        return cls(date(int(year), 1, 1), DatePrecision.YEAR)


@dataclass(frozen=True)
class SourceText:
    """One source document, with its lines kept for quote checks and line lookups."""

    key: str
    file_name: str
    sha256: str
    lines: tuple[str, ...]

    def excerpt(self, start: int, end: int) -> str:
        """Return lines start..end (1-based, inclusive) as printed by `cat -n`."""
        return "\n".join(self.lines[start - 1 : end])


@dataclass(frozen=True)
class Provenance:
    """Where a fact comes from: document, lines, verbatim quote and evidence level."""

    doc: str
    line_start: int
    line_end: int
    quote: str
    evidence: Evidence
    property: str | None = None


@dataclass
class DocumentMeta:
    """Metadata of a source document, written in the header of its data file."""

    key: str
    title: str
    genre: str
    published: PartialDate | None
    publisher: str | None
    notes: str | None


@dataclass
class NameSpec:
    """An alias, acronym or spelling variant of an entity."""

    value: str
    kind: vocab.NameKind
    prov: Provenance


@dataclass
class IdentifierSpec:
    """An identifier (URL, catalogue code, document symbol) of an entity."""

    scheme: vocab.IdentifierScheme
    value: str
    prov: Provenance


@dataclass
class EntitySpec:
    """An entity as written in a data file, with kind-specific attributes checked."""

    file: str
    kind: EntityKind
    slug: str
    name: str
    acronym: str | None
    description: str | None
    country: str | None
    start: PartialDate | None
    end: PartialDate | None
    names: list[NameSpec]
    identifiers: list[IdentifierSpec]
    sources: list[Provenance]
    attrs: dict[str, Any]


@dataclass
class RelationSpec:
    """A typed edge "subject predicate object"."""

    subject: str
    predicate: vocab.Predicate
    object: str
    ordinal: int | None
    note: str | None
    start: PartialDate | None
    end: PartialDate | None
    rank: vocab.Rank
    prov: Provenance
    file: str = ""


@dataclass
class QuantitySpec:
    """A number stated about an entity, with its qualifier."""

    subject: str
    metric: str
    value: Decimal
    qualifier: vocab.Qualifier
    unit: str | None
    as_of: PartialDate | None
    text: str | None
    note: str | None
    prov: Provenance
    file: str = ""


@dataclass
class StatementSpec:
    """A free-text fact about an entity (aim, objective, provision, remark...)."""

    subject: str
    property: vocab.StatementProperty
    ordinal: int | None
    text: str
    prov: Provenance
    file: str = ""


@dataclass
class QualityNoteSpec:
    """A known gap or artefact in the sources."""

    subject: str | None
    code: str
    note: str
    prov: Provenance
    file: str = ""


@dataclass
class Dataset:
    """The whole validated dataset."""

    texts: dict[str, SourceText]
    documents: dict[str, DocumentMeta] = field(default_factory=dict)
    entities: dict[str, EntitySpec] = field(default_factory=dict)
    mentions: list[tuple[str, Provenance, str]] = field(default_factory=list)
    relations: list[RelationSpec] = field(default_factory=list)
    quantities: list[QuantitySpec] = field(default_factory=list)
    statements: list[StatementSpec] = field(default_factory=list)
    notes: list[QualityNoteSpec] = field(default_factory=list)


# --- attribute schemas --------------------------------------------------------------------

Check = Callable[[Any], Any]


def _str(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"expected non-empty text, got {v!r}")
    return v


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected an integer, got {v!r}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true/false, got {v!r}")
    return v


def _number(v: Any) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError(f"expected a number, got {v!r}")
    try:
        return Decimal(str(v))
    except InvalidOperation as exc:
        raise ValueError(f"expected a number, got {v!r}") from exc


def _enum(enum: type[StrEnum]) -> Check:
    def check(v: Any) -> StrEnum:
        try:
            return enum(v)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise ValueError(f"{v!r} is not one of: {allowed}") from None

    return check


def _objective_label(v: Any) -> str:
    """A strategic objective's label: a goal letter and a digit (A1 ... F3)."""
    letters = "".join(vocab.GOAL_LETTERS)
    if not isinstance(v, str) or not re.fullmatch(f"[{letters}][1-9]", v):
        raise ValueError(f"expected a goal letter ({letters}) and a digit, got {v!r}")
    return v


def _str_list(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError(f"expected a list of strings, got {v!r}")
    return v


@dataclass(frozen=True)
class Ref:
    """An attribute that names another entity, optionally of given kinds."""

    kinds: tuple[EntityKind, ...]


def _check_of(attribute: Attribute) -> Check | Ref:
    """How a seed file's value of this attribute is read and checked."""
    match attribute.value_type:
        case AttributeType.REFERENCE:
            return Ref(attribute.refers_to)
        case AttributeType.ENUM:
            assert attribute.enum is not None
            return _enum(attribute.enum)
        case AttributeType.PARTIAL_DATE:
            return PartialDate.parse
    return _PLAIN_CHECKS[attribute.value_type]


_PLAIN_CHECKS: dict[AttributeType, Check] = {
    AttributeType.TEXT: _str,
    AttributeType.INTEGER: _int,
    AttributeType.BOOLEAN: _bool,
    AttributeType.NUMBER: _number,
    AttributeType.TEXT_LIST: _str_list,
}

# Checks stricter than the column's type says.
_REFINED: dict[tuple[EntityKind, str], Check] = {
    (EntityKind.STRATEGIC_OBJECTIVE, "label"): _objective_label,
}

# Each kind's `attrs:` keys and how each is checked, read off the kind's detail table
# (soilapi.db.attributes): a column added to a model is a seed attribute with no entry here.
ATTRS: dict[EntityKind, dict[str, Check | Ref]] = {
    kind: {a.name: _REFINED.get((kind, a.name)) or _check_of(a) for a in attributes(kind)}
    for kind in EntityKind
}

# The attributes a record of the kind must have: its columns that are neither nullable nor
# defaulted.
REQUIRED_ATTRS: dict[EntityKind, tuple[str, ...]] = {
    kind: tuple(a.name for a in attributes(kind) if a.required) for kind in EntityKind
}

PROV_KEYS = {"lines", "quote", "evidence", "doc"}


def normalise(text: str) -> str:
    """Collapse every run of whitespace (no-break spaces included) to one space."""
    return WS_RE.sub(" ", text.replace("\u00a0", " ")).strip()


def load_texts(directory: Path = DOCUMENTS_DIR) -> dict[str, SourceText]:
    """Read the verbatim source documents, keyed by their three-digit prefix."""
    texts: dict[str, SourceText] = {}
    for path in sorted(directory.glob("*.txt")):
        raw = path.read_bytes()
        content = raw.decode("utf-8")
        key = path.name.split("_", 1)[0]
        texts[key] = SourceText(
            key=key,
            file_name=path.name,
            sha256=hashlib.sha256(raw).hexdigest(),
            lines=tuple(content.split("\n")),
        )
    return texts


class _Reader:
    """Reads one data file; collects errors instead of stopping at the first."""

    def __init__(self, file: str, doc: str, texts: Mapping[str, SourceText]) -> None:
        self.file = file
        self.doc = doc
        self.texts = texts
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{self.file}: {where}: {message}")

    def keys(self, where: str, raw: Mapping[str, Any], allowed: Iterable[str]) -> None:
        unknown = set(raw) - set(allowed)
        if unknown:
            self.fail(where, f"unknown keys {sorted(unknown)}")

    def prov(self, where: str, raw: Mapping[str, Any], prop: str | None = None) -> Provenance:
        doc = str(raw.get("doc", self.doc))
        lines = LINES_RE.match(str(raw.get("lines", "")))
        quote = raw.get("quote")
        evidence = raw.get("evidence", "stated")
        bad = Provenance(doc, 0, 0, "", Evidence.STATED)
        if doc not in self.texts:
            self.fail(where, f"unknown document {doc!r}")
            return bad
        if not lines:
            self.fail(where, f"lines must be 'N' or 'N-M', got {raw.get('lines')!r}")
            return bad
        start = int(lines.group(1))
        end = int(lines.group(2) or start)
        text = self.texts[doc]
        if not 1 <= start <= end <= len(text.lines):
            self.fail(where, f"lines {start}-{end} outside {doc} (1-{len(text.lines)})")
            return bad
        if not isinstance(quote, str) or not quote.strip():
            self.fail(where, "quote is required")
            return bad
        if normalise(quote) not in normalise(text.excerpt(start, end)):
            self.fail(where, f"quote not found in {doc}:{start}-{end}: {quote!r}")
        try:
            level = Evidence(evidence)
        except ValueError:
            self.fail(where, f"evidence must be stated/derived/inferred, got {evidence!r}")
            level = Evidence.STATED
        return Provenance(doc, start, end, quote, level, prop)

    def value(self, where: str, check: Check, raw: Any) -> Any:
        try:
            return check(raw)
        except ValueError as exc:
            self.fail(where, str(exc))
            return None

    def date(self, where: str, raw: Any) -> PartialDate | None:
        return None if raw is None else self.value(where, PartialDate.parse, raw)

    def opt_str(self, where: str, raw: Any) -> str | None:
        return None if raw is None else self.value(where, _str, raw)

    def opt_int(self, where: str, raw: Any) -> int | None:
        return None if raw is None else self.value(where, _int, raw)


ENTITY_KEYS = {
    "kind", "slug", "name", "acronym", "description", "country", "start", "end",
    "names", "identifiers", "sources", "attrs",
}  # fmt: skip


def _entity(r: _Reader, raw: Mapping[str, Any], index: int) -> EntitySpec | None:
    where = f"entities[{index}] {raw.get('slug', '?')}"
    r.keys(where, raw, ENTITY_KEYS)
    kind = r.value(where, _enum(EntityKind), raw.get("kind"))
    slug = raw.get("slug")
    if not isinstance(slug, str) or not vocab.SLUG.fullmatch(slug):
        r.fail(where, f"bad slug {slug!r}")
        return None
    name = r.value(where, _str, raw.get("name"))
    country = raw.get("country")
    if country is not None and not re.fullmatch(r"[A-Z]{2}", str(country)):
        r.fail(where, f"country must be ISO 3166-1 alpha-2, got {country!r}")
    sources = [
        r.prov(f"{where} sources[{i}]", s, s.get("property"))
        for i, s in enumerate(raw.get("sources") or [])
        if _is_map(r, where, s, PROV_KEYS | {"property"})
    ]
    if not sources:
        r.fail(where, "at least one source is required")
    names = [
        NameSpec(
            r.value(where, _str, n.get("value")),
            r.value(where, _enum(vocab.NameKind), n.get("kind")),
            r.prov(f"{where} names[{i}]", n),
        )
        for i, n in enumerate(raw.get("names") or [])
        if _is_map(r, where, n, PROV_KEYS | {"value", "kind"})
    ]
    identifiers = [
        IdentifierSpec(
            r.value(where, _enum(vocab.IdentifierScheme), n.get("scheme")),
            r.value(where, _str, n.get("value")),
            r.prov(f"{where} identifiers[{i}]", n),
        )
        for i, n in enumerate(raw.get("identifiers") or [])
        if _is_map(r, where, n, PROV_KEYS | {"scheme", "value"})
    ]
    attrs = _attrs(r, where, kind, raw.get("attrs") or {})
    if kind is None or name is None:
        return None
    return EntitySpec(
        file=r.file,
        kind=kind,
        slug=slug,
        name=name,
        acronym=r.opt_str(where, raw.get("acronym")),
        description=r.opt_str(where, raw.get("description")),
        country=country,
        start=r.date(where, raw.get("start")),
        end=r.date(where, raw.get("end")),
        names=names,
        identifiers=identifiers,
        sources=sources,
        attrs=attrs,
    )


def _is_map(r: _Reader, where: str, raw: Any, allowed: set[str]) -> bool:
    if not isinstance(raw, Mapping):
        r.fail(where, f"expected a mapping, got {raw!r}")
        return False
    r.keys(where, raw, allowed)
    return True


def _attrs(r: _Reader, where: str, kind: EntityKind | None, raw: Any) -> dict[str, Any]:
    if kind is None or not _is_map(r, f"{where} attrs", raw, set(ATTRS[kind])):
        return {}
    out: dict[str, Any] = {}
    for key, check in ATTRS[kind].items():
        if key not in raw or raw[key] is None:
            if key in REQUIRED_ATTRS.get(kind, ()):
                r.fail(where, f"attrs.{key} is required for {kind.value}")
            continue
        if isinstance(check, Ref):
            out[key] = r.value(f"{where} attrs.{key}", _str, raw[key])
        else:
            out[key] = r.value(f"{where} attrs.{key}", check, raw[key])
    return out


REL_KEYS = PROV_KEYS | {"s", "p", "o", "ordinal", "note", "start", "end", "rank"}
QTY_KEYS = PROV_KEYS | {
    "subject", "metric", "value", "qualifier", "unit", "as_of", "text", "note",
}  # fmt: skip
STM_KEYS = PROV_KEYS | {"subject", "property", "ordinal", "text"}
NOTE_KEYS = PROV_KEYS | {"subject", "code", "note"}
FILE_KEYS = {
    "document", "title", "genre", "published", "publisher", "notes_on_document",
    "entities", "mentions", "relations", "quantities", "statements", "quality_notes",
}  # fmt: skip


def _read_file(path: Path, ds: Dataset) -> list[str]:  # noqa: PLR0912 - one branch per section
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    doc = str(raw.get("document", ""))
    r = _Reader(path.name, doc, ds.texts)
    if doc not in ds.texts:
        return [f"{path.name}: document must name a source document, got {doc!r}"]
    r.keys("file", raw, FILE_KEYS)
    if "title" in raw:
        ds.documents[doc] = DocumentMeta(
            key=doc,
            title=r.value("title", _str, raw.get("title")),
            genre=r.value("genre", _str, raw.get("genre")),
            published=r.date("published", raw.get("published")),
            publisher=r.opt_str("publisher", raw.get("publisher")),
            notes=r.opt_str("notes_on_document", raw.get("notes_on_document")),
        )
    for i, e in enumerate(raw.get("entities") or []):
        spec = _entity(r, e, i) if _is_map(r, f"entities[{i}]", e, ENTITY_KEYS) else None
        if spec is None:
            continue
        if spec.slug in ds.entities:
            r.fail(f"entities[{i}]", f"slug {spec.slug!r} already defined in "
                   f"{ds.entities[spec.slug].file}")  # fmt: skip
        ds.entities[spec.slug] = spec
    for i, m in enumerate(raw.get("mentions") or []):
        if _is_map(r, f"mentions[{i}]", m, PROV_KEYS | {"slug", "property"}):
            prov = r.prov(f"mentions[{i}]", m, m.get("property"))
            ds.mentions.append((str(m.get("slug")), prov, path.name))
    for i, x in enumerate(raw.get("relations") or []):
        w = f"relations[{i}] {x.get('s')} {x.get('p')} {x.get('o')}"
        if _is_map(r, w, x, REL_KEYS):
            ds.relations.append(
                RelationSpec(
                    subject=str(x.get("s")),
                    predicate=r.value(w, _enum(vocab.Predicate), x.get("p")),
                    object=str(x.get("o")),
                    ordinal=r.opt_int(w, x.get("ordinal")),
                    note=r.opt_str(w, x.get("note")),
                    start=r.date(w, x.get("start")),
                    end=r.date(w, x.get("end")),
                    rank=r.value(w, _enum(vocab.Rank), x.get("rank", "preferred")),
                    prov=r.prov(w, x),
                    file=path.name,
                )
            )
    for i, x in enumerate(raw.get("quantities") or []):
        w = f"quantities[{i}] {x.get('subject')} {x.get('metric')}"
        if _is_map(r, w, x, QTY_KEYS):
            ds.quantities.append(
                QuantitySpec(
                    subject=str(x.get("subject")),
                    metric=r.value(w, _str, x.get("metric")),
                    value=r.value(w, _number, x.get("value")),
                    qualifier=r.value(w, _enum(vocab.Qualifier), x.get("qualifier", "exact")),
                    unit=r.opt_str(w, x.get("unit")),
                    as_of=r.date(w, x.get("as_of")),
                    text=r.opt_str(w, x.get("text")),
                    note=r.opt_str(w, x.get("note")),
                    prov=r.prov(w, x),
                    file=path.name,
                )
            )
    for i, x in enumerate(raw.get("statements") or []):
        w = f"statements[{i}] {x.get('subject')} {x.get('property')}"
        if _is_map(r, w, x, STM_KEYS):
            ds.statements.append(
                StatementSpec(
                    subject=str(x.get("subject")),
                    property=r.value(w, _enum(vocab.StatementProperty), x.get("property")),
                    ordinal=r.opt_int(w, x.get("ordinal")),
                    text=r.value(w, _str, x.get("text")),
                    prov=r.prov(w, x),
                    file=path.name,
                )
            )
    for i, x in enumerate(raw.get("quality_notes") or []):
        w = f"quality_notes[{i}] {x.get('code')}"
        if _is_map(r, w, x, NOTE_KEYS):
            subject = x.get("subject")
            ds.notes.append(
                QualityNoteSpec(
                    subject=None if subject is None else str(subject),
                    code=r.value(w, _str, x.get("code")),
                    note=r.value(w, _str, x.get("note")),
                    prov=r.prov(w, x),
                    file=path.name,
                )
            )
    return r.errors


def _check_refs(ds: Dataset) -> list[str]:
    errors: list[str] = []

    def need(where: str, slug: str | None, kinds: tuple[EntityKind, ...] = ()) -> None:
        if slug is None:
            return
        spec = ds.entities.get(slug)
        if spec is None:
            errors.append(f"{where}: unknown slug {slug!r}")
        elif kinds and spec.kind not in kinds:
            wanted = "/".join(k.value for k in kinds)
            errors.append(f"{where}: {slug!r} is a {spec.kind.value}, expected {wanted}")

    for spec in ds.entities.values():
        for key, check in ATTRS[spec.kind].items():
            if isinstance(check, Ref) and key in spec.attrs:
                need(f"{spec.file}: {spec.slug} attrs.{key}", spec.attrs[key], check.kinds)
    for slug, prov, file in ds.mentions:
        need(f"{file}: mention citing {prov.doc}:{prov.line_start}", slug)
    for rel in ds.relations:
        where = f"{rel.file}: relation {rel.subject} {rel.predicate} {rel.object}"
        need(where, rel.subject)
        need(where, rel.object)
    for q in ds.quantities:
        need(f"{q.file}: quantity {q.metric}", q.subject)
    for st in ds.statements:
        need(f"{st.file}: statement {st.property}", st.subject)
    for n in ds.notes:
        need(f"{n.file}: quality note {n.code}", n.subject)
    return errors


def load_dataset(data_dir: Path = DATA_DIR, documents_dir: Path = DOCUMENTS_DIR) -> Dataset:
    """Read and validate every data file; raise DatasetError listing all problems."""
    ds = Dataset(texts=load_texts(documents_dir))
    errors: list[str] = []
    for path in sorted(data_dir.glob("*.yaml")):
        errors.extend(_read_file(path, ds))
    errors.extend(_check_refs(ds))
    missing = sorted(set(ds.texts) - set(ds.documents))
    errors.extend(f"no data file gives the title of document {key}" for key in missing)
    if errors:
        raise DatasetError("\n".join(errors))
    return ds
