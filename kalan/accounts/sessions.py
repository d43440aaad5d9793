"""Sessions in the database, read by one hand-written query (kalan/core/sql.py).

Every page and every statement a signed-in person sends reads their session:
through the ORM that lookup cost more than half a millisecond of Python, twenty
times the query itself. Writing, expiry and the rest are Django's.
"""

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from kalan.core import sql


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if not key:  # Django's lookup of an empty key finds nothing either
            self._session_key = None
            return None
        meta = Session._meta
        db_connection = sql.connection()
        rows = sql.fetch(
            f"SELECT {sql.quote('session_data')} FROM {sql.quote(meta.db_table)}"  # noqa: S608
            f" WHERE {sql.quote('session_key')} = %s AND {sql.quote('expire_date')} > %s",
            [key, db_connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        if not rows:
            self._session_key = None
            return None
        return Session(session_key=key, session_data=rows[0][0])
