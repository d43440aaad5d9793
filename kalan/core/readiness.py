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


def database_identity() -> str:
    return os.environ.get("KALAN_DATABASE_URL") or str(kalan_home() / "kalan.sqlite3")


def signature() -> str:
    """Changes when a migration, a static file or the database changes place."""
    digest = hashlib.sha256(database_identity().encode())
    for pattern in ("*/migrations/*.py", "*/static/**/*"):
        for path in sorted(PACKAGE_DIR.glob(pattern)):
            if path.is_file():
                stat = path.stat()
                relative = path.relative_to(PACKAGE_DIR)
                digest.update(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def is_ready() -> bool:
    identity = database_identity()
    if "://" not in identity and not Path(identity).exists():
        return False
    try:
        stamp = json.loads((kalan_home() / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp.get("signature") == signature()


def mark_ready() -> None:
    (kalan_home() / STAMP_NAME).write_text(json.dumps({"signature": signature()}))
