"""Contributors and the seed side by side: what a seed run leaves as contributors wrote it.

The loader computes the rows the dataset wants; the Keeper then puts back, into those wanted
rows, everything a contributor owns (soilapi.seed.history.Guard): the values of the fields a
contributor changed last, the whole sub-fact list of a field they changed, the records and
relations they created, and every row their rows point at (a foreign key would otherwise
delete or orphan them). Each seed value it overrules is reported as a Conflict.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from soilapi.db import models
from soilapi.seed.history import (
    SUBFACTS,
    Conflict,
    Guard,
    Names,
    Row,
    Tables,
    field_columns,
    field_value,
    items,
)
from soilapi.vocab import EntityKind

DETAIL_TABLES = {kind: str(model.__tablename__) for kind, model in models.DETAIL_MODELS.items()}
RETIRED = "(retired by the seed)"


class Keeper:
    """Edits `wanted` in place so that the loader's writes spare what contributors own."""

    def __init__(self, existing: Tables, wanted: Tables, guard: Guard, names: Names) -> None:
        self.existing = existing
        self.wanted = wanted
        self.guard = guard
        self.names = names
        self.conflicts: list[Conflict] = []
        self._owned = set(guard.contributed) | {
            target for target, actor in guard.creators.items() if guard.contributor_made(target)
        }

    def run(self) -> list[Conflict]:
        """Keep what contributors own; return the seed values that lost to theirs."""
        if self._owned:
            self._fields()
            self._lists()
            self._retirements()
        self._documents()
        self._references()
        return self.conflicts

    def label(self, target: uuid.UUID) -> str:
        """A record by its slug; a relation as "subject predicate object"."""
        relation = self.existing["relations"].get(target) or self.wanted["relations"].get(target)
        if relation is None:
            return self.names.slugs.get(target, str(target))
        ends = (self.names.value(relation["subject_id"]), self.names.value(relation["object_id"]))
        return f"{ends[0]} {self.names.value(relation['predicate'])} {ends[1]}"

    def _fields(self) -> None:
        for target in self._owned:
            if target in self.wanted["relations"]:
                self._keep_fields(target, "relations")
            entity = self.existing["entities"].get(target)
            if entity is not None and target in self.wanted["entities"]:
                self._keep_fields(target, "entities")
                self._keep_fields(target, DETAIL_TABLES[EntityKind(entity["kind"])])

    def _keep_fields(self, target: uuid.UUID, table: str) -> None:
        current = self.existing[table].get(target)
        desired = self.wanted[table].get(target)
        if current is None or desired is None:
            return
        kept = dict(desired)
        for name, columns in field_columns(current).items():
            if not self.guard.owns(target, name) or not all(c in desired for c in columns):
                continue
            if any(desired[c] != current[c] for c in columns):
                seed = field_value(desired, columns, self.names)
                mine = field_value(current, columns, self.names)
                self.conflicts.append(Conflict(self.label(target), name, seed, mine))
                kept.update({c: current[c] for c in columns})
        self.wanted[table][target] = kept

    def _lists(self) -> None:
        for table, (owner, name) in SUBFACTS.items():
            have = _by_owner(self.existing[table], owner, self._owned)
            want = _by_owner(self.wanted[table], owner, self._owned)
            for target in set(have) | set(want):
                if not self.guard.owns(target, name):
                    continue
                current, desired = have.get(target, []), want.get(target, [])
                mine, seed = items(current, owner, self.names), items(desired, owner, self.names)
                if mine != seed and target in self.wanted["entities"]:
                    self.conflicts.append(Conflict(self.label(target), name, seed, mine))
                for row in desired:
                    del self.wanted[table][row["id"]]
                self.wanted[table].update((row["id"], row) for row in current)

    def _retirements(self) -> None:
        for table in ("entities", "relations"):
            for target in self._owned & set(self.existing[table]):
                if target in self.wanted[table]:
                    continue
                if not self.guard.contributor_made(target):
                    changed = sorted(self.guard.contributed.get(target, ()))
                    self.conflicts.append(Conflict(self.label(target), RETIRED, None, changed))
                self._keep(table, target)

    def _documents(self) -> None:
        """A document a contributor cited (a web page, their own statement) is theirs."""
        for key, row in self.existing["source_documents"].items():
            if key not in self.wanted["source_documents"] and (
                row.get("url") is not None or row.get("stated_by_id") is not None
            ):
                self.wanted["source_documents"][key] = row

    def _references(self) -> None:
        """Keep each record and document that a kept row points at, until none is missing."""
        gone = {
            key
            for table in ("entities", "source_documents")
            for key in self.existing[table]
            if key not in self.wanted[table]
        }
        while gone:
            needed = {
                value
                for rows in self.wanted.values()
                for row in rows.values()
                for value in row.values()
                if isinstance(value, uuid.UUID) and value in gone
            }
            if not needed:
                return
            gone -= needed
            for target in needed:
                if target in self.existing["entities"]:
                    why = "contributors' rows point at it"
                    self.conflicts.append(Conflict(self.label(target), RETIRED, None, why))
                    self._keep("entities", target)
                else:
                    self.wanted["source_documents"][target] = self.existing["source_documents"][
                        target
                    ]

    def _keep(self, table: str, target: uuid.UUID) -> None:
        """Keep a record (with its detail row and sub-facts) or a relation as it is."""
        row = self.existing[table][target]
        self.wanted[table][target] = row
        if table != "entities":
            return
        detail = DETAIL_TABLES[EntityKind(row["kind"])]
        self.wanted[detail][target] = self.existing[detail][target]
        for sub, (owner, _) in SUBFACTS.items():
            self.wanted[sub].update(
                (key, r) for key, r in self.existing[sub].items() if r[owner] == target
            )


def _by_owner(
    rows: dict[uuid.UUID, Row], owner: str, among: set[uuid.UUID]
) -> dict[Any, list[Row]]:
    found: dict[Any, list[Row]] = defaultdict(list)
    for row in rows.values():
        if row[owner] in among:
            found[row[owner]].append(row)
    return found
