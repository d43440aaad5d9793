"""Check that every compiled catalogue (.mo) matches its source (.po).

Compiles each .po with msgfmt into a temporary file and compares bytes. Skips,
saying so, where msgfmt (Debian's gettext) is absent: the .mo files are committed.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    if shutil.which("msgfmt") is None:
        print("msgfmt not found (apt-get install gettext): catalogue check skipped")
        return 0
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for po in sorted(ROOT.glob("kalan/locale/*/LC_MESSAGES/*.po")):
            out = Path(tmp) / "out.mo"
            subprocess.run(["msgfmt", "--check-format", "-o", str(out), str(po)], check=True)
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.read_bytes() != out.read_bytes():
                stale.append(str(mo.relative_to(ROOT)))
    if stale:
        print("stale catalogues (run: make messages):", ", ".join(stale))
        return 1
    print("catalogues up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
