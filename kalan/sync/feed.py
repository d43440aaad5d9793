"""What one instance sends another: the versions above the other's positions (ADR 0009).

A scope is a school id, or "" for national records (admin areas). Versions come
in the order records must arrive (the registry's model order), then by
`(origin, seq)`, so that a transfer cut short can resume after the last version
applied (`after`).
"""

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from kalan.core.stamps import instance_id
from kalan.sync import counter, registry
from kalan.sync.models import Position, Version

NATIONAL = ""


@dataclass(frozen=True)
class Record:
    """One version on the wire."""

    model: str
    record_id: str
    scope: str
    origin: str
    seq: int
    deleted: bool
    fields: dict[str, str | None]
    clocks: dict[str, list[Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "m": self.model,
            "id": self.record_id,
            "sc": self.scope,
            "o": self.origin,
            "s": self.seq,
            "d": self.deleted,
            "f": self.fields,
            "c": self.clocks,
        }


def scope_key(scope: uuid.UUID | None) -> str:
    return NATIONAL if scope is None else str(scope)


def positions(scope: str) -> dict[str, int]:
    """This instance's positions in `scope`: origin -> highest seq held. Its own is its
    counter: every version it made up to that value has committed (counter.py)."""
    held = {
        str(origin): int(seq)
        for origin, seq in Position.objects.filter(scope=scope).values_list("origin", "seq")
    }
    held[str(instance_id())] = counter.current()
    return held


def _above(held: Mapping[str, int]) -> Q:
    newer = Q(pk__in=[])
    for origin, seq in held.items():
        newer |= Q(origin=origin, seq__gt=seq)
    return newer | ~Q(origin__in=list(held))


def records(scope: str, held: Mapping[str, int], *, batch: int = 500) -> Iterator[Record]:
    """Every version in `scope` the holder of `held` lacks, in arrival order, read in
    batches (bounded memory)."""
    in_scope = Q(scope__isnull=True) if scope == NATIONAL else Q(scope=scope)
    for entry in registry.registered():
        if entry.kind is not registry.Kind.MUTABLE:
            continue
        rows = Version.objects.filter(in_scope, _above(held), model=entry.label).order_by(
            "origin", "seq"
        )
        last: tuple[uuid.UUID, int] | None = None
        while True:
            page = rows
            if last is not None:
                page = rows.filter(Q(origin__gt=last[0]) | Q(origin=last[0], seq__gt=last[1]))
            found = list(page[:batch])
            for version in found:
                yield Record(
                    model=version.model,
                    record_id=str(version.record_id),
                    scope=scope,
                    origin=str(version.origin),
                    seq=int(version.seq),
                    deleted=version.deleted,
                    fields=dict(version.fields),
                    clocks=dict(version.clocks),
                )
            if len(found) < batch:
                break
            last = (found[-1].origin, found[-1].seq)
