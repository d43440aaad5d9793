"""The xAPI activity id of a library resource, and back.

Every resource is the activity `https://kalan.invalid/resources/<node id>`
(a reserved domain, RFC 2606: an identifier, never fetched). Node ids are the
same on every instance, so a learner's records name a resource identically on
the hub, the district server and the national one. Parts inside a resource
(an H5P sub-question, a cmi5 AU) extend the id after the node id, e.g.
`.../resources/<node id>?subContentId=...`.
"""

import uuid
from typing import Final

RESOURCE_PREFIX: Final = "https://kalan.invalid/resources/"
_UUID_LENGTH: Final = 36


def resource_activity_id(node_id: uuid.UUID) -> str:
    return f"{RESOURCE_PREFIX}{node_id}"


def node_id_of(activity_id: str) -> tuple[uuid.UUID, bool] | None:
    """(node id, is the resource itself) for a resource's activity id or a part of it."""
    if not activity_id.startswith(RESOURCE_PREFIX):
        return None
    rest = activity_id[len(RESOURCE_PREFIX) :]
    try:
        node_id = uuid.UUID(rest[:_UUID_LENGTH])
    except ValueError:
        return None
    if len(rest) > _UUID_LENGTH and rest[_UUID_LENGTH] not in "?#/":
        return None
    return node_id, len(rest) == _UUID_LENGTH
