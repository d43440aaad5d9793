"""Publishing a draft of the page builder as a channel, and exporting it to a USB stick.

Publishing turns the draft into the builder's plan (kalan.content.builder)
and lets the builder write the manifest, signed with this instance's key, into
the hub's own library; the importer then installs it from there like a channel
from anywhere else, with every check. The channel's id is the draft's id and
node ids derive from the draft nodes' ids, so a new version keeps learners'
progress and brings only the files that changed.

Exporting checks the destination the way a person can act on (not a folder,
missing, not empty, not writable, not enough space) before the exporter
copies anything.

The builder loads the inspectors' heavy libraries: it is imported inside the
functions that need it, so pages never pay for it.
"""

import os
import shutil
import tempfile
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from kalan.content.authoring import (
    LIST_FIELDS,
    TEXT_FIELDS,
    check_draft,
    file_ext,
    published_channel,
)
from kalan.content.importer import SPACE_MARGIN
from kalan.content.kinds import FileRole, Kind
from kalan.content.models import Channel, Draft, DraftNode, NodeFile
from kalan.content.store import Installed, LibraryFolder, hub_library
from kalan.core.errors import KalanError, ValidationFailed
from kalan.schools.models import School

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kalan.content.builder import PlannedNode
    from kalan.content.exporter import ExportReport
    from kalan.content.metadata_file import Metadata


class DraftNotReady(ValidationFailed):
    """The draft cannot be published yet; `problems` says what to complete."""


class _HubStore(LibraryFolder):
    """The hub's store as the builder sees it: a draft's files are in it already.

    The builder copies each file of a package into the package folder; here the
    package folder is the store itself, so a file already named by its SHA-256
    is taken as it is instead of being read and hashed again.
    """

    def install_path(self, source: Path) -> Installed:
        if source.parent.parent == self.files_dir and self.has(source.name):
            return Installed(source.name, source.stat().st_size, False)
        return super().install_path(source)


@dataclass(frozen=True)
class PublishReport:
    channel_id: uuid.UUID
    version: int
    resources: int
    files: int
    new_files: int  # files this version brings that the previous one did not have


def _planned_resource(node: DraftNode, library: LibraryFolder) -> "PlannedNode":
    from kalan.content.builder import PlannedFile, PlannedNode
    from kalan.content.inspect import Inspection, captions_text

    data = node.inspection or {}
    # Only what the file alone knows; the description is the node's own (see _fields).
    inspection = Inspection(
        kind=node.kind,
        duration=data.get("duration"),
        page_count=data.get("page_count"),
        text=str(data.get("text") or ""),
        entry=str(data.get("entry") or ""),
        options=dict(data.get("options") or {}),
    )
    files: list[PlannedFile] = [
        PlannedFile(
            FileRole.MAIN, path=library.path(node.file_sha256), ext=file_ext(node.file_name)
        )
    ]
    texts = []
    for caption in node.captions:
        path = library.path(caption["sha256"])
        files.append(
            PlannedFile(
                FileRole.CAPTION,
                path=path,
                ext="vtt",
                language=caption.get("language", ""),
                label=caption.get("label", ""),
            )
        )
        with suppress(OSError):
            texts.append(captions_text(path.read_bytes()))
    if thumbnail := data.get("thumbnail"):
        ext = data.get("thumbnail_ext") or "png"
        files.append(PlannedFile(FileRole.THUMBNAIL, path=library.path(thumbnail), ext=ext))
    return PlannedNode(
        rel=str(node.id),
        kind=node.kind,
        title=node.title,
        inspection=inspection,
        files=files,
        captions_text=" ".join(texts),
    )


def _fields(node: DraftNode) -> dict[str, Any]:
    """What the author wrote: the builder takes these over what inspection found."""
    if node.kind == Kind.TOPIC:
        return {"title": node.title, "description": node.description}
    fields = {name: getattr(node, name) for name in TEXT_FIELDS}
    fields.update({name: list(getattr(node, name)) for name in LIST_FIELDS})
    return fields


def _plan(draft: Draft, nodes: list[DraftNode], publisher: str) -> tuple["PlannedNode", "Metadata"]:
    """The draft as the builder's plan (empty topics are left out) and its metadata."""
    from kalan.content.builder import PlannedNode
    from kalan.content.metadata_file import Metadata

    meta = Metadata(
        channel={
            "title": draft.title,
            "description": draft.description,
            "language": draft.language,
            "licence": draft.licence,
            "publisher": publisher,
        },
        resources={str(node.id): _fields(node) for node in nodes},
    )
    library = hub_library()
    children: dict[uuid.UUID | None, list[DraftNode]] = {}
    for node in sorted(nodes, key=lambda n: (n.position, str(n.id))):
        children.setdefault(node.parent_id, []).append(node)

    def plan(node: DraftNode) -> PlannedNode | None:
        if node.kind != Kind.TOPIC:
            return _planned_resource(node, library)
        planned = [child for child in map(plan, children.get(node.id, [])) if child]
        if not planned:  # as `kalan content build` leaves out empty folders
            return None
        return PlannedNode(rel=str(node.id), kind=Kind.TOPIC, title=node.title, children=planned)

    top = [child for child in map(plan, children.get(None, [])) if child]
    root = PlannedNode(rel="", kind=Kind.TOPIC, title=draft.title, children=top)
    return root, meta


