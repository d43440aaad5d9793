"""Copy pinned front-end packages from the npm registry into kalan/ui/static/vendor.

Run: python scripts/vendor_assets.py  (needs node and npm; uses package-lock.json)
To change a version: npm install --save-exact --ignore-scripts PACKAGE@VERSION, then this.
The copied files are committed, so a school hub never needs npm or a network.
Each file's SHA-256 is written to VENDORED.txt; `--check` verifies the tree.

Only the files the players load at run time are copied, with each licence. A
`//# sourceMappingURL=` comment is dropped from scripts: no map is shipped, and
Django's manifest storage would refuse to collect a script naming a missing file.
Left out on purpose, and what that costs:
- pdf.js cmaps/ (1.7 MB): PDFs whose CJK fonts are not embedded show no text;
- pdf.js standard_fonts/ (0.8 MB): non-embedded standard fonts use the device's;
- pdf.js qcms (ICC colour, needs worker fetches) and quickjs (PDF scripts);
- the non-wasm fallbacks of the JBIG2/CCITT and JPEG 2000 decoders.
"""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "kalan" / "ui" / "static" / "vendor"
MANIFEST = "VENDORED.txt"
TEXT_SUFFIXES = {".js", ".mjs", ".css"}
# package -> (file or folder inside the package, name under vendor/)
FILES = {
    "htmx.org": [("dist/htmx.min.js", "htmx/htmx.min.js"), ("LICENSE", "htmx/LICENSE")],
    "pdfjs-dist": [
        # The legacy build: the modern one needs this year's browsers, not a 2015 tablet's.
        ("legacy/build/pdf.min.mjs", "pdfjs/pdf.min.mjs"),
        ("legacy/build/pdf.worker.min.mjs", "pdfjs/pdf.worker.min.mjs"),
        # Scanned pages: JBIG2 and CCITT fax images, and JPEG 2000, decode in wasm only.
        ("wasm/jbig2.wasm", "pdfjs/wasm/jbig2.wasm"),
        ("wasm/openjpeg.wasm", "pdfjs/wasm/openjpeg.wasm"),
        ("LICENSE", "pdfjs/LICENSE"),
        ("wasm/LICENSE_JBIG2", "pdfjs/wasm/LICENSE_JBIG2"),
        ("wasm/LICENSE_PDFJS_JBIG2", "pdfjs/wasm/LICENSE_PDFJS_JBIG2"),
        ("wasm/LICENSE_OPENJPEG", "pdfjs/wasm/LICENSE_OPENJPEG"),
        ("wasm/LICENSE_PDFJS_OPENJPEG", "pdfjs/wasm/LICENSE_PDFJS_OPENJPEG"),
    ],
    # The legacy (ES5) build, which takes JSZip from the page: epub.min.js bundles JSZip
    # 3.1.5, open to prototype pollution by a crafted zip (CVE-2021-23413, fixed in 3.7.0).
    "epubjs": [
        ("dist/epub.legacy.min.js", "epubjs/epub.legacy.min.js"),
        ("license", "epubjs/LICENSE"),
    ],
    "jszip": [("dist/jszip.min.js", "jszip/jszip.min.js"), ("LICENSE.markdown", "jszip/LICENSE")],
    "scorm-again": [
        ("dist/scorm12.min.js", "scorm-again/scorm12.min.js"),
        ("dist/scorm2004.min.js", "scorm-again/scorm2004.min.js"),
        ("LICENSE", "scorm-again/LICENSE"),
    ],
    "h5p-standalone": [
        ("dist/main.bundle.js", "h5p-standalone/main.bundle.js"),
        ("dist/main.bundle.js.LICENSE.txt", "h5p-standalone/main.bundle.js.LICENSE.txt"),
        ("dist/frame.bundle.js", "h5p-standalone/frame.bundle.js"),
        # h5p.css names every font below and the throbber: all must exist to be collected.
        ("dist/styles/h5p.css", "h5p-standalone/styles/h5p.css"),
        ("dist/fonts", "h5p-standalone/fonts"),
        ("dist/images/throbber.gif", "h5p-standalone/images/throbber.gif"),
        ("LICENSE", "h5p-standalone/LICENSE"),
    ],
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pinned_versions() -> dict[str, str]:
    dependencies: dict[str, str] = json.loads((ROOT / "package.json").read_text())["dependencies"]
    return dependencies


def manifest() -> str:
    lines = [f"# {name} {version}" for name, version in sorted(pinned_versions().items())]
    for path in sorted(VENDOR.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            lines.append(f"{sha256(path)}  {path.relative_to(VENDOR)}")
    return "\n".join(lines) + "\n"


def copy_file(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix not in TEXT_SUFFIXES:
        shutil.copyfile(source, destination)
        return
    text = source.read_text(encoding="utf-8")
    kept = [
        line
        for line in text.split("\n")
        if not line.startswith(("//# sourceMappingURL=", "/*# sourceMappingURL="))
    ]
    destination.write_text("\n".join(kept), encoding="utf-8")


def install() -> None:
    """Install exactly what package-lock.json names, as `npm ci` would.

    `npm ci` itself refuses this lockfile: pdf.js's optional canvas for Node has
    per-platform builds the registry mirror here lacks, so the lock cannot list
    them. `npm install` with the lock present installs the locked versions
    (integrity-checked); the lock must come out unchanged. No install scripts
    (some packages run other package managers from theirs), no optional modules.
    """
    lock = ROOT / "package-lock.json"
    before = lock.read_bytes()
    shutil.rmtree(ROOT / "node_modules", ignore_errors=True)
    subprocess.run(
        ["npm", "install", "--ignore-scripts", "--omit=optional", "--no-audit", "--no-fund"],
        cwd=ROOT,
        check=True,
    )
    if lock.read_bytes() != before:
        lock.write_bytes(before)
        raise SystemExit("package-lock.json does not match package.json: run npm install")


def vendor() -> int:
    install()
    missing = set(pinned_versions()) ^ set(FILES)
    if missing:
        raise SystemExit(f"package.json and FILES disagree about: {', '.join(sorted(missing))}")
    for child in VENDOR.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
    for package, files in FILES.items():
        for source_name, target in files:
            source = ROOT / "node_modules" / package / source_name
            sources = (
                sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
            )
            for path in sources:
                copy_file(path, VENDOR / target / path.relative_to(source))
    (VENDOR / MANIFEST).write_text(manifest())
    return 0


def check() -> int:
    expected = (VENDOR / MANIFEST).read_text()
    if manifest() != expected:
        print("vendored assets differ from VENDORED.txt: run scripts/vendor_assets.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(check() if "--check" in sys.argv else vendor())
