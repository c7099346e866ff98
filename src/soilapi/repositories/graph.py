"""Walks of the graph of relations: a record's neighbourhood, and the shortest path between two.

A walk is one recursive CTE that goes breadth first with one row per level: the records first
reached at that distance (`frontier`), for each the relation that reached it and the record it
came from, and every record reached so far (`seen`). A relation that leads back to a seen
record is not followed (the walk's cycle detection), so each record is walked from once, at
its shortest distance, and a walk costs what the records and relations within its reach
cost. A CTE with one row per path (PostgreSQL's CYCLE clause, or a path array per row) walks
every path instead, and paths multiply through busy records: at bench scale 100, two levels
around the ESP are 14,600 records but 16,000 paths (1.3 s against 0.1 s), three levels 95,000
records and 1.1 million paths (7.7 s against 0.4 s). The relations are read from their
indexes alone: each holds the other end, the rank and the id (see the model).

A walk stops expanding once it has reached `Walk.most` records and says so (`too_large`):
the caller refuses such a walk rather than answer with part of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, array, distinct_on

from soilapi import vocab
from soilapi.db import models as m
from soilapi.db.session import Reader
from soilapi.repositories.entities import relation_sides
from soilapi.repositories.paging import (
    ColumnElement,
    Slice,
    Window,
    compiled_once,
    cursor_values,
    keyset_condition,
    order_by,
    to_slice,
    window_form,
)
from soilapi.repositories.records import RELATIONS, Record

_ID = sa.Uuid(as_uuid=True)
_IDS = ARRAY(_ID)


@dataclass(frozen=True)
class Walk:
    """Which relations a walk follows from its start, how far, and how many records it may
    reach before it gives up."""

    direction: vocab.Direction
    predicates: tuple[vocab.Predicate, ...]
    depth: int  # most relations between the start and a record reached
    most: int


@dataclass(frozen=True)
class Reached:
    """A record within reach: its distance and the relation that first reached it, walked
    from its subject to its object (`outgoing`) or back."""

    node: uuid.UUID
    distance: int
    relation: uuid.UUID
    outgoing: bool


@dataclass
class Neighbourhood:
    """A page of the records within reach, how many there are in all, and whether the walk
    gave up (then nothing else is set)."""

    page: Slice
    total: int
    too_large: bool


@dataclass
class Path:
    """The steps of a shortest path, from the start (None: the target is not within reach),
    and whether the walk gave up before it could tell."""

    steps: list[Reached] | None
    too_large: bool


def _walk(direction: vocab.Direction, every: bool, *, target: bool) -> Any:
    """The walk from `:start` (of kind `:kind`) along relations of `:predicates`, to
    `:depth` levels, that stops expanding past `:most` records reached, and (with `target`)
    once `:target` has been reached."""
    entities = m.Entity.__table__
    start = entities.c.id
    none = sa.cast(array([], type_=_ID), _IDS)
    seed = sa.select(
        sa.literal(0).label("distance"),
        array([start]).label("frontier"),
        none.label("vias"),
        sa.cast(array([], type_=sa.Boolean), ARRAY(sa.Boolean)).label("outgoings"),
        none.label("froms"),
        array([start]).label("seen"),
    ).where(start == sa.bindparam("start", type_=_ID), entities.c.kind == sa.bindparam("kind"))
    walk = seed.cte("walk", recursive=True)
    sides = relation_sides(direction)
    seen = sa.func.unnest(walk.c.seen).table_valued("id").render_derived(name="seen")
    # Each record not seen before, once, with the first of the relations that reach it:
    # preferred readings first, then by id, so the same walk always gives the same answer.
    new = (
        sa.select(sides.c.far, sides.c.id, sides.c.outgoing, sides.c.near)
        .where(
            sides.c.near == sa.any_(walk.c.frontier),
            *_followed(sides, every),
            ~sa.exists().select_from(seen).where(seen.c.id == sides.c.far),
        )
        .ext(distinct_on(sides.c.far))
        .order_by(sides.c.far, (sides.c.rank == vocab.Rank.PREFERRED.value).desc(), sides.c.id)
        .correlate(walk)
        .lateral("new")
    )
    step = (
        sa.select(
            sa.func.array_agg(new.c.far).label("found"),
            sa.func.array_agg(new.c.id).label("vias"),
            sa.func.array_agg(new.c.outgoing).label("outgoings"),
            sa.func.array_agg(new.c.near).label("froms"),
        )
        .select_from(new)
        .lateral("step")
    )
    go_on = [
        walk.c.distance < sa.bindparam("depth", type_=sa.Integer),
        step.c.found.is_not(None),
        sa.func.cardinality(walk.c.seen) <= sa.bindparam("most", type_=sa.Integer),
    ]
    if target:
        go_on.append(sa.not_(sa.bindparam("target", type_=_ID) == sa.any_(walk.c.frontier)))
    level = (
        sa.select(
            walk.c.distance + 1,
            step.c.found,
            step.c.vias,
            step.c.outgoings,
            step.c.froms,
            sa.func.array_cat(walk.c.seen, step.c.found),
        )
        .select_from(walk.join(step, sa.true()))
        .where(*go_on)
    )
    return walk.union_all(level)


def _followed(sides: Any, every: bool) -> list[ColumnElement]:
    """The relations a walk follows: of the asked types (`every` type: no condition to test
    on each relation), and not readings set aside."""
    kept = [sides.c.rank != vocab.Rank.DEPRECATED.value]
    if not every:
        predicates = sa.bindparam("predicates", type_=ARRAY(sa.String))
        kept.append(sides.c.predicate == sa.any_(predicates))
    return kept


def _every(walk: Walk) -> bool:
    """Whether the walk follows relations of every type."""
    return set(walk.predicates) == set(vocab.Predicate)


def _too_large(walk: Any) -> ColumnElement:
    """Whether the walk reached more records than it may."""
    most = sa.bindparam("most", type_=sa.Integer)
    return sa.select(sa.func.max(sa.func.cardinality(walk.c.seen)) > most).scalar_subquery()


_SORT_LEN = 3  # distance, name, id


def _levels_of_page(walk: Any, window: Window) -> list[ColumnElement]:
    """Which levels of the walk can hold the page: from the cursor's level (`:level`) to the
    first level at which enough records follow it to fill the page, or back from there.

    The page is sorted by name within a level, so the records of each level it looks at are
    read from `entities`; a first page of the ESP's two levels at bench scale 100 needs the
    1,248 names of the first level, not the 14,610 of both. Only without a `kinds` filter,
    which would make the levels' sizes (their frontiers' lengths) overcount.
    """
    level = sa.bindparam("level", type_=sa.Integer)
    limit = sa.bindparam("limit", type_=sa.Integer)
    size = sa.func.cardinality(walk.c.frontier)
    backwards = window.from_end != window.descending
    ahead = walk.c.distance < level if backwards else walk.c.distance > level
    order = walk.c.distance.desc() if backwards else walk.c.distance
    running = (
        sa.select(walk.c.distance, sa.func.sum(size).over(order_by=order).label("upto"))
        .where(walk.c.distance > 0, ahead)
        .subquery("running")
    )
    enough = running.c.upto >= limit
    if backwards:
        last = sa.select(sa.func.max(running.c.distance)).where(enough).scalar_subquery()
        return [walk.c.distance <= level, walk.c.distance >= sa.func.coalesce(last, 1)]
    last = sa.select(sa.func.min(running.c.distance)).where(enough).scalar_subquery()
    depth = sa.bindparam("depth", type_=sa.Integer)
    return [walk.c.distance >= level, walk.c.distance <= sa.func.coalesce(last, depth)]


def _neighbourhood(direction: vocab.Direction, every: bool, kinds: bool, window: Window) -> Any:
    """Records within reach, one page in (distance, name, id) order, with the count of all
    of them and whether the walk gave up, in one row per record (one row with no record
    when the page is empty)."""
    walk = _walk(direction, every, target=False)
    entities = m.Entity.__table__
    reached = (
        sa.func.unnest(walk.c.frontier, walk.c.vias, walk.c.outgoings)
        .table_valued("node", "relation", "outgoing")
        .render_derived(name="reached")
    )
    conditions = [walk.c.distance > 0]
    if kinds:
        kind_list = sa.bindparam("kinds", type_=ARRAY(sa.String))
        conditions.append(entities.c.kind == sa.any_(kind_list))
    else:
        conditions += _levels_of_page(walk, window)
    listed = (
        sa.select(
            reached.c.node,
            reached.c.relation,
            reached.c.outgoing,
            walk.c.distance,
            entities.c.name,
        )
        .select_from(walk.join(reached, sa.true()).join(entities, entities.c.id == reached.c.node))
        .where(*conditions)
        .cte("listed")
    )
    if kinds:
        total = sa.select(sa.func.count()).select_from(listed)
    else:  # every record reached, whatever the page: the lengths of the levels
        size = sa.func.cardinality(walk.c.frontier)
        total = sa.select(sa.func.coalesce(sa.func.sum(size), 0)).where(walk.c.distance > 0)
    sort = [listed.c.distance, listed.c.name, listed.c.node]
    page = (
        sa.select(listed, *(c.label(f"k{i}") for i, c in enumerate(sort)))
        .where(*keyset_condition(sort, window, named=True))
        .order_by(*order_by(sort, window))
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery("page")
    )
    head = sa.select(
        sa.cast(total.scalar_subquery(), sa.Integer).label("total"),
        _too_large(walk).label("too_large"),
    ).subquery("head")
    keys = [page.c[f"k{i}"] for i in range(_SORT_LEN)]
    return (
        sa.select(
            head.c.total,
            head.c.too_large,
            page.c.node,
            page.c.distance,
            page.c.relation,
            page.c.outgoing,
            *keys,
        )
        .select_from(head.outerjoin(page, sa.true()))
        .order_by(*order_by(keys, window))
    )


def _step_at(walk: Any, at: ColumnElement) -> list[ColumnElement]:
    """The step of a walk's level that reached the record at position `at` of its frontier."""
    return [
        walk.c.distance.label("distance"),
        walk.c.frontier[at].label("node"),
        walk.c.vias[at].label("relation"),
        walk.c.outgoings[at].label("outgoing"),
        walk.c.froms[at].label("near"),
    ]


