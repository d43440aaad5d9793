"""The progress projection: statements in, ResourceProgress rows out.

Registered with the LRS (apps.py), it receives each batch of stored statements
in the transaction that stores them. Rows of the batch's (learner, resource)
pairs are made if missing, then locked (SELECT ... FOR UPDATE on PostgreSQL;
SQLite's writers already queue on BEGIN IMMEDIATE), folded (folding.py) and
written back in one statement. A voided statement makes its pair be computed
again from the learner's remaining statements.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import Final

from django.db import connection

from kalan.content.activities import node_id_of
from kalan.content.models import ContentNode
from kalan.core import sql
from kalan.core.bulk import insert_rows
from kalan.lrs.indexing import CONTEXT_ACTIVITY_KINDS
from kalan.lrs.projections import StoredStatement, statements_of
from kalan.progress.folding import Progress, Resource
from kalan.progress.models import ResourceProgress

_ROW_NAMESPACE: Final = uuid.UUID("5d1c3c7e-9f0e-5a55-8a4c-70726f677265")

Pair = tuple[uuid.UUID, uuid.UUID]  # (learner, resource)

# Read for every statement stored: by hand-written SQL (kalan/core/sql.py).
_ROWS = sql.ModelRows(ResourceProgress)


def row_id(user_id: uuid.UUID, node_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_ROW_NAMESPACE, f"{user_id}/{node_id}")


def _context_activity_ids(statement: dict[str, object]) -> Iterable[str]:
    context = statement.get("context")
    groups = context.get("contextActivities") if isinstance(context, dict) else None
    if not isinstance(groups, dict):
        return
    for kind in CONTEXT_ACTIVITY_KINDS:
        for activity in groups.get(kind) or ():
            yield str(activity.get("id", ""))


def resource_of(statement: dict[str, object]) -> tuple[uuid.UUID, bool] | None:
    """The resource a statement is about, and whether about the resource itself."""
    target = statement.get("object")
    if isinstance(target, dict) and target.get("objectType", "Activity") == "Activity":
        found = node_id_of(str(target.get("id", "")))
        if found:
            return found
    for activity_id in _context_activity_ids(statement):
        found = node_id_of(activity_id)
        if found:
            return found[0], False
    return None


class ResourceProgressProjector:
    name = "progress"

    def reset(self) -> None:
        ResourceProgress.objects.all().delete()

    def apply(
        self, statements: Sequence[StoredStatement], voided: Sequence[StoredStatement]
    ) -> None:
        again = {pair for pair, _direct, _s in _about(voided)}
        fold = [item for item in _about(statements) if item[0] not in again]
        if fold:
            _fold(fold)
        if again:
            _compute_again(again)


def _about(statements: Iterable[StoredStatement]) -> list[tuple[Pair, bool, StoredStatement]]:
    found = []
    for stored in statements:
        if stored.user_id is None:
            continue
        resource = resource_of(stored.statement)
        if resource is not None:
            found.append(((stored.user_id, resource[0]), resource[1], stored))
    return found


def _resources(node_ids: set[uuid.UUID]) -> dict[uuid.UUID, Resource]:
    if not node_ids:
        return {}
    rows = ContentNode.objects.filter(id__in=node_ids).values_list("id", "duration", "page_count")
    return {node_id: Resource(duration, page_count) for node_id, duration, page_count in rows}


def _row_key(row: ResourceProgress) -> uuid.UUID:
    return row.id


def _locked_rows(
    items: Sequence[tuple[Pair, bool, StoredStatement]],
) -> dict[Pair, ResourceProgress]:
    """The pairs' rows, made if missing, locked until the transaction ends.

    On PostgreSQL missing rows are first inserted empty, so that two
    transactions folding into a new row queue on its lock instead of both
    writing it. SQLite's writers already queue on the database.
    """
    placeholders: dict[uuid.UUID, ResourceProgress] = {}
    for (user_id, node_id), _direct, stored in items:
        key = row_id(user_id, node_id)
        if key not in placeholders:
            placeholders[key] = ResourceProgress(
                id=key,
                user_id=user_id,
                node_id=node_id,
                school_id=stored.school_id,
                first_at=stored.timestamp,
                last_at=stored.timestamp,
            )
    keys = sorted(placeholders)
    among = f'"id" IN ({sql.marks(len(keys))})'
    params = [sql.uuid_param(key) for key in keys]
    if connection.vendor == "sqlite":
        found = {row.id: row for row in _ROWS.where(among, params)}
        rows = [found.get(key, placeholder) for key, placeholder in placeholders.items()]
    else:
        # Rows are made and locked in id order, the same in every transaction: no deadlock.
        made = sorted(placeholders.values(), key=_row_key)
        insert_rows(made, ignore_conflicts=True)
        rows = _ROWS.where(f'{among} ORDER BY "id" FOR UPDATE', params)
    return {(row.user_id, row.node_id): row for row in rows}


def _progress_of(row: ResourceProgress) -> Progress:
    return Progress.from_row(
        row.detail,
        first_at=row.first_at,
        last_at=row.last_at,
        time_ms=row.time_spent_ms,
        resume=row.resume,
    )


def _fold(items: Sequence[tuple[Pair, bool, StoredStatement]]) -> None:
    rows = _locked_rows(items)
    states = {pair: _progress_of(row) for pair, row in rows.items()}
    for pair, direct, stored in items:
        states[pair].take(
            stored.statement, statement_id=str(stored.id), at=stored.timestamp, direct=direct
        )
    # The library's sizes, only where the statements did not say how long the media is.
    resources = _resources({pair[1] for pair, state in states.items() if state.needs_resource})
    for pair, state in states.items():
        row = rows[pair]
        row.status, row.progress, row.completed_at = state.outcome(
            resources.get(pair[1], Resource())
        )
        row.first_at, row.last_at = state.first_at, state.last_at
        row.time_spent_ms = state.time_ms
        row.resume = state.resume
        row.detail = state.detail()
    written = sorted(rows.values(), key=_row_key)
    insert_rows(written, update_on_conflict=True)


def _compute_again(pairs: set[Pair]) -> None:
    """Rows of `pairs` computed afresh from each learner's statements that remain."""
    ResourceProgress.objects.filter(id__in=[row_id(u, n) for u, n in pairs]).delete()
    items = []
    for user_id in {user for user, _node in pairs}:
        items += [item for item in _about(statements_of(user_id)) if item[0] in pairs]
    if items:
        _fold(items)
