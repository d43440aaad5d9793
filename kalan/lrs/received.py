"""Statements that arrive by sync (kalan/sync registers `receive`, lrs/apps.py).

Each record carries the statement as the instance that stored it returns it
(`body`, with its stored time and authority) and its version id. The body is
read back strictly: an id that is not the record's, or a statement missing
what a stored statement always has, refuses the whole batch.
"""

import json
import uuid
from collections.abc import Sequence
from typing import Any

from kalan.lrs.statements import StatementConflict, store_received
from kalan.sync.wire import Record

_ALWAYS = ("id", "actor", "verb", "object", "stored", "authority", "timestamp")


def receive_statements(records: Sequence[Record]) -> int:
    """Store `records` (lrs.statement) in the caller's transaction; returns how many were new."""
    received: list[tuple[dict[str, Any], uuid.UUID, int]] = []
    for record in records:
        body = record.fields.get("body")
        try:
            statement = json.loads(body) if isinstance(body, str) else None
        except ValueError:
            statement = None
        if not isinstance(statement, dict) or statement.get("id") != record.record_id:
            raise ValueError(f"statement {record.record_id}: its body is not that statement")
        missing = [key for key in _ALWAYS if key not in statement]
        if missing:
            raise ValueError(f"statement {record.record_id}: no {', '.join(missing)}")
        if record.seq < 1:
            raise ValueError(f"statement {record.record_id}: no version id")
        received.append((statement, uuid.UUID(record.origin), record.seq))
    try:
        return store_received(received)
    except StatementConflict as error:
        raise ValueError(str(error)) from error
