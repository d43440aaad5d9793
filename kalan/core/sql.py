"""Hand-written SQL for the queries every request or every statement makes.

Building a query through the ORM costs about 0.4 ms of Python on a hub's CPU,
ten times what SQLite takes to run a lookup by key. The few queries on the
hottest paths (the signed-in person, each statement stored) are written here
once: table and column names come from the models' definitions, quoted, and
every value is a parameter. Rows become values or model instances through the
same converters the ORM applies, so callers get what a queryset would give.
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any, BaseDatabaseWrapper], Any]


def connection() -> BaseDatabaseWrapper:
    return connections[DEFAULT_DB_ALIAS]


def quote(name: str) -> str:
    return connection().ops.quote_name(name)


def marks(count: int) -> str:
    """ "%s, %s, ..." for an IN list of `count` values."""
    return ", ".join(["%s"] * count)


def uuid_param(value: uuid.UUID | str) -> Any:
    """A UUID as a parameter, stored as UUIDField stores it (32 hex digits on SQLite)."""
    value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    return value if connection().features.has_native_uuid_field else value.hex


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID column's value as read (uuid.UUID on PostgreSQL, text on SQLite)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection().cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _converters(field: models.Field[Any, Any], db: BaseDatabaseWrapper) -> Converter | None:
    """The ORM's conversions of one column's value, as one function (None: as read)."""
    column = field.get_col(field.model._meta.db_table)
    steps = db.ops.get_db_converters(column) + field.get_db_converters(db)  # type: ignore[attr-defined]
    if not steps:
        return None

    def convert(value: Any, db: BaseDatabaseWrapper) -> Any:
        for step in steps:
            value = step(value, column, db)
        return value

    return convert


class ModelRows(Generic[M]):
    """Instances of a model read by `SELECT <every column> FROM <table> WHERE ...`."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._fields = list(model._meta.concrete_fields)
        self._prepared: dict[str, tuple[str, list[Converter | None]]] = {}

    def _for(self, db: BaseDatabaseWrapper) -> tuple[str, list[Converter | None]]:
        prepared = self._prepared.get(db.vendor)
        if prepared is None:
            meta = self.model._meta
            columns = ", ".join(db.ops.quote_name(f.column) for f in self._fields)
            select = f"SELECT {columns} FROM {db.ops.quote_name(meta.db_table)}"  # noqa: S608
            prepared = (select, [_converters(f, db) for f in self._fields])
            self._prepared[db.vendor] = prepared
        return prepared

    def where(self, condition: str, params: Sequence[Any]) -> list[M]:
        """Rows matching `condition` (SQL after WHERE, with %s for each of `params`)."""
        db = connection()
        select, converters = self._for(db)
        with db.cursor() as cursor:
            cursor.execute(f"{select} WHERE {condition}", params)
            rows = cursor.fetchall()
        names = [f.attname for f in self._fields]
        found = []
        for row in rows:
            values = [
                value if convert is None else convert(value, db)
                for convert, value in zip(converters, row, strict=True)
            ]
            found.append(self.model.from_db(db.alias, names, values))
        return found
