"""Import from QTI 2.x and 3.0: an item file, or a package (folder or zip with imsmanifest.xml).

`import_qti(path)` converts every item the package's manifest lists, in the
manifest's order, into one Kalan exercise, with the pictures and sounds the
items use; `save_qti_import` writes the result as a `*.exercise.json` and its
media next to it, ready for `kalan content build`. The result is checked by
the same rules as a hand-written exercise. What Kalan cannot take is refused
with the item and the reason (see docs/architecture/exercises.md for the
mapping); feedback whose showing depends on custom rules is left out and said
in `notes`.
"""

import json
import posixpath
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from django.utils.translation import gettext as _

from kalan.content.exercises.errors import ExerciseError
from kalan.content.exercises.format import exercise_to_json, media_of, parse_exercise
from kalan.content.exercises.model import Exercise, Item
from kalan.content.exercises.qti_body import child, children, parse_versioned, parse_xml, qti_name
from kalan.content.exercises.qti_items import Converted, convert_item
from kalan.content.inspect.zip_package import ZipPackage, top_folder

MAX_FILE = 20 * 1024 * 1024
MANIFEST = "imsmanifest.xml"
ITEM_TYPE = "imsqti_item_xmlv"
TEST_TYPE = "imsqti_test_xmlv"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


@dataclass(frozen=True)
class QtiImport:
    """A converted exercise, the bytes of each media file by its `src`, and notes on
    what was left out."""

    exercise: Exercise
    files: tuple[tuple[str, bytes], ...] = ()
    notes: tuple[str, ...] = ()


class _Source(Protocol):
    def read(self, member: str) -> bytes: ...


class _Folder:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def read(self, member: str) -> bytes:
        path = (self.root / member).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ExerciseError(_("%(name)s is not in the package") % {"name": member})
        if path.stat().st_size > MAX_FILE:
            raise ExerciseError(_("%(name)s is larger than 20 MB") % {"name": member})
        return path.read_bytes()


class _Zip:
    def __init__(self, package: ZipPackage) -> None:
        self.package = package
        self.prefix = "" if package.has(MANIFEST) else top_folder(package.names)
        if self.prefix:
            self.prefix += "/"

    def read(self, member: str) -> bytes:
        name = self.prefix + member
        if not self.package.has(name):
            raise ExerciseError(_("%(name)s is not in the package") % {"name": member})
        return self.package.read(name, MAX_FILE)


def import_qti(path: Path, *, title: str = "") -> QtiImport:
    """The QTI item file, package folder or package zip at `path` as one Kalan exercise.

    `title` defaults to the package's assessment test title, else the item's
    title (a single item), else the file name. Raises ExerciseError (or
    InvalidFile for a damaged or unsafe zip) naming the item and the reason.
    """
    if path.is_dir():
        return _package(_Folder(path), title, path.name)
    if zipfile.is_zipfile(path):
        with ZipPackage(path) as package:
            return _package(_Zip(package), title, path.name.removesuffix(".zip"))
    if not path.is_file():
        raise ExerciseError(_("%(name)s is not a file") % {"name": path.name})
    folder = _Folder(path.parent)
    converted = convert_qti_item(folder.read(path.name), what=path.name)
    return _exercise(folder, [converted], title or converted.title or path.stem)


def convert_qti_item(data: bytes, *, what: str = "", base: str = "") -> Converted:
    """One QTI assessment item (2.x or 3.0 XML) as a Kalan item.

    `what` names the file in messages; `base` is its folder inside its package.
    Raises ExerciseError naming the item and the reason when Kalan cannot take it.
    """
    what = what or _("the QTI item")
    root, version = parse_versioned(data, what)
    if root.tag != "assessmentItem":
        raise ExerciseError(
            _("%(what)s is not a QTI assessment item (its root element is <%(tag)s>)")
            % {"what": what, "tag": qti_name(root.tag, version)}
        )
    return convert_item(root, version=version, base=base)


def _package(source: _Source, title: str, default_title: str) -> QtiImport:
    manifest = parse_xml(source.read(MANIFEST), MANIFEST)
    resources = child(manifest, "resources")
    found: list[Converted] = []
    base = resources.get("base", "") if resources is not None else ""
    for resource in children(resources, "resource") if resources is not None else []:
        kind = resource.get("type", "")
        href = posixpath.normpath(
            posixpath.join(base, resource.get("base", ""), resource.get("href", ""))
        )
        if kind.startswith(ITEM_TYPE):
            found.append(_package_item(source, href))
        elif kind.startswith(TEST_TYPE) and not title:
            title = " ".join(parse_xml(source.read(href), href).get("title", "").split())
    if not found:
        raise ExerciseError(_("the package's imsmanifest.xml lists no QTI items"))
    return _exercise(source, found, title or default_title)


def _package_item(source: _Source, href: str) -> Converted:
    data = source.read(href)
    try:
        return convert_qti_item(data, what=href, base=posixpath.dirname(href))
    except ExerciseError as error:
        raise ExerciseError(_("%(file)s: %(problem)s") % {"file": href, "problem": error}) from None


def _exercise(source: _Source, converted: list[Converted], title: str) -> QtiImport:
    language = converted[0].language
    items: list[Item] = []
    seen: set[str] = set()
    notes: list[str] = []
    for result in converted:
        item = result.item
        unique, number = item.id, 1
        while unique in seen:
            number += 1
            unique = f"{item.id[:60]}-{number}"
        seen.add(unique)
        own_language = result.language if result.language != language else ""
        items.append(_renamed(item, unique, own_language))
        notes.extend(result.notes)
    exercise = parse_exercise(
        exercise_to_json(Exercise(title=title, items=tuple(items), language=language))
    )
    files = {found.src: source.read(found.src) for _item, found in media_of(exercise)}
    return QtiImport(exercise=exercise, files=tuple(files.items()), notes=tuple(notes))


def _renamed(item: Item, item_id: str, language: str) -> Item:
    return replace(item, id=item_id, language=language)


def save_qti_import(result: QtiImport, folder: Path, name: str) -> Path:
    """Write `name`.exercise.json and its media files into `folder`; returns the exercise file.

    Media keep their paths (relative to the exercise file), so the folder can be
    built as it is.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for src, data in result.files:
        target = folder / src
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    path = folder / f"{name}.exercise.json"
    text = json.dumps(exercise_to_json(result.exercise), ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    return path
