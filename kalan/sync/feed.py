"""What one instance sends another: the versions above the other's positions (ADR 0009).

A scope is a school id, or "" for national records (admin areas, people of no
school). Versions come in the order records must arrive (the registry's model
order), then by `(origin, seq)`: the order a transfer cut short can resume in.
Mutable records are served once sealed (seal.py), statements as soon as stored.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import Q, QuerySet

from kalan.core.stamps import instance_id
from kalan.sync import counter, registry
from kalan.sync.models import Position, Version
from kalan.sync.seal import field_values
from kalan.sync.wire import Record

__all__ = ["NATIONAL", "Record", "positions", "records"]

NATIONAL = ""


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
    for entry in registry.registered():
        if entry.kind is registry.Kind.MUTABLE:
            in_scope = Q(scope__isnull=True) if scope == NATIONAL else Q(scope=scope)
            versions = Version.objects.filter(in_scope, model=entry.label)
            for version in _pages(versions.filter(_above(held)), batch):
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
            continue
        rows = entry.model._base_manager.filter(_above(held), **_row_scope(entry, scope))
        for row in _pages(rows, batch):
            yield Record(
                model=entry.label,
                record_id=str(row.pk),
                scope=scope,
                origin=str(row.origin),
                seq=int(row.seq),
                deleted=False,
                fields=field_values(entry, row),
                clocks={},
            )


def _row_scope(entry: registry.Syncable, scope: str) -> dict[str, Any]:
    name = entry.scope_field
    if name is None:
        return {} if scope == NATIONAL else {"pk__in": []}
    return {f"{name}__isnull": True} if scope == NATIONAL else {name: scope}


def _pages(rows: QuerySet[Any], batch: int) -> Iterator[Any]:
    """`rows` in (origin, seq) order, `batch` at a time."""
    ordered = rows.order_by("origin", "seq")
    last: tuple[Any, int] | None = None
    while True:
        page = ordered
        if last is not None:
            page = ordered.filter(Q(origin__gt=last[0]) | Q(origin=last[0], seq__gt=last[1]))
        found = list(page[:batch])
        yield from found
        if len(found) < batch:
            return
        last = (found[-1].origin, found[-1].seq)
