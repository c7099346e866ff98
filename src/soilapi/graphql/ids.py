"""Opaque global IDs: base64url of "TypeName:uuid"; clients must never parse them."""

import base64
import binascii
import uuid

from soilapi.errors import InvalidId

MAX_NODES = 100  # most global IDs one `nodes` request may look up


def encode(type_name: str, entity_id: uuid.UUID) -> str:
    """Global ID of a record."""
    raw = f"{type_name}:{entity_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(global_id: str) -> tuple[str, uuid.UUID]:
    """Type name and id of a global ID; raises InvalidId with a reason otherwise."""
    if not global_id or len(global_id) > 200:
        raise InvalidId(f"{global_id[:40]!r} is not a soilapi ID")
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw_id = base64.urlsafe_b64decode(padded).decode().partition(":")
        return type_name, uuid.UUID(raw_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidId(
            f"{global_id[:40]!r} is not a soilapi ID: use an `id` value returned by this API"
        ) from None