def _path(direction: vocab.Direction, every: bool) -> Any:
    """The shortest path from `:start` to `:target`: one row per step, nearest the start
    first, with the path's length (null: not within reach), whether the walk gave up, and
    whether the target is a record of `:target_kind` (else the row has only that)."""
    walk = _walk(direction, every, target=True)
    target = sa.bindparam("target", type_=_ID)
    # The step that reached the target, then back, level by level, to the start: each step
    # came from a record of the level before, the one at its `near` end.
    last = (
        sa.select(*_step_at(walk, sa.func.array_position(walk.c.frontier, target)))
        .where(walk.c.distance > 0, target == sa.any_(walk.c.frontier))
        .cte("steps", recursive=True)
    )
    earlier = walk.alias("earlier")
    back = (
        sa.select(*_step_at(earlier, sa.func.array_position(earlier.c.frontier, last.c.near)))
        .select_from(last.join(earlier, earlier.c.distance == last.c.distance - 1))
        .where(earlier.c.distance > 0)
    )
    steps = last.union_all(back)
    entities = m.Entity.__table__
    head = sa.select(
        sa.select(walk.c.distance)
        .where(target == sa.any_(walk.c.frontier))
        .scalar_subquery()
        .label("length"),
        _too_large(walk).label("too_large"),
        sa.exists()
        .where(entities.c.id == target, entities.c.kind == sa.bindparam("target_kind"))
        .label("target_found"),
    ).subquery("head")
    return (
        sa.select(head, steps.c.distance, steps.c.node, steps.c.relation, steps.c.outgoing)
        .select_from(head.outerjoin(steps, head.c.target_found))
        .order_by(steps.c.distance)
    )


