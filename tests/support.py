"""Helpers for tests that run `kalan` as a separate process."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def own_database(prefix: str = "kalan_t") -> Iterator[str | None]:
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
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_kalan(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KALAN_HOME": str(home), **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "kalan", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed; fails on tracebacks or more lines."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("kalan")
    return lines[0]
