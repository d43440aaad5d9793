"""The statements' tables carry the indexes their queries use, and no others."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {
        name: info["columns"]
        for name, info in found.items()
        if info["index"] and not info["primary_key"] and not info["unique"]
    }


def test_no_index_is_written_for_nothing() -> None:
    statement, index = _indexes("lrs_statement"), _indexes("lrs_statementindex")
    assert "lrs_statement_stored_2caccd1a" not in statement  # pages go by stored_us
    assert "lrs_statementindex_statement_id_3d9e510e" not in index  # the unique index serves
    assert "lrs_statement_target_id_7c40e149" not in statement
    assert statement["lrs_statement_target"] == ["target_id"]
    assert statement["lrs_statement_stored_us"] == ["stored_us"]
    assert statement["lrs_statement_feed"] == ["school_id", "origin", "seq"]  # what sync sends
    assert "lrs_statement_school_id_0e2f365c" not in statement  # the feed index serves
    assert "lrs_statement_hlc_eab1bae7" not in statement  # a statement has no clock of its own
    assert index["lrs_index_key_stored"] == ["key", "stored_us"]


def test_statements_referring_to_others_are_found_by_the_partial_index() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM lrs_statement WHERE target_id IN (%s, %s)",
                ["a" * 32, "b" * 32],
            )
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX lrs_statement_target" in plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT id FROM lrs_statement WHERE target_id IN (%s, %s)",
                ["6f0c1a9e-0000-4000-8000-000000000001", "6f0c1a9e-0000-4000-8000-000000000002"],
            )
            plan = " ".join(str(row[0]) for row in cursor.fetchall())
            assert "lrs_statement_target" in plan
