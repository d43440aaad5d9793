"""Many rows written through one prepared statement (`executemany`).

Django's `bulk_create` writes the SQL text of every batch with a placeholder per
value and prepares each value through its field: most of the time of importing a
5,000-resource channel. Here the statement is written once and the database runs
it for every row. Values are prepared as `bulk_create` prepares them (each field's
`pre_save` and `get_db_prep_save`), except text and whole numbers, which every
driver takes as they are.
"""

from collections.abc import Callable, Sequence
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


def _value_of(
    field: models.Field[Any, Any], connection: BaseDatabaseWrapper
) -> Callable[[models.Model], Any]:
    if field.get_internal_type() in _AS_IS:
        attname = field.attname
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


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
    meta = type(objects[0])._meta
    connection = connections[DEFAULT_DB_ALIAS]  # this thread's, looked up once
    fields = [f for f in meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in fields]
    # Names come from the model's definition, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(columns))})"
    )
    if update_on_conflict:
        key = quote(meta.pk.column)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
        sql += f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
    elif ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    values = [_value_of(f, connection) for f in fields]
    rows = [tuple(value(obj) for value in values) for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
