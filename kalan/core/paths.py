"""Where an instance keeps its state: KALAN_HOME (default ~/.kalan)."""

import os
from pathlib import Path


def kalan_home() -> Path:
    """The instance folder, from KALAN_HOME or ~/.kalan; not created here."""
    raw = os.environ.get("KALAN_HOME") or str(Path.home() / ".kalan")
    return Path(raw).expanduser().resolve()
