"""Build a signed channel package from a folder tree, with no network.

Folders become topics and files become resources; an optional metadata file
(`kalan.yaml` or `kalan.csv` at the top of the folder) overrides what is
inferred. Every file is inspected first; if any is refused, the build stops
with the full per-file report and writes nothing. Only then are files copied
into the package (named by SHA-256) and the signed manifest written last, so a
package folder never holds a manifest whose files are missing.

A file the inspection converts (a QTI package or item becomes an exercise) is
stored as converted: the exercise JSON is its main file and the pictures and
sounds read from the package its supplementary files. An unzipped QTI package
(a folder whose imsmanifest.xml lists QTI items) is one exercise, like its zip,
not a topic.
"""

import mimetypes
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.content import metadata_file
from kalan.content.exercises.errors import ExerciseError
from kalan.content.exercises.format import load_exercise, media_of
from kalan.content.exercises.qti import import_qti
from kalan.content.inspect import (
    Inspection,
    InvalidFile,
    caption_to_vtt,
    captions_text,
    check_offline,
    detect_kind,
    inspect_file,
)
from kalan.content.inspect.inspection import title_from_name
from kalan.content.kinds import Accessibility, FileRole, Kind
from kalan.content.manifest import FORMAT, ManifestError, dump, parse_signed, public_key_text, sign
from kalan.content.store import LibraryFolder, StoreError
from kalan.core.errors import KalanError, ValidationFailed

CAPTION_EXTENSIONS = {".vtt", ".srt"}
THUMBNAIL_EXTENSIONS = {".png", ".jpg", ".jpeg"}
_LANGUAGE_SUFFIX = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class BuildFailed(ValidationFailed):
    """Some files were refused; `problems` has one line per file. Nothing was written."""


@dataclass
class PlannedFile:
    role: str
    path: Path | None = None
    data: bytes | None = None
    ext: str = ""
    language: str = ""
    label: str = ""


@dataclass
class PlannedNode:
    rel: str  # path relative to the source folder ("" for the root)
    kind: str
    title: str
    inspection: Inspection | None = None
    files: list[PlannedFile] = field(default_factory=list)
    children: list["PlannedNode"] = field(default_factory=list)
    captions_text: str = ""


@dataclass
class BuildReport:
    channel_id: uuid.UUID
    version: int
    title: str
    resources: int
    files: int
    bytes: int
    ignored: list[str]
    notes: list[str] = field(default_factory=list)  # what converting QTI left out, by file

    def summary(self) -> str:
        return (
            f"Built {self.title!r} v{self.version} ({self.channel_id}): {self.resources}"
            f" resources, {self.files} files, {self.bytes} bytes"
        )


