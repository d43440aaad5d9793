"""Sealing: new versions of the mutable records written since the last seal (ADR 0009).

Runs before every sync and bundle, in one transaction: the counter is taken
first (which queues other sealers and statement writers), then each record
named in `Dirty` is compared with its last sealed version. The fields that
differ take the record's clock; a record that is gone becomes a tombstone.
Keys written by a transaction that commits later are sealed next time.
"""

import uuid
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from kalan.core.stamps import instance_id
from kalan.sync import counter, registry
from kalan.sync.models import Dirty, Version
from kalan.sync.registry import Syncable


def field_values(entry: Syncable, row: Any) -> dict[str, str | None]:
    """The travelling fields of `row` as text (None for NULL)."""
    values: dict[str, str | None] = {}
    for field in entry.fields():
        value = field.value_from_object(row)
        values[field.attname] = None if value is None else field.value_to_string(row)
    return values


def scope_of(entry: Syncable, row: Any) -> uuid.UUID | None:
    name = entry.scope_field
    if name is None:
        return None
    value = getattr(row, name if name != "id" else "pk")
    return None if value is None else uuid.UUID(str(value))


def seal() -> int:
    """Make the new versions; returns how many were made."""
    with transaction.atomic():
        counter.take(1)  # queue here, before reading what changed
        return _seal(Dirty.objects.all())


def seal_record(entry: Syncable, record_id: uuid.UUID) -> None:
    """Seal one record now if it was written since its last seal, in the caller's
    transaction (before a version from elsewhere is merged into it)."""
    _seal(Dirty.objects.filter(model=entry.label, record_id=record_id))


def _seal(dirty: QuerySet[Dirty]) -> int:
    keys = list(dirty.values_list("id", "generation", "model", "record_id"))
    if not keys:
        return 0
    by_model: dict[str, list[uuid.UUID]] = defaultdict(list)
    for _key, _generation, label, record_id in keys:
        by_model[label].append(record_id)
    made: list[Version] = []
    for label, ids in by_model.items():
        entry = registry.find(label)
        if entry is not None and entry.kind is registry.Kind.MUTABLE:
            made += _versions(entry, ids)
    if made:
        for version, seq in zip(made, counter.take(len(made)), strict=True):
            version.seq = seq
        Version.objects.bulk_create([v for v in made if v.pk is None])
        Version.objects.bulk_update(
            [v for v in made if v.pk is not None],
            ["scope", "origin", "seq", "deleted", "fields", "clocks"],
        )
    # Only the generations read: a key written again meanwhile stays for the next seal.
    Dirty.objects.filter(
        id__in=[key for key, *_rest in keys], generation__in=[g for _k, g, *_rest in keys]
    ).delete()
    return len(made)


def _versions(entry: Syncable, ids: list[uuid.UUID]) -> list[Version]:
    me = instance_id()
    rows = {row.pk: row for row in entry.model._base_manager.filter(pk__in=ids)}
    sealed = {
        version.record_id: version
        for version in Version.objects.filter(model=entry.label, record_id__in=ids)
    }
    made = []
    for record_id in dict.fromkeys(ids):
        row, last = rows.get(record_id), sealed.get(record_id)
        if row is None:
            if last is not None and not last.deleted:  # deleted here: a tombstone
                last.deleted, last.origin, last.fields = True, me, {}
                made.append(last)
            continue
        values = field_values(entry, row)
        clock = [int(getattr(row, "hlc")), str(me)]  # noqa: B009  (any syncable model)
        if last is None:
            last = Version(model=entry.label, record_id=record_id, fields={}, clocks={})
        changed = [name for name, value in values.items() if last.fields.get(name, ...) != value]
        if not changed and not last.deleted and last.pk is not None:
            continue  # written without a change
        last.fields = {**last.fields, **{name: values[name] for name in changed}}
        last.clocks = {**last.clocks, **dict.fromkeys(changed, clock)}
        last.scope, last.origin, last.deleted = scope_of(entry, row), me, False
        made.append(last)
    return made