def _values(walk: Walk, start: uuid.UUID, kind: vocab.EntityKind) -> dict[str, Any]:
    return {
        "start": start,
        "kind": kind.value,
        "predicates": [p.value for p in walk.predicates],  # unused when they are every one
        "depth": walk.depth,
        "most": walk.most + 1,  # `seen` holds the start too
    }


async def neighbourhood(
    reader: Reader,
    walk: Walk,
    start: uuid.UUID,
    kind: vocab.EntityKind,
    kinds: Sequence[vocab.EntityKind],
    window: Window,
) -> Neighbourhood | None:
    """A page of the records within `walk` of the record `start` (of `kind`), of `kinds`
    (empty: any), nearest first; None when there is no such record."""
    every = _every(walk)
    form = ("neighbourhood", walk.direction, every, bool(kinds), *window_form(window))
    statement, _ = compiled_once(
        form, lambda: (_neighbourhood(walk.direction, every, bool(kinds), window), 0)
    )
    values = _values(walk, start, kind) | cursor_values(window)
    values["limit"] = window.limit + 1
    if kinds:
        values["kinds"] = [k.value for k in kinds]
    else:  # the level of the cursor the page starts from (see _levels_of_page)
        values["level"] = _level(walk, window)
    rows = await reader.fetch(statement, values)
    head = rows[0]
    if head["too_large"] is None:  # no walk: the start is not a record of its kind
        return None
    if head["too_large"]:
        return Neighbourhood(Slice([], [], False, False), 0, True)
    found = [
        (
            Reached(r["node"], r["distance"], r["relation"], r["outgoing"]),
            *(r[f"k{i}"] for i in range(_SORT_LEN)),
        )
        for r in rows
        if r["node"] is not None
    ]
    return Neighbourhood(to_slice(found, _SORT_LEN, window), head["total"], False)


def _level(walk: Walk, window: Window) -> int:
    """The level a page starts from: its cursor's, else before the first or after the last."""
    backwards = window.from_end != window.descending
    cursor = window.before if backwards else window.after
    if cursor:
        return int(cursor[0])
    return walk.depth + 1 if backwards else 0


async def shortest_path(
    reader: Reader,
    walk: Walk,
    start: tuple[uuid.UUID, vocab.EntityKind],
    target: tuple[uuid.UUID, vocab.EntityKind],
) -> Path | None:
    """A shortest path from `start` to `target` (each an id and its kind) within `walk`;
    None when either is not a record of its kind."""
    every = _every(walk)
    statement, _ = compiled_once(
        ("path", walk.direction, every), lambda: (_path(walk.direction, every), 0)
    )
    values = _values(walk, *start) | {"target": target[0], "target_kind": target[1].value}
    rows = await reader.fetch(statement, values)
    head = rows[0]
    if head["too_large"] is None or not head["target_found"]:
        return None
    if head["length"] is None:
        return Path(None, bool(head["too_large"]))
    steps = [
        Reached(r["node"], r["distance"], r["relation"], r["outgoing"])
        for r in rows
        if r["node"] is not None
    ]
    return Path(steps, False)


async def relations_by_ids(reader: Reader, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Record]:
    """Relations by id, in one statement."""
    return await RELATIONS.load(reader, ids)