def publish_draft(
    *, draft: Draft, publisher: str | None = None, key: "Ed25519PrivateKey | None" = None
) -> PublishReport:
    """Publish the draft as the next version of its channel, installed on this hub.

    The manifest is signed with this instance's key (or `key`) and written into
    the hub's library, then installed by the importer, which checks it like any
    other; the channel belongs to the draft's school. Raises DraftNotReady
    (what to complete), ManifestError, StoreError, ImportBusy. On failure the
    library keeps the manifest it had.
    """
    from kalan.content.builder import _write
    from kalan.content.importer import import_channel
    from kalan.content.keys import load_or_create_key
    from kalan.content.sources import DirectorySource

    nodes = list(DraftNode.objects.filter(draft=draft))
    problems = check_draft(draft, nodes)
    if problems:
        raise DraftNotReady(problems[0].message, [problem.message for problem in problems])
    channel_id = draft.id
    existing = Channel.objects.filter(id=channel_id).first()
    before = set(
        NodeFile.objects.filter(node__channel_id=channel_id).values_list("sha256", flat=True)
    )
    version = max(draft.published_version, existing.version if existing else 0) + 1
    library = _HubStore(hub_library().root)
    previous = _saved_manifest(library, channel_id)
    if publisher is None:
        school = School.objects.filter(id=draft.school_id).values_list("name", flat=True)
        publisher = school.first() or ""
    root, meta = _plan(draft, nodes, publisher)
    built = _write(root, meta, library, channel_id, version, key or load_or_create_key(), "", [])
    try:
        import_channel(DirectorySource(hub_library()), channel_id)
    except BaseException:
        _restore_manifest(library, channel_id, previous)
        raise
    with transaction.atomic():
        Channel.objects.filter(id=channel_id).update(school_id=draft.school_id)
        Draft.objects.filter(id=draft.id).update(published_version=version)
    draft.published_version = version
    after = set(
        NodeFile.objects.filter(node__channel_id=channel_id).values_list("sha256", flat=True)
    )
    return PublishReport(channel_id, version, built.resources, built.files, len(after - before))


def _saved_manifest(library: LibraryFolder, channel_id: uuid.UUID) -> tuple[bytes, bytes] | None:
    try:
        return library.read_manifest(channel_id)
    except KalanError:
        return None


def _restore_manifest(
    library: LibraryFolder, channel_id: uuid.UUID, previous: tuple[bytes, bytes] | None
) -> None:
    if previous is None:
        library.remove_manifest(channel_id)
    else:
        library.write_manifest(channel_id, *previous)


# ---------------------------------------------------------------- export


class ExportRefused(ValidationFailed):
    """The destination folder cannot take the channel; nothing was written."""


def _refuse(message: str) -> ExportRefused:
    return ExportRefused(message, [f"destination: {message}"])


def _check_destination(destination: str) -> Path:
    """The folder to export into, checked the way a person can act on. Raises ExportRefused."""
    if not destination.strip():
        raise _refuse(_("Give the folder to export into."))
    path = Path(destination.strip()).expanduser()
    if not path.is_absolute():
        raise _refuse(_("Give the full path of the folder, starting with /."))
    if path.exists() and not path.is_dir():
        raise _refuse(_("%(path)s is not a folder.") % {"path": path})
    if not path.exists() and not path.parent.is_dir():
        raise _refuse(
            _("%(path)s does not exist: is the USB stick plugged in and mounted?")
            % {"path": path.parent}
        )
    if path.is_dir() and any(path.iterdir()) and not (path / "channels").is_dir():
        # Export empties the folder's tmp/ and writes channels/ and files/: never in a
        # folder that holds other things (a stick's root, a home folder).
        raise _refuse(
            _(
                "%(path)s already holds other files: choose an empty or new folder,"
                " e.g. %(example)s."
            )
            % {"path": path, "example": path / "kalan-library"}
        )
    _check_writable(path if path.exists() else path.parent)
    return path


def _check_writable(folder: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".kalan-probe-"):
            pass
    except OSError as error:
        raise _refuse(
            _("%(path)s cannot be written to (%(reason)s): is the USB stick locked or read-only?")
            % {"path": folder, "reason": error.strerror or error}
        ) from error


def _check_space(channel_id: uuid.UUID, path: Path) -> None:
    files = dict(NodeFile.objects.filter(node__channel_id=channel_id).values_list("sha256", "size"))
    target = LibraryFolder(path)
    needed = sum(size for sha, size in files.items() if not target.has(sha))
    free = shutil.disk_usage(path if path.exists() else path.parent).free
    if needed + SPACE_MARGIN // 10 > free:
        raise _refuse(
            _("Not enough space in %(path)s: the channel needs %(needed)s, %(free)s is free.")
            % {"path": path, "needed": filesizeformat(needed), "free": filesizeformat(free)}
        )


def export_draft(*, draft: Draft, destination: str) -> "ExportReport":
    """Export the draft's published channel into a library folder (a USB stick).

    The folder is created when its parent exists. Raises ExportRefused (not
    published, not a folder, missing, not empty, not writable, not enough
    space, or what the exporter refuses), with the reason on `destination`.
    """
    from kalan.content.exporter import export_channel

    if published_channel(draft) is None:
        raise ExportRefused(_("Publish the channel before exporting it."))
    path = _check_destination(destination)
    _check_space(draft.id, path)
    try:
        return export_channel(draft.id, path)
    except KalanError as error:
        raise _refuse(str(error)) from error
    except OSError as error:
        raise _refuse(
            _("%(path)s cannot be written to (%(reason)s).")
            % {"path": path, "reason": error.strerror or error}
        ) from error


def mounted_folders() -> list[str]:
    """Mounted folders where USB sticks usually appear, for the export page to suggest."""
    found: list[str] = []
    for base in (Path("/media"), Path("/mnt"), Path("/run/media")):
        with suppress(OSError):
            for entry in sorted(base.iterdir()):
                if os.path.ismount(entry):
                    found.append(str(entry))
                elif entry.is_dir():  # /media/<user>/<label> on desktop systems
                    found += [str(e) for e in sorted(entry.iterdir()) if os.path.ismount(e)]
    return found
