"""SQLite for a hub, with one queue for the writers of every server process.

SQLite lets one transaction write at a time. A writer that finds the database
locked waits in SQLite's busy handler, which sleeps 1, 2, 5 ... up to 100 ms
between tries and never queues: with two server processes writing, one can
win every turn while the other's requests wait for seconds. Here a write
transaction (BEGIN IMMEDIATE, which every `atomic` block is) first takes an
exclusive lock on a file beside the database. The kernel wakes a waiting
writer the moment the holder lets go, so turns pass between the processes
without sleeping. Statements outside a transaction, and the in-memory
databases of tests, keep SQLite's own locking.

Waiting ends after the database's timeout, as SQLite's would: with
"database is locked", which the server answers with 503 and Retry-After.
"""

import fcntl
import os
import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from kalan.core.sqlite import checkpoint


class WriterLock:
    """An exclusive lock on `path`, shared by every process; `acquire` gives up after a timeout."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not _wait_for(fd, timeout):
                raise OperationalError("database is locked") from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the open file releases the lock


def _wait_for(fd: int, timeout: float) -> bool:
    """Block on the lock in a helper thread, so that waiting can end at `timeout`.

    A thread blocked in flock() cannot be interrupted; when the caller gives
    up, the helper takes the lock later and lets it go at once.
    """
    state = {"gave_up": False, "taken": False}
    guard = threading.Lock()
    done = threading.Event()

    def take() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            taken = False
        else:
            taken = True
        with guard:
            if state["gave_up"]:
                os.close(fd)
            state["taken"] = taken
            done.set()

    threading.Thread(target=take, name="sqlite-writer-lock", daemon=True).start()
    if done.wait(timeout):
        if not state["taken"]:
            os.close(fd)
        return state["taken"]
    with guard:
        if done.is_set():  # taken just now
            if not state["taken"]:
                os.close(fd)
            return state["taken"]
        state["gave_up"] = True
    return False


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_lock: WriterLock | None = None

    def get_new_connection(self, conn_params: Any) -> Any:
        connection = super().get_new_connection(conn_params)
        pages = checkpoint.autocheckpoint_pages()
        if pages is not None and not self.is_in_memory_db():
            connection.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
        return connection

    def _lock(self) -> WriterLock | None:
        if self._writer_lock is None and not self.is_in_memory_db():
            self._writer_lock = WriterLock(f"{self.settings_dict['NAME']}-writer.lock")
        return self._writer_lock

    def _start_transaction_under_autocommit(self) -> None:
        lock = self._lock()
        if lock is None or lock.held:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        lock.acquire(float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5)))
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            lock.release()
            raise

    def _release(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            if not self.in_transaction_now():
                self._release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release()

    def in_transaction_now(self) -> bool:
        """Whether SQLite still has a transaction open (a failed COMMIT leaves it open)."""
        return self.connection is not None and self.connection.in_transaction