def build_channel(
    source: Path,
    output: Path,
    *,
    key: Ed25519PrivateKey,
    publisher: str = "",
    progress: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build `source` into the library folder `output`.

    Raises BuildFailed (per-file problems), KalanError (unusable folders or
    metadata), StoreError (disk full). On any error the output folder is left
    as it was.
    """
    if not source.is_dir():
        raise KalanError(f"{source} is not a folder")
    if detect_kind(source) is not None:
        raise KalanError(
            f"{source} is an unzipped QTI package, not a channel's folder: put the package"
            " (or its zip) in the channel's folder"
        )
    meta = metadata_file.load(source)
    problems: list[str] = []
    ignored: list[str] = []
    claimed = _exercise_media(source)
    root = _plan_folder(source, source, meta, problems, ignored, progress, claimed)
    problems.extend(meta.unknown_paths(source))
    if problems:
        raise BuildFailed(
            f"{len(problems)} file(s) refused; nothing was built: {problems[0]}", problems
        )
    if not any(_resources(root)):
        raise KalanError(f"{source} holds no file Kalan can play")
    library = LibraryFolder(output)
    channel_id, version = _identity(meta, library)
    report = _write(root, meta, library, channel_id, version, key, publisher, ignored)
    report.notes = _conversion_notes(root)
    return report


# ---------------------------------------------------------------- planning


def _title_from_name(name: str) -> str:
    return title_from_name(name)


def _plan_folder(
    folder: Path,
    source: Path,
    meta: metadata_file.Metadata,
    problems: list[str],
    ignored: list[str],
    progress: Callable[[str], None] | None,
    claimed: frozenset[Path],
) -> PlannedNode:
    rel = folder.relative_to(source).as_posix() if folder != source else ""
    node = PlannedNode(rel=rel, kind=Kind.TOPIC, title=_title_from_name(folder.name))
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    by_stem = _attachments(entries)
    for entry in entries:
        if entry.is_dir() and detect_kind(entry) is None:
            child = _plan_folder(entry, source, meta, problems, ignored, progress, claimed)
            if child.children:
                node.children.append(child)
            continue
        if entry.parent == source and metadata_file.is_metadata(entry):
            continue
        if entry.resolve() in claimed:
            continue  # a picture or sound of an exercise, carried with it
        if entry.suffix.lower() in CAPTION_EXTENSIONS | THUMBNAIL_EXTENSIONS and (
            _stem(entry) in by_stem
        ):
            continue  # attached to its resource below
        kind = detect_kind(entry)
        relative = entry.relative_to(source).as_posix()
        if kind is None:
            ignored.append(relative)
            continue
        if progress:
            progress(relative)
        try:
            node.children.append(_plan_resource(entry, relative, kind, by_stem))
        except InvalidFile as error:
            problems.append(f"{relative}: {error}")
    return node


def _exercise_media(source: Path) -> frozenset[Path]:
    """The pictures and sounds the exercises under `source` use (never resources of their own).

    Exercises are `*.exercise.json` files and QTI item files (`.xml`); the
    media of QTI packages are inside them. An exercise that cannot be read
    claims nothing here: its inspection reports why when the exercise itself is
    planned.
    """
    claimed = set()
    for path in source.rglob("*"):
        name = path.name.lower()
        try:
            if name.endswith(".exercise.json"):
                exercise = load_exercise(path.read_bytes())
            elif name.endswith(".xml") and path.is_file() and detect_kind(path) == Kind.EXERCISE:
                exercise = import_qti(path).exercise
            else:
                continue
        except (ExerciseError, InvalidFile, OSError):
            continue
        for _item_id, media in media_of(exercise):
            claimed.add((path.parent / media.src).resolve())
    return frozenset(claimed)


def _stem(path: Path) -> str:
    """`lesson` for lesson.mp4, lesson.vtt, lesson.fr.vtt and lesson.png."""
    stem = path.name.split(".", 1)[0]
    return stem


def _attachments(entries: list[Path]) -> dict[str, list[Path]]:
    """Caption and thumbnail files by the stem of the resource (file or package folder) they
    belong to."""
    resources = {_stem(p) for p in entries if detect_kind(p) is not None}
    attached: dict[str, list[Path]] = {}
    for path in entries:
        suffix = path.suffix.lower()
        if suffix in CAPTION_EXTENSIONS | THUMBNAIL_EXTENSIONS and _stem(path) in resources:
            attached.setdefault(_stem(path), []).append(path)
    return attached


def _caption_language(path: Path) -> str:
    parts = path.name.split(".")
    return parts[-2] if len(parts) >= 3 and _LANGUAGE_SUFFIX.match(parts[-2]) else ""


def _plan_resource(
    path: Path, relative: str, kind: str, by_stem: dict[str, list[Path]]
) -> PlannedNode:
    inspection = inspect_file(path, kind)
    check_offline(inspection)  # a channel must play with no internet
    node = PlannedNode(
        rel=relative,
        kind=inspection.kind,
        title=inspection.title or _title_from_name(path.stem),
        inspection=inspection,
    )
    node.files.append(_main_file(path, inspection))
    thumbnail_set = False
    texts = []
    for extra in by_stem.get(_stem(path), []):
        if extra.suffix.lower() in CAPTION_EXTENSIONS:
            try:
                vtt = caption_to_vtt(extra)
            except InvalidFile as error:
                raise InvalidFile(f"{extra.name}: {error}") from error
            language = _caption_language(extra)
            node.files.append(PlannedFile(FileRole.CAPTION, data=vtt, ext="vtt", language=language))
            texts.append(captions_text(vtt))
        elif not thumbnail_set:
            node.files.append(
                PlannedFile(FileRole.THUMBNAIL, path=extra, ext=extra.suffix.lstrip(".").lower())
            )
            thumbnail_set = True
    if not thumbnail_set and inspection.thumbnail:
        node.files.append(
            PlannedFile(
                FileRole.THUMBNAIL, data=inspection.thumbnail, ext=inspection.thumbnail_ext or "png"
            )
        )
    node.captions_text = " ".join(texts)
    node.files.extend(_exercise_files(path, inspection))
    return node


def _main_file(path: Path, inspection: Inspection) -> PlannedFile:
    """The file as it is, or what the inspection converted it into."""
    conversion = inspection.conversion
    if conversion is not None:
        return PlannedFile(FileRole.MAIN, data=conversion.data, ext=conversion.ext)
    return PlannedFile(FileRole.MAIN, path=path, ext=path.suffix.lstrip(".").lower())


def _exercise_files(path: Path, inspection: Inspection) -> list[PlannedFile]:
    """An exercise's pictures and sounds, labelled with their `src`: from the folder of a
    `*.exercise.json`, or as read from a converted QTI package."""
    if inspection.kind != Kind.EXERCISE:
        return []
    converted = dict(inspection.conversion.files) if inspection.conversion else {}
    files = []
    for src in inspection.options.get("media", []):
        ext = Path(src).suffix.lstrip(".").lower()
        if src in converted:
            files.append(
                PlannedFile(FileRole.SUPPLEMENTARY, data=converted[src], ext=ext, label=src)
            )
        else:
            files.append(
                PlannedFile(FileRole.SUPPLEMENTARY, path=path.parent / src, ext=ext, label=src)
            )
    return files


def _conversion_notes(root: PlannedNode) -> list[str]:
    """What converting the QTI packages left out, one line each, prefixed with the file."""
    return [
        f"{node.rel}: {note}"
        for node in _resources(root)
        if node.inspection is not None and node.inspection.conversion is not None
        for note in node.inspection.conversion.notes
    ]


def _resources(node: PlannedNode) -> list[PlannedNode]:
    if node.kind != Kind.TOPIC:
        return [node]
    return [leaf for child in node.children for leaf in _resources(child)]


def _identity(meta: metadata_file.Metadata, library: LibraryFolder) -> tuple[uuid.UUID, int]:
    """The channel id (metadata, else the package being rebuilt, else new) and next version."""
    existing = library.channel_ids()
    if meta.channel_id:
        channel_id = meta.channel_id
    elif len(existing) == 1:
        channel_id = existing[0]
    elif existing:
        raise KalanError(
            f"{library.root} holds several channels; name the one to rebuild with `id:`"
            " in the metadata file"
        )
    else:
        channel_id = uuid.uuid4()
    previous = 0
    if channel_id in existing:
        try:
            raw, signature = library.read_manifest(channel_id)
            previous = parse_signed(raw, signature).version
        except (ManifestError, StoreError):
            previous = 0
    version = meta.version or previous + 1
    if version <= previous:
        raise KalanError(f"version {version} is not newer than the package's v{previous}")
    return channel_id, version


# ---------------------------------------------------------------- writing


def _write(
    root: PlannedNode,
    meta: metadata_file.Metadata,
    library: LibraryFolder,
    channel_id: uuid.UUID,
    version: int,
    key: Ed25519PrivateKey,
    publisher: str,
    ignored: list[str],
) -> BuildReport:
    added: list[str] = []
    try:
        tree = _node_json(root, channel_id, meta, library, added)
        tree["title"] = meta.channel.get("title") or tree["title"]
        data: dict[str, Any] = {
            "format": FORMAT,
            "id": str(channel_id),
            "version": version,
            "title": tree["title"],
            "description": meta.channel.get("description", ""),
            "language": meta.channel.get("language", ""),
            "licence": meta.channel.get("licence", ""),
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "publisher": {
                "name": meta.channel.get("publisher") or publisher,
                "public_key": public_key_text(key),
            },
            "root": tree,
        }
        raw = dump(data)
        library.write_manifest(channel_id, raw, sign(raw, key))
    except BaseException:
        for sha in added:
            library.remove(sha)
        raise
    resources = _resources(root)
    files = {f["sha256"]: f["size"] for r in _walk_json(tree) for f in r.get("files", [])}
    return BuildReport(
        channel_id=channel_id,
        version=version,
        title=data["title"],
        resources=len(resources),
        files=len(files),
        bytes=sum(files.values()),
        ignored=ignored,
    )


def _walk_json(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("children", []) for n in _walk_json(child))]


def _store(planned: PlannedFile, library: LibraryFolder, added: list[str]) -> tuple[str, int]:
    """Copy one file into the package; remembers files new to it, to undo on failure."""
    try:
        if planned.data is not None:
            installed = library.install_bytes(planned.data)
        else:
            assert planned.path is not None
            installed = library.install_path(planned.path)
    except OSError as error:
        raise StoreError(f"cannot copy into {library.root}: {error.strerror}") from error
    if installed.new:
        added.append(installed.sha256)
    return installed.sha256, installed.size


def _node_json(
    node: PlannedNode,
    channel_id: uuid.UUID,
    meta: metadata_file.Metadata,
    library: LibraryFolder,
    added: list[str],
) -> dict[str, Any]:
    node_id = uuid.uuid5(channel_id, node.rel or "/")
    override = meta.for_path(node.rel)
    if node.kind == Kind.TOPIC:
        return {
            "id": str(node_id),
            "kind": Kind.TOPIC,
            "title": override.get("title") or node.title,
            "description": override.get("description", ""),
            "children": [
                _node_json(child, channel_id, meta, library, added) for child in node.children
            ],
        }
    inspection = node.inspection
    assert inspection is not None
    files = []
    for planned in node.files:
        sha, size = _store(planned, library, added)
        mime = mimetypes.guess_type(f"x.{planned.ext}")[0] or "application/octet-stream"
        files.append(
            {
                "sha256": sha,
                "size": size,
                "role": planned.role,
                "language": (
                    planned.language or override.get("language") or inspection.language
                    if planned.role in {FileRole.MAIN, FileRole.CAPTION}
                    else ""
                ),
                "ext": planned.ext,
                "mime": "text/vtt" if planned.ext == "vtt" else mime,
                "label": planned.label,
            }
        )
    accessibility = list(inspection.accessibility)
    if any(f["role"] == FileRole.CAPTION for f in files):
        accessibility.append(Accessibility.CAPTIONS)
    thumbnail = next((f["sha256"] for f in files if f["role"] == FileRole.THUMBNAIL), None)
    return {
        "id": str(node_id),
        "kind": node.kind,
        "title": override.get("title") or node.title,
        "description": override.get("description") or inspection.description,
        "language": override.get("language") or inspection.language,
        "grade_levels": override.get("grade_levels", []),
        "subjects": override.get("subjects", []),
        "curriculum_codes": override.get("curriculum_codes", []),
        "licence": override.get("licence") or meta.channel.get("licence", ""),
        "author": override.get("author") or inspection.author,
        "attribution": override.get("attribution", ""),
        "accessibility": override.get("accessibility") or sorted(set(accessibility)),
        "duration": override.get("duration") or inspection.duration,
        "page_count": inspection.page_count,
        "size": sum(f["size"] for f in files),
        "thumbnail": thumbnail,
        "entry": inspection.entry,
        "options": inspection.options,
        "text": " ".join(filter(None, [inspection.text, node.captions_text]))[:20_000],
        "files": files,
    }
