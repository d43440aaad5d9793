"""Merging two versions of a mutable record, field by field (ADR 0009). Pure.

Each field keeps the value whose clock `(hlc, origin)` is greater: the result does
not depend on the order versions arrive in, and merging a version again changes
nothing. A deletion wins over any edit. Two different values of one field, set by
two instances, are a conflict: the merge says which value was kept and which lost.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Clock = tuple[int, str]  # (hlc, origin instance id as text)


@dataclass(frozen=True)
class State:
    """What an instance knows of a record: its fields (as text), their clocks, deleted."""

    fields: Mapping[str, str | None]
    clocks: Mapping[str, Clock]
    deleted: bool = False


@dataclass(frozen=True)
class Lost:
    field: str
    kept: str | None
    kept_clock: Clock
    lost: str | None
    lost_clock: Clock


@dataclass(frozen=True)
class Merged:
    state: State
    conflicts: list[Lost] = field(default_factory=list)


def clock_of(value: Any) -> Clock:
    """A clock from its JSON form `[hlc, origin]`."""
    hlc, origin = value
    return int(hlc), str(origin)


def merge(local: State, incoming: State) -> Merged:
    """The record after `incoming` reaches an instance that holds `local`."""
    if local.deleted or incoming.deleted:
        return Merged(State({}, {}, deleted=True))
    fields: dict[str, str | None] = {}
    clocks: dict[str, Clock] = {}
    conflicts: list[Lost] = []
    for name in sorted(set(local.fields) | set(incoming.fields)):
        if name not in incoming.fields:
            fields[name], clocks[name] = local.fields[name], local.clocks[name]
            continue
        if name not in local.fields:
            fields[name], clocks[name] = incoming.fields[name], incoming.clocks[name]
            continue
        ours, theirs = local.clocks[name], incoming.clocks[name]
        # Equal clocks (two server processes of one instance in one millisecond): the value
        # decides, so that every instance keeps the same one.
        mine = (ours, _order(local.fields[name]))
        winner, loser = (
            (local, incoming)
            if mine >= (theirs, _order(incoming.fields[name]))
            else (incoming, local)
        )
        fields[name], clocks[name] = winner.fields[name], winner.clocks[name]
        if winner.fields[name] != loser.fields[name] and ours[1] != theirs[1]:
            conflicts.append(
                Lost(
                    name,
                    winner.fields[name],
                    winner.clocks[name],
                    loser.fields[name],
                    loser.clocks[name],
                )
            )
    return Merged(State(fields, clocks), conflicts)


def _order(value: str | None) -> tuple[bool, str]:
    return value is not None, value or ""
