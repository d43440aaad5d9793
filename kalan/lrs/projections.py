"""Projections of statements: what apps above the LRS keep up to date from them.

An app registers a `Projector` when it starts (AppConfig.ready). The LRS hands
every projector the statements it has just stored, in the transaction that
stores them, so a projection never misses a statement and never counts one
that was not kept; and the statements that a new voiding statement voided, so
their contribution can be taken back. `rebuild()` empties every projection and
feeds it every statement again, in stored order: the result must be the same
rows, which is how projections are proved right.
"""

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kalan.lrs.models import Statement

REBUILD_BATCH = 2000


@dataclass(frozen=True)
class StoredStatement:
    id: uuid.UUID
    user_id: uuid.UUID | None  # the Kalan person the actor is, if one of ours
    school_id: uuid.UUID | None
    timestamp: dt.datetime
    statement: dict[str, Any]


class Projector(Protocol):
    name: str

    def reset(self) -> None:
        """Empty the projection (before a rebuild)."""

    def apply(
        self, statements: Sequence[StoredStatement], voided: Sequence[StoredStatement]
    ) -> None:
        """Take in new statements, and take back the ones that were just voided."""


_projectors: list[Projector] = []


def register(projector: Projector) -> None:
    if all(existing.name != projector.name for existing in _projectors):
        _projectors.append(projector)


def registered() -> list[Projector]:
    return list(_projectors)


def project(statements: Sequence[StoredStatement], voided: Sequence[StoredStatement]) -> None:
    if not statements and not voided:
        return
    for projector in _projectors:
        projector.apply(statements, voided)


_COLUMNS = ("id", "user_id", "school_id", "timestamp", "body")


def _stored(rows: Sequence[Sequence[Any]]) -> list[StoredStatement]:
    return [StoredStatement(row[0], row[1], row[2], row[3], json.loads(row[4])) for row in rows]


def voided_statements(ids: Sequence[uuid.UUID]) -> list[StoredStatement]:
    rows = Statement.objects.filter(id__in=ids).values_list(*_COLUMNS)
    return _stored(list(rows))


def statements_of(user_id: uuid.UUID) -> list[StoredStatement]:
    """A person's statements that are not voided, in stored order."""
    rows = Statement.objects.filter(user_id=user_id, voided=False).order_by("stored_us", "id")
    return _stored(list(rows.values_list(*_COLUMNS)))


def every_statement(batch: int = REBUILD_BATCH) -> Iterator[list[StoredStatement]]:
    """Every statement that is not voided, in stored order, a batch at a time."""
    after: tuple[int, uuid.UUID] | None = None
    while True:
        rows = Statement.objects.filter(voided=False)
        if after is not None:
            rows = rows.filter(stored_us__gte=after[0]).exclude(
                stored_us=after[0], id__lte=after[1]
            )
        page = list(rows.order_by("stored_us", "id").values_list(*_COLUMNS, "stored_us")[:batch])
        if not page:
            return
        after = (page[-1][5], page[-1][0])
        yield _stored([row[:5] for row in page])


def rebuild(projectors: Sequence[Projector] | None = None) -> int:
    """Empty the projections and project every statement again; returns how many."""
    chosen = list(projectors if projectors is not None else _projectors)
    for projector in chosen:
        projector.reset()
    count = 0
    for batch in every_statement():
        for projector in chosen:
            projector.apply(batch, [])
        count += len(batch)
    return count
