"""Test-wide set-up: an instance folder and databases that are never anyone's own."""

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest

os.environ.setdefault("KALAN_HOME", tempfile.mkdtemp(prefix="kalan-test-home-"))


@pytest.fixture
def fresh_database_url() -> Iterator[str | None]:
    """A database of its own for a `kalan` process started by a test.

    On PostgreSQL (KALAN_DATABASE_URL set) a new database is created and dropped
    afterwards; on SQLite, None: the process uses the file in its KALAN_HOME.
    """
    url = os.environ.get("KALAN_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    base, _, _name = url.rpartition("/")
    name = f"kalan_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
