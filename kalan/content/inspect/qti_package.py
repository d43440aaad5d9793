"""QTI packages and item files told apart from SCORM packages and other XML, by their content.

A QTI package is a content package (a zip or a folder with imsmanifest.xml at
its top, or a zip with it in its one folder) whose manifest lists at least one
QTI resource (a `type` starting `imsqti_`: `imsqti_item_xmlv2p2`,
`imsqti_test_xmlv3p0`, ...) and no SCORM SCO. SCORM asks for the type
`webcontent` on every resource, so a SCORM course never lists a QTI one; the
SCO rule keeps a course that carries QTI files for its own use a course. A QTI
item file is an XML file whose root element is `assessmentItem` (QTI 2.x) or
`qti-assessment-item` (3.0).

Nothing here raises: a manifest that cannot be read is not a QTI package (the
SCORM inspection then says what is wrong with it).
"""

import re
import zipfile
import zlib
from pathlib import Path

from kalan.content.inspect.inspection import InvalidFile
from kalan.content.inspect.xml_reader import local_name, parse_xml
from kalan.content.inspect.zip_package import MAX_READ, top_folder

MANIFEST = "imsmanifest.xml"
QTI_TYPE = "imsqti_"
ITEM_TYPE = "imsqti_item_xmlv"  # the item resources Kalan converts (2.1, 2.2, 3.0)
ITEM_ROOTS = frozenset({"assessmentItem", "qti-assessment-item"})
SNIFF_BYTES = 64 * 1024
# What may come before the root element: a BOM, white space, the XML declaration,
# processing instructions, comments and a document type without an internal subset.
_ROOT = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*>)*"
    rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]",
    re.DOTALL,
)


def manifest_member(names: frozenset[str]) -> str | None:
    """Where a zip's imsmanifest.xml is: at its top, or in its one folder; None if neither."""
    if MANIFEST in names:
        return MANIFEST
    top = top_folder(names)
    if top and f"{top}/{MANIFEST}" in names:
        return f"{top}/{MANIFEST}"
    return None


def lists_qti(manifest: bytes) -> bool:
    """True when the manifest lists QTI items Kalan imports (or nothing but QTI
    resources, which the import then refuses by name) and no SCORM SCO. A package that
    mixes other content with QTI it cannot import (QTI 1.2, Common Cartridge
    assessments) is left to the other kinds, as before QTI was read."""
    try:
        root = parse_xml(manifest, MANIFEST)
    except InvalidFile:
        return False
    importable = only_qti = False
    listed = 0
    for element in root.iter():
        if local_name(element.tag) != "resource":
            continue
        listed += 1
        kind = element.get("type", "").strip().lower()
        importable = importable or kind.startswith(ITEM_TYPE)
        only_qti = (only_qti or listed == 1) and kind.startswith(QTI_TYPE)
        if any(
            local_name(name).lower() == "scormtype" and value.strip().lower() == "sco"
            for name, value in element.attrib.items()
        ):
            return False
    return importable or (listed > 0 and only_qti)


def is_qti_zip(path: Path, names: frozenset[str]) -> bool:
    """True when the zip at `path` (whose file names are `names`) is a QTI package."""
    member = manifest_member(names)
    if member is None:
        return False
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            data = handle.read(MAX_READ + 1)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        RuntimeError,  # encrypted
        ValueError,
        NotImplementedError,  # a compression zipfile cannot unpack
    ):
        return False  # the inspection of the kind it is taken for says what is wrong
    return len(data) <= MAX_READ and lists_qti(data)


def is_qti_folder(path: Path) -> bool:
    """True when the folder at `path` holds a QTI package's imsmanifest.xml at its top."""
    manifest = path / MANIFEST
    try:
        if not manifest.is_file() or manifest.stat().st_size > MAX_READ:
            return False
        return lists_qti(manifest.read_bytes())
    except OSError:
        return False


def is_qti_item(path: Path) -> bool:
    """True when the XML file at `path` has a QTI assessment item as its root element."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    found = _ROOT.match(head)
    return found is not None and found.group(1).decode() in ITEM_ROOTS
