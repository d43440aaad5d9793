"""Checkpoints of a hub's SQLite write-ahead log, away from the writers.

In WAL mode SQLite copies the log back into the database (a checkpoint) when a
commit finds the log longer than `wal_autocheckpoint` pages (1,000 by
default), in the thread that commits and while it still holds the writer queue
(base.py). About one write in thirty then took 10-20 ms instead of 0.3 ms,
and every writer of every server process waited behind it. A server process
checkpoints in a thread of its own instead: every `INTERVAL` seconds it asks
for a PASSIVE checkpoint, which neither waits for writers nor blocks them.
The connections of that process keep a much higher `wal_autocheckpoint`, as a
safety net should the thread fall behind. Commands and tests keep SQLite's
own behaviour.
"""

import logging
import os
import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

INTERVAL = 0.5  # seconds between checkpoints
SAFETY_PAGES = 20_000  # wal_autocheckpoint while the thread runs (about 80 MB of log)

_guard = threading.Lock()
_running_in: int | None = None  # the process whose checkpoint thread runs


def autocheckpoint_pages() -> int | None:
    """The `wal_autocheckpoint` for this process's new connections (None: SQLite's own)."""
    return SAFETY_PAGES if _running_in == os.getpid() else None


class Checkpointer:
    """The checkpoint thread of one process; `stop()` ends it (tests)."""

    def __init__(self, path: str, interval: float) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._interval = interval
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def _run(self) -> None:
        failing = False
        while not self._stopping.wait(self._interval):
            try:
                self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:
                if not failing:  # said once, not every half second
                    log.warning("the write-ahead log could not be checkpointed: %s", error)
                failing = True
            else:
                failing = False
        self._connection.close()

    def stop(self) -> None:
        global _running_in
        self._stopping.set()
        self.thread.join()
        with _guard:
            if _running_in == os.getpid():
                _running_in = None


def start(path: str, interval: float = INTERVAL) -> Checkpointer | None:
    """Checkpoint the database at `path` every `interval` seconds from a daemon thread.

    At most one thread per process: in a process that already has one, None.
    """
    global _running_in
    with _guard:
        if _running_in == os.getpid():
            return None
        checkpointer = Checkpointer(path, interval)
        _running_in = os.getpid()
    checkpointer.thread.start()
    return checkpointer


def start_for(settings_dict: Mapping[str, Any]) -> Checkpointer | None:
    """Start checkpointing the database of a Django `DATABASES` entry, if it is a
    SQLite file served by Kalan's engine."""
    name = str(settings_dict.get("NAME") or "")
    if settings_dict.get("ENGINE") != "kalan.core.sqlite" or not name or ":memory:" in name:
        return None
    if name.startswith("file:") or "mode=memory" in name:
        return None
    return start(name)
