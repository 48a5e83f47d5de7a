"""Global ids (``base64("Order:42")``) to database ids, with client errors for bad input."""

from __future__ import annotations

from strawberry import relay

from contract.errors import BadUserInputError
from datasources.pagination import MAX_ID


def node_id_of(global_id: relay.GlobalID, type_name: str) -> str:
    """The node id inside a global id that must name ``type_name``; parsed by resolve_nodes."""
    if global_id.type_name != type_name:
        raise BadUserInputError(
            f"Expected an id of a {type_name}, got one of a {global_id.type_name}"
        )
    return global_id.node_id


def parse_node_id(node_id: str) -> int:
    try:
        value = int(node_id)
    except ValueError:
        raise BadUserInputError("Malformed id") from None
    if not 0 < value <= MAX_ID:
        raise BadUserInputError("Malformed id")
    return value
