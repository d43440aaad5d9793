"""Who hears of a learner's SCORM commits: the LRS turns each into statements.

The content app keeps a SCORM course's run-time data (RuntimeState) but knows
nothing of learning records, which live in an app above it. That app calls
`listen()` when it starts; `committed()` is called in the transaction that
saves the data, so the data and its statements are kept, or lost, together.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScormCommit:
    user_id: uuid.UUID
    node_id: uuid.UUID
    version: str  # "1.2" or "2004"
    before: dict[str, Any]  # the saved cmi before this commit ({} at first)
    after: dict[str, Any]  # the cmi this commit saves
    terminated: bool
    was_terminated: bool = False  # the saved data was already a session's end


Listener = Callable[[ScormCommit], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def committed(commit: ScormCommit) -> None:
    for listener in _listeners:
        listener(commit)
