"""64-bit keys for the values statements and documents are looked up by.

A filter value (an agent's identifier, an activity id, a verb id, a
registration) can be thousands of characters long; the index keeps a 64-bit
BLAKE2b of (kind, value) instead, so every index row has the same small size.
Two different values share a key with a probability of about n²/2⁶⁵: for a
million distinct values, one in thirty million.
"""

import hashlib
from typing import Final

AGENT: Final = "agent"  # the actor, or an Agent/Group object
RELATED_AGENT: Final = "agent*"  # any agent of the statement (related_agents=true)
ACTIVITY: Final = "activity"  # the object, when it is an Activity
RELATED_ACTIVITY: Final = "activity*"  # any activity (related_activities=true)
VERB: Final = "verb"
REGISTRATION: Final = "registration"


def index_key(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"{kind}\0{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def document_set_key(kind: str, activity_id: str, agent: str, registration: str) -> int:
    return index_key(kind, f"{activity_id}\0{agent}\0{registration}")


def document_key(set_key: int, document_id: str) -> int:
    return index_key(str(set_key), document_id)
