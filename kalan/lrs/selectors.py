"""Reading statements: one by id, or a page of a filtered query.

A filtered query drives from the index range of its most selective filter
(`StatementIndex` rows of one key, already in stored order) and checks the
other filters by the (statement, key) unique index: a page of a learner's
statements about one activity costs the same among a thousand statements or a
million. Without a filter it walks the statements' stored-time index.

Pages continue from a cursor (stored time in microseconds, statement id), so a
`more` link keeps returning the statements of the first query in order,
whatever is stored in between.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from kalan.lrs import keys
from kalan.lrs.models import Statement, StatementIndex

MAX_PAGE = 500


@dataclass(frozen=True)
class StatementQuery:
    agent: str | None = None  # validation.agent_key() of the agent parameter
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None  # lower-case UUID text
    related_agents: bool = False
    related_activities: bool = False
    since_us: int | None = None  # stored strictly after
    until_us: int | None = None  # stored at or before
    ascending: bool = False
    limit: int = MAX_PAGE
    # Only statements whose actor is this Kalan person (a caller acting for one learner).
    user_id: uuid.UUID | None = None
    # Continue after this (stored_us, id) position.
    after: tuple[int, str] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def index_keys(self) -> list[int]:
        """The filters' index keys, most selective first."""
        found = []
        if self.registration:
            found.append(keys.index_key(keys.REGISTRATION, self.registration))
        if self.agent:
            kind = keys.RELATED_AGENT if self.related_agents else keys.AGENT
            found.append(keys.index_key(kind, self.agent))
        if self.activity:
            kind = keys.RELATED_ACTIVITY if self.related_activities else keys.ACTIVITY
            found.append(keys.index_key(kind, self.activity))
        if self.verb:
            found.append(keys.index_key(keys.VERB, self.verb))
        return found


@dataclass(frozen=True)
class Page:
    rows: list[tuple[str, int, str]]  # (statement id, stored_us, body)
    more: tuple[int, str] | None  # the cursor of the next page, if there is one


def _table(model: type[Statement] | type[StatementIndex]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _id_param(value: str) -> str | uuid.UUID:
    # Django keeps UUIDs as 32 hex characters on SQLite and as uuid on PostgreSQL.
    return uuid.UUID(value).hex if connection.vendor == "sqlite" else uuid.UUID(value)


def _id_text(value: object) -> str:
    return str(uuid.UUID(str(value)))


def statement_page(query: StatementQuery) -> Page:
    """Up to query.limit statements matching the query, not voided, in stored order."""
    statements, index = _table(Statement), _table(StatementIndex)
    found = query.index_keys()
    order = "ASC" if query.ascending else "DESC"
    where: list[str] = ["s.voided = %s"]
    params: list[Any] = [False]
    if found:
        source = f"{index} d JOIN {statements} s ON s.id = d.statement_id"
        position = "d.stored_us"
        where.append("d.key = %s")
        params.append(found[0])
        for key in found[1:]:
            where.append(
                f"EXISTS (SELECT 1 FROM {index} x WHERE x.statement_id = d.statement_id"  # noqa: S608
                " AND x.key = %s)"
            )
            params.append(key)
        id_column = "d.statement_id"
    else:
        source = f"{statements} s"
        position = "s.stored_us"
        id_column = "s.id"
    if query.since_us is not None:
        where.append(f"{position} > %s")
        params.append(query.since_us)
    if query.until_us is not None:
        where.append(f"{position} <= %s")
        params.append(query.until_us)
    if query.user_id is not None:
        where.append("s.user_id = %s")
        params.append(_id_param(str(query.user_id)))
    if query.after is not None:
        compare = ">" if query.ascending else "<"
        where.append(f"({position} {compare} %s OR ({position} = %s AND {id_column} {compare} %s))")
        stored_us, statement_id = query.after
        params.extend([stored_us, stored_us, _id_param(statement_id)])
    sql = (
        f"SELECT {id_column}, {position}, s.body FROM {source}"  # noqa: S608
        f" WHERE {' AND '.join(where)}"
        f" ORDER BY {position} {order}, {id_column} {order} LIMIT %s"
    )
    params.append(query.limit + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [(_id_text(row[0]), int(row[1]), str(row[2])) for row in cursor.fetchall()]
    more = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        more = (rows[-1][1], rows[-1][0])
    return Page(rows, more)


def one_statement(statement_id: str, *, voided: bool) -> Statement | None:
    """The statement by id (statementId), or the voided one (voidedStatementId)."""
    return (
        Statement.objects.filter(id=statement_id, voided=voided)
        .only("id", "body", "stored", "user_id", "attachment_hashes")
        .first()
    )
