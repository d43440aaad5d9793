"""Taking in another instance's versions (ADR 0009).

Each mutable version is merged field by field with what this instance holds
(merge.py) and the record is written without stamping it again: the row keeps
the clock of its latest field. When the merge keeps some of this instance's
own values, the result is sealed as a new version of this instance, so that a
third instance learns both sides. A record that cannot be written (a value the
model refuses, a duplicate username) stops the transfer with `ApplyError`
naming it; the caller's transaction then writes nothing of the chunk.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction

from kalan.core.errors import KalanError
from kalan.core.stamps import clock, instance_id
from kalan.sync import counter, registry
from kalan.sync.feed import Record
from kalan.sync.merge import State, clock_of, merge
from kalan.sync.models import Conflict, Position, Version
from kalan.sync.registry import Syncable
from kalan.sync.seal import seal_record


class ApplyError(KalanError):
    """A record this instance could not take in (one line, naming it)."""


@dataclass
class Applied:
    written: int = 0  # records created, changed or deleted here
    unchanged: int = 0  # already held (or older than what is held)
    conflicts: int = 0
    by_model: dict[str, int] = field(default_factory=dict)


def apply(records: Iterable[Record]) -> Applied:
    """Merge `records` in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("records are applied inside a transaction")
    done = Applied()
    tables: set[str] = set()
    waiting: list[Record] = []  # immutable records, handed to their app together
    for record in records:
        entry = registry.find(record.model)
        if entry is None:
            raise ApplyError(
                f"{record.model} {record.record_id}: this instance does not know that kind of"
                " record; update Kalan here to the other instance's version"
            )
        if waiting and waiting[0].model != record.model:
            _receive(waiting, done)
            waiting = []
        if entry.kind is registry.Kind.IMMUTABLE:
            waiting.append(record)
        else:
            _apply_one(entry, record, done)
        tables.add(entry.model._meta.db_table)
    if waiting:
        _receive(waiting, done)
    try:  # references are checked at commit: here, so that the error can name the record
        transaction.get_connection().check_constraints(table_names=sorted(tables))
    except IntegrityError as error:
        raise ApplyError(f"a record refers to one that never arrived: {_reason(error)}") from error
    return done


def _receive(waiting: list[Record], done: Applied) -> None:
    entry = registry.find(waiting[0].model)
    assert entry is not None  # apply() found it
    assert entry.receive is not None  # registry.register checks it for immutable models
    try:
        with transaction.atomic():
            new = entry.receive(waiting)
    except (ValidationError, DatabaseError, ValueError, TypeError, KeyError) as error:
        raise ApplyError(f"{entry.label}: {_reason(error)}") from error
    done.written += new
    done.unchanged += len(waiting) - new
    if new:
        done.by_model[entry.label] = done.by_model.get(entry.label, 0) + new


def _state(version: Version) -> State:
    clocks = {name: clock_of(value) for name, value in version.clocks.items()}
    return State(dict(version.fields), clocks, version.deleted)


def _apply_one(entry: Syncable, record: Record, done: Applied) -> None:
    record_id = uuid.UUID(record.record_id)
    incoming = State(
        dict(record.fields),
        {name: clock_of(value) for name, value in record.clocks.items()},
        record.deleted,
    )
    for _name, (hlc, _origin) in incoming.clocks.items():
        clock().observe(hlc)  # later changes here sort after what was seen
    # Lock the row (PostgreSQL; SQLite's writers already queue) and seal what was written
    # here since the last seal, so that the merge keeps it.
    list(entry.model._base_manager.select_for_update().filter(pk=record_id).values_list("pk"))
    seal_record(entry, record_id)
    held = Version.objects.filter(model=entry.label, record_id=record_id).first()
    if held is None:
        merged_state, lost = incoming, []
    else:
        merged = merge(_state(held), incoming)
        merged_state, lost = merged.state, merged.conflicts
    if not merged_state.deleted and _refers_to_deleted(entry, merged_state):
        # Deleted here while the other instance wrote under it: the deletion wins, as it
        # did for the record itself (and travels on as this instance's version).
        merged_state, lost = State({}, {}, deleted=True), []
    if held is not None and merged_state == _state(held):
        done.unchanged += 1
        return
    try:
        with transaction.atomic():
            _write_row(entry, record_id, merged_state)
    except (ValidationError, DatabaseError, ValueError, TypeError) as error:
        raise ApplyError(f"{record.model} {record.record_id}: {_reason(error)}") from error
    ours = merged_state != incoming  # some of this instance's values were kept
    version = held or Version(model=entry.label, record_id=record_id)
    version.scope = uuid.UUID(record.scope) if record.scope else None
    version.deleted = merged_state.deleted
    version.fields = dict(merged_state.fields)
    version.clocks = {name: list(value) for name, value in merged_state.clocks.items()}
    if ours:
        version.origin, version.seq = instance_id(), counter.take(1)[0]
    else:
        version.origin, version.seq = uuid.UUID(record.origin), record.seq
    version.save()
    for loss in lost:
        Conflict.objects.create(
            model=entry.label,
            record_id=record_id,
            scope=version.scope,
            field=loss.field,
            kept=loss.kept,
            kept_origin=uuid.UUID(loss.kept_clock[1]),
            lost=loss.lost,
            lost_origin=uuid.UUID(loss.lost_clock[1]),
        )
    done.written += 1
    done.conflicts += len(lost)
    done.by_model[entry.label] = done.by_model.get(entry.label, 0) + 1


def _refers_to_deleted(entry: Syncable, state: State) -> bool:
    for travelling in entry.fields():
        target = state.fields.get(travelling.attname)
        if not travelling.many_to_one or target is None:
            continue
        label = str(travelling.related_model._meta.label_lower)
        if Version.objects.filter(model=label, record_id=target, deleted=True).exists():
            return True
    return False


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines) if lines else type(error).__name__  # PostgreSQL's DETAIL names the key


def _write_row(entry: Syncable, record_id: uuid.UUID, state: State) -> None:
    model = entry.model
    rows = model._base_manager.filter(pk=record_id)
    if state.deleted:
        for row in rows:
            row.delete()  # cascades as it did where the record was deleted
        return
    values: dict[str, Any] = {}
    by_attname = {f.attname: f for f in entry.fields()}
    for name, text in state.fields.items():
        travelling = by_attname.get(name)
        if travelling is None:
            raise ValueError(f"the field {name} is unknown here")
        values[name] = None if text is None else travelling.to_python(text)
    if state.clocks:
        hlc, origin = max(state.clocks.values())
        values["hlc"], values["origin"] = hlc, uuid.UUID(origin)
    if rows.exists():
        # The plain QuerySet update: the row keeps the clock it came with.
        models.QuerySet.update(rows, **values)
        return
    row = model(pk=record_id, **values)
    models.Model.save(row, force_insert=True)  # not stamped again, not marked as changed here


def advance(scope: str, held_there: Mapping[str, int]) -> None:
    """After every record above this instance's positions was applied: the other side's
    positions become this instance's too (the greater of each)."""
    me = str(instance_id())
    for origin, seq in held_there.items():
        if origin == me:
            continue
        current = Position.objects.filter(scope=scope, origin=origin).first()
        if current is None:
            Position.objects.create(scope=scope, origin=origin, seq=seq)
        elif seq > current.seq:
            current.seq = seq
            current.save(update_fields=["seq"])
