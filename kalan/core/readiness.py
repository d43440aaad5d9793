"""Is this instance's database migrated and are its static files collected?

Answered without loading Django (a stamp in KALAN_HOME keyed on the migrations,
the static files and the database), so `kalan start` on an unchanged instance
goes straight to serving: a quick start on a single-board computer.
"""

import hashlib
import json
import os
from pathlib import Path

from kalan.core.paths import kalan_home

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STAMP_NAME = "ready.json"


SQLITE_NAME = "kalan.sqlite3"


def database_identity() -> str:
    """The database's URL, or the name of the SQLite file in KALAN_HOME: a home moved or
    restored elsewhere as a whole (database and static files together) stays ready."""
    return os.environ.get("KALAN_DATABASE_URL") or SQLITE_NAME


def signature() -> str:
    """Changes when a migration, a static file or the database changes."""
    digest = hashlib.sha256(database_identity().encode())
    for pattern in ("*/migrations/*.py", "*/static/**/*"):
        for path in sorted(PACKAGE_DIR.glob(pattern)):
            if path.is_file():
                stat = path.stat()
                relative = path.relative_to(PACKAGE_DIR)
                digest.update(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def is_ready() -> bool:
    if not os.environ.get("KALAN_DATABASE_URL") and not (kalan_home() / SQLITE_NAME).exists():
        return False
    try:
        stamp = json.loads((kalan_home() / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp.get("signature") == signature()


def mark_ready() -> None:
    (kalan_home() / STAMP_NAME).write_text(json.dumps({"signature": signature()}))
