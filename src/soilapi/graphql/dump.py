"""The dump's IDs and cursor, written as the API writes them (each has one definition)."""

from __future__ import annotations

import uuid

from soilapi.graphql import ids
from soilapi.graphql.pagination import feed_cursor
from soilapi.graphql.types.node import TYPE_NAMES
from soilapi.services.export import Encoders
from soilapi.vocab import EntityKind


def global_id(kind: EntityKind, key: uuid.UUID) -> str:
    """The `id` GraphQL gives the record, which `node(id:)` resolves."""
    return ids.encode(TYPE_NAMES[kind], key)


def relation_id(key: uuid.UUID) -> str:
    """The `id` GraphQL gives a relation (`relationRetire` takes it)."""
    return ids.encode("Relation", key)


ENCODERS = Encoders(global_id=global_id, cursor=feed_cursor, relation_id=relation_id)
