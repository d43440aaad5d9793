"""The writers' queue of the SQLite backend (kalan/core/sqlite)."""

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from kalan.core.sqlite.base import WriterLock


def test_a_second_writer_waits_until_the_first_lets_go(tmp_path: Path) -> None:
    path = str(tmp_path / "db-writer.lock")
    first, second = WriterLock(path), WriterLock(path)
    first.acquire(timeout=1)
    got_it = threading.Event()

    def wait() -> None:
        second.acquire(timeout=5)
        got_it.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert not got_it.wait(0.2)  # still held by the first
    released_at = time.monotonic()
    first.release()
    assert got_it.wait(2)
    # Woken by the kernel when the lock is let go, not after a sleeping retry loop's next
    # try (bound loose enough for a loaded test machine).
    assert time.monotonic() - released_at < 0.5
    waiter.join()
    assert second.held
    second.release()


def test_waiting_ends_at_the_timeout_with_database_is_locked(tmp_path: Path) -> None:
    path = str(tmp_path / "db-writer.lock")
    holder, late = WriterLock(path), WriterLock(path)
    holder.acquire(timeout=1)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        late.acquire(timeout=0.3)
    assert 0.25 < time.monotonic() - started < 2
    assert not late.held
    holder.release()
    # The helper that gave up let the lock go: it can be taken at once.
    again = WriterLock(path)
    again.acquire(timeout=1)
    again.release()


def test_no_descriptor_is_left_open(tmp_path: Path) -> None:
    path = str(tmp_path / "db-writer.lock")
    before = len(os.listdir("/proc/self/fd"))
    holder = WriterLock(path)
    holder.acquire(timeout=1)
    for _ in range(5):
        with pytest.raises(OperationalError):
            WriterLock(path).acquire(timeout=0.05)
    holder.release()
    # The helpers that gave up take the lock and close their descriptors, soon (later on a
    # loaded machine): wait for that, within a bound.
    deadline = time.monotonic() + 5
    while len(os.listdir("/proc/self/fd")) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(os.listdir("/proc/self/fd")) == before


def test_transactions_of_two_connections_take_turns(tmp_path: Path, django_db_blocker: Any) -> None:
    """The backend holds the lock from BEGIN IMMEDIATE to COMMIT or ROLLBACK."""
    from kalan.core.sqlite.base import DatabaseWrapper

    name = str(tmp_path / "kalan.sqlite3")
    sqlite3.connect(name).execute("CREATE TABLE t (n INTEGER)").connection.close()

    def wrapper() -> DatabaseWrapper:
        return DatabaseWrapper(
            {
                "NAME": name,
                "ENGINE": "kalan.core.sqlite",
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0.3},
                "USER": "",
                "PASSWORD": "",
                "HOST": "",
                "PORT": "",
                "ATOMIC_REQUESTS": False,
                "AUTOCOMMIT": True,
                "CONN_MAX_AGE": 0,
                "CONN_HEALTH_CHECKS": False,
                "TIME_ZONE": None,
                "TEST": {},
            },
            alias="writer-lock-test",
        )

    one, two = wrapper(), wrapper()
    with django_db_blocker.unblock():
        _take_turns(one, two)


def _take_turns(one: Any, two: Any) -> None:
    try:
        one.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        one.cursor().execute("INSERT INTO t VALUES (1)")
        with pytest.raises(OperationalError, match="database is locked"):
            two.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        one.commit()
        one.set_autocommit(True)
        two.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        two.cursor().execute("INSERT INTO t VALUES (2)")
        two.rollback()
        two.set_autocommit(True)
        one.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        one.rollback()
        one.set_autocommit(True)
        assert one.cursor().execute("SELECT n FROM t").fetchall() == [(1,)]
    finally:
        one.close()
        two.close()
