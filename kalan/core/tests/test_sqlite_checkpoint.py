"""Checkpoints of the write-ahead log in a thread of their own (kalan/core/sqlite/checkpoint.py)."""

import sqlite3
import time
from pathlib import Path

from django.db import connections

from kalan.core.sqlite import checkpoint
from kalan.core.sqlite.base import DatabaseWrapper


def test_the_thread_copies_the_log_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)  # keeps the log from being folded at close
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("PRAGMA wal_autocheckpoint=0")
    holder.execute("CREATE TABLE t (x TEXT)")
    holder.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,) for _ in range(2000)])
    before = path.stat().st_size
    assert before < 100_000  # the rows are still in the log only

    running = checkpoint.start(str(path), interval=0.05)
    assert running is not None
    try:
        deadline = time.monotonic() + 5
        while path.stat().st_size < 2_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= 2_000_000  # 2,000 rows of 1 KB now in the database file
        assert checkpoint.start(str(path)) is None  # one thread per process
    finally:
        running.stop()
        holder.close()
    assert checkpoint.autocheckpoint_pages() is None


def test_connections_of_a_checkpointing_process_wait_longer_to_checkpoint(tmp_path: Path) -> None:
    settings_dict = {
        **connections["default"].settings_dict,
        "ENGINE": "kalan.core.sqlite",
        "NAME": str(tmp_path / "hub.sqlite3"),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
    }
    database = DatabaseWrapper(settings_dict)

    def pages() -> int:
        # A new connection as the engine makes it (pytest-django guards the usual path).
        raw = database.get_new_connection(database.get_connection_params())
        try:
            return int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        finally:
            raw.close()

    assert pages() == 1000  # SQLite's own
    running = checkpoint.start_for(settings_dict)
    assert running is not None
    try:
        assert pages() == checkpoint.SAFETY_PAGES
    finally:
        running.stop()
    assert pages() == 1000


def test_memory_databases_and_other_engines_get_no_thread() -> None:
    for engine, name in [
        ("kalan.core.sqlite", ":memory:"),
        ("kalan.core.sqlite", "file:x?mode=memory"),
        ("django.db.backends.postgresql", "kalan"),
    ]:
        assert checkpoint.start_for({"ENGINE": engine, "NAME": name}) is None
