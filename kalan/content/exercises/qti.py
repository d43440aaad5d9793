"""Import from QTI 2.x and 3.0: an item file, or a package (folder or zip with imsmanifest.xml).

`import_qti(path)` converts every item the package's manifest lists, in the
manifest's order, into one Kalan exercise, with the pictures and sounds the
items use. `kalan content build` calls it for every QTI package and item in a
source folder (through `kalan.content.inspect`) and stores the result as
`exercise_bytes` gives it; `save_qti_import` writes the same file and its
media into a folder, to edit (`kalan content convert-qti`). The result is
checked by the same rules as a hand-written exercise. What Kalan cannot take
is refused with the item and the reason (see docs/architecture/exercises.md
for the mapping); feedback whose showing depends on custom rules is left out
and said in `notes`.
"""

import contextlib
import errno
import json
import os
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
from kalan.content.inspect.inspection import title_from_name
from kalan.content.inspect.qti_package import ITEM_TYPE, QTI_TYPE
from kalan.content.inspect.zip_package import ZipPackage, top_folder

MAX_FILE = 20 * 1024 * 1024
MANIFEST = "imsmanifest.xml"
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
    title (a single item), else the file or folder name (as `kalan content
    build` names resources: `02_fractions.zip` gives `fractions`). Raises
    ExerciseError (or InvalidFile for a damaged or unsafe zip) naming the item
    and the reason.
    """
    if path.is_dir():
        return _package(_Folder(path), title, title_from_name(path.name))
    if zipfile.is_zipfile(path):
        with ZipPackage(path) as package:
            return _package(_Zip(package), title, title_from_name(path.stem))
    if not path.is_file():
        raise ExerciseError(_("%(name)s is not a file") % {"name": path.name})
    if path.stat().st_size > MAX_FILE:
        raise ExerciseError(_("%(name)s is larger than 20 MB") % {"name": path.name})
    converted = convert_qti_item(path.read_bytes())  # the file named; its media must be by it
    folder = _Folder(path.parent)
    return _exercise(folder, [converted], title or converted.title or title_from_name(path.stem))


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
    other: list[str] = []
    base = resources.get("base", "") if resources is not None else ""
    for resource in children(resources, "resource") if resources is not None else []:
        listed = resource.get("type", "").strip()
        kind = listed.lower()  # as detection reads it (inspect/qti_package.py)
        href = posixpath.normpath(
            posixpath.join(base, resource.get("base", ""), resource.get("href", ""))
        )
        if kind.startswith(ITEM_TYPE):
            found.append(_package_item(source, href))
        elif kind.startswith(TEST_TYPE) and not title:
            title = " ".join(parse_xml(source.read(href), href).get("title", "").split())
        elif kind.startswith(QTI_TYPE) and not kind.startswith(TEST_TYPE):
            other.append(listed)
    if not found:
        raise _no_items(other)
    return _exercise(source, found, title or default_title)


def _no_items(other: list[str]) -> ExerciseError:
    if not other:
        return ExerciseError(_("the package's imsmanifest.xml lists no QTI items"))
    return ExerciseError(
        _(
            "the package's imsmanifest.xml lists no QTI items Kalan can import (it lists"
            " %(types)s; Kalan imports QTI 2.1, 2.2 and 3.0 items)"
        )
        % {"types": ", ".join(dict.fromkeys(other))}
    )


def _package_item(source: _Source, href: str) -> Converted:
    data = source.read(href)
    try:
        return convert_qti_item(data, base=posixpath.dirname(href))
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
    built as it is. Nothing is written over an existing file: FileExistsError
    names the first one before anything is written. On any other failure (a
    full disk) the files and folders already made are removed again.
    """
    path = folder / f"{name}.exercise.json"
    writes = [*((folder / src, data) for src, data in result.files)]
    writes.append((path, exercise_bytes(result.exercise)))
    for target, _data in writes:
        if target.exists() or target.is_symlink():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    made = [
        parent
        for target, _data in writes
        for parent in (target.parent, *target.parent.parents)
        if not parent.exists()
    ]
    written: list[Path] = []
    try:
        for target, data in writes:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("xb") as handle:
                written.append(target)
                handle.write(data)
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        for parent in sorted(set(made), key=lambda made_path: len(made_path.parts), reverse=True):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    return path


def exercise_bytes(exercise: Exercise) -> bytes:
    """The exercise as a `*.exercise.json` file holds it (UTF-8, indented, one final newline).

    `kalan content build` stores a converted QTI package in the same form, so a
    package built directly and one converted first give the same file.
    """
    text = json.dumps(exercise_to_json(exercise), ensure_ascii=False, indent=2)
    return (text + "\n").encode()
