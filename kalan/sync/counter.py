"""This instance's version counter (ADR 0009).

`take(n)` reserves the next n values inside the caller's transaction. The
counter row stays locked until that transaction ends (PostgreSQL's row lock;
on SQLite every writer already holds the database), so values follow commit
order: a reader never sees a value while a smaller one is still uncommitted.
"""

from django.db import connection

from kalan.core import sql
from kalan.sync.models import Counter

_TABLE = Counter._meta.db_table


def take(n: int) -> range:
    """The next `n` counter values, in the caller's transaction."""
    if n < 1:
        raise ValueError("take at least one value")
    if not connection.in_atomic_block:
        raise RuntimeError("counter values are taken inside the writing transaction")
    table = sql.quote(_TABLE)
    rows = sql.fetch(
        f"INSERT INTO {table} (singleton, value) VALUES (%s, %s)"  # noqa: S608
        f" ON CONFLICT (singleton) DO UPDATE SET value = {table}.value + EXCLUDED.value"
        " RETURNING value",
        [True, n],
    )
    last = int(rows[0][0])
    return range(last - n + 1, last + 1)


def current() -> int:
    """The last value taken (0 before any)."""
    return int(Counter.objects.values_list("value", flat=True).first() or 0)
