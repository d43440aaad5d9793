"""Copy pinned front-end packages from the npm registry into kalan/ui/static/vendor.

Run: python scripts/vendor_assets.py  (needs node and npm; uses package-lock.json)
The copied files are committed, so a school hub never needs npm or a network.
Each file's SHA-256 is written to VENDORED.txt; `--check` verifies the tree.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "kalan" / "ui" / "static" / "vendor"
# package -> (file inside the package, name under vendor/)
FILES = {
    "htmx.org": [("dist/htmx.min.js", "htmx/htmx.min.js"), ("LICENSE", "htmx/LICENSE")],
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest() -> str:
    lines = []
    for path in sorted(VENDOR.rglob("*")):
        if path.is_file() and path.name != "VENDORED.txt":
            lines.append(f"{sha256(path)}  {path.relative_to(VENDOR)}")
    return "\n".join(lines) + "\n"


def vendor() -> None:
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    for package, files in FILES.items():
        for source, target in files:
            destination = VENDOR / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / "node_modules" / package / source, destination)
    (VENDOR / "VENDORED.txt").write_text(manifest())


def check() -> int:
    expected = (VENDOR / "VENDORED.txt").read_text()
    if manifest() != expected:
        print("vendored assets differ from VENDORED.txt: run scripts/vendor_assets.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(check() if "--check" in sys.argv else vendor())
