"""The xAPI activity ids of exercise items: `<resource id>/items/<item id>`."""

import uuid
from typing import Final

from kalan.content.activities import node_id_of, resource_activity_id

ITEMS: Final = "/items/"


def item_activity_id(node_id: uuid.UUID, item_id: str) -> str:
    return f"{resource_activity_id(node_id)}{ITEMS}{item_id}"


def item_of(activity_id: str) -> tuple[uuid.UUID, str] | None:
    """(node id, item id) of an item's activity id; None for anything else."""
    found = node_id_of(activity_id)
    if found is None or found[1]:
        return None
    node_id = found[0]
    prefix = resource_activity_id(node_id) + ITEMS
    if not activity_id.startswith(prefix) or len(activity_id) == len(prefix):
        return None
    return node_id, activity_id[len(prefix) :]
