"""Many rows written through one prepared statement (`executemany`).

Django's `bulk_create` writes the SQL text of every batch with a placeholder per
value and prepares each value through its field: most of the time of importing a
5,000-resource channel. Here the statement is written once and the database runs
it for every row. Values are prepared as `bulk_create` prepares them (each field's
`pre_save` and `get_db_prep_save`), except text and whole numbers, which every
driver takes as they are.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields import AutoFieldMixin

_AS_IS = frozenset(
    {
        "CharField",
        "TextField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


ValueOf = Callable[[models.Model, BaseDatabaseWrapper], Any]


def _value_of(field: models.Field[Any, Any]) -> ValueOf:
    if field.get_internal_type() in _AS_IS:
        attname = field.attname
        return lambda obj, _connection: getattr(obj, attname)
    return lambda obj, connection: field.get_db_prep_save(field.pre_save(obj, True), connection)


@dataclass(frozen=True)
class _Plan:
    sql: str
    values: list[ValueOf]


# (model, vendor, update_on_conflict, ignore_conflicts) -> the INSERT and how to read values.
_plans: dict[tuple[type[models.Model], str, bool, bool], _Plan] = {}


def _plan(
    model: type[models.Model],
    connection: BaseDatabaseWrapper,
    update_on_conflict: bool,
    ignore_conflicts: bool,
) -> _Plan:
    key = (model, connection.vendor, update_on_conflict, ignore_conflicts)
    plan = _plans.get(key)
    if plan is not None:
        return plan
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in fields]
    # Names come from the model's definition, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(columns))})"
    )
    if update_on_conflict:
        pk = quote(meta.pk.column)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != pk)
        sql += f" ON CONFLICT ({pk}) DO UPDATE SET {updates}"
    elif ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    plan = _Plan(sql, [_value_of(f) for f in fields])
    _plans[key] = plan
    return plan


def insert_rows(
    objects: Sequence[models.Model],
    *,
    update_on_conflict: bool = False,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT `objects` (all of one model) in the caller's transaction.

    Auto-increment keys are left to the database (the objects do not learn them).
    With `update_on_conflict`, a row whose primary key exists is updated instead;
    with `ignore_conflicts`, a row that breaks a unique constraint is skipped.
    """
    if not objects:
        return
    connection = connections[DEFAULT_DB_ALIAS]  # this thread's, looked up once
    plan = _plan(type(objects[0]), connection, update_on_conflict, ignore_conflicts)
    values = plan.values
    rows = [tuple(value(obj, connection) for value in values) for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(plan.sql, rows)


def row_values(obj: models.Model) -> tuple[Any, ...]:
    """`obj`'s database values as `insert_rows` writes them, for `insert_values` later
    (so that the work can be done before a transaction begins)."""
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _plan(type(obj), connection, False, False)
    return tuple(value(obj, connection) for value in plan.values)


def column_at(model: type[models.Model], attname: str) -> int:
    """Where `attname` is in the rows of `row_values` and `insert_values`."""
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    return [f.attname for f in fields].index(attname)


def insert_values(
    model: type[models.Model],
    rows: Sequence[Sequence[Any]],
    *,
    update_on_conflict: bool = False,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT rows given as database values, in the order of `model`'s columns
    (auto-increment key left out), as `insert_rows` would write them."""
    if not rows:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _plan(model, connection, update_on_conflict, ignore_conflicts)
    with connection.cursor() as cursor:
        cursor.executemany(plan.sql, rows)
