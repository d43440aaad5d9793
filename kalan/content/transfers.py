"""Imports and exports started from the pages: one Transfer row each, run in the background.

Sources are browsed before anything is imported (`browse_source`, `browse_channel`):
their manifests are verified and compared with what is installed, so the pages
show what an import would bring, and what it would refuse, before it starts.

`start_import` and `start_export` record a Transfer and queue `tasks.run_transfer_task`
once the row is committed; the task calls `run_transfer`, which runs the importer or
the exporter and writes progress into the row at most twice a second, then the
outcome (DONE with a summary, or FAILED with the one-line reason). The pages only
read the row.

One transfer runs at a time on an instance: `run_transfer` holds a lock file for
its whole run, so a second one waits (still "Waiting") instead of failing, and a
row left "In progress" while nobody holds the lock belongs to a process that died
(`recover_transfer` records it as failed; the files it copied are kept, so
starting it again resumes).
"""

import fcntl
import logging
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kalan.accounts.models import User
from kalan.content.exporter import export_channel
from kalan.content.importer import ImportReport, import_channel
from kalan.content.kinds import Kind
from kalan.content.manifest import Manifest, ManifestError, key_fingerprint, parse_signed
from kalan.content.models import Channel, Transfer
from kalan.content.peers import HttpSource
from kalan.content.sources import Source, SourceError, find_library, open_source
from kalan.content.store import hub_library
from kalan.core.errors import KalanError
from kalan.core.progress import human_size

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between two progress writes
IMPORT = "import"
EXPORT = "export"


# ---------------------------------------------------------------- starting


def start_import(
    *,
    source: str,
    channel_id: uuid.UUID,
    topic_ids: Sequence[uuid.UUID] = (),
    user: User | None = None,
) -> Transfer:
    """Record the import of one channel (all of it, or these topics) and queue it."""
    return _start(
        direction=IMPORT,
        source=source.strip(),
        channel_ids=[str(channel_id)],
        topic_ids=[str(topic) for topic in topic_ids],
        started_by=user,
    )


def start_export(*, channel_id: uuid.UUID, destination: str, user: User | None = None) -> Transfer:
    """Record the export of one installed channel into a folder and queue it."""
    return _start(
        direction=EXPORT,
        source=destination.strip(),
        channel_ids=[str(channel_id)],
        topic_ids=[],
        started_by=user,
    )


def _start(**fields: Any) -> Transfer:
    from kalan.content.tasks import enqueue_transfer

    with transaction.atomic():
        transfer = Transfer.objects.create(**fields)
        transaction.on_commit(lambda: enqueue_transfer(transfer.id))
    return transfer


# ---------------------------------------------------------------- running


def _lock_path() -> Path:
    return hub_library().root / "transfer.lock"


@contextmanager
def _transfer_lock(*, wait: bool) -> Iterator[bool]:
    """Hold the instance's transfer lock; yields False when `wait` is off and it is taken."""
    path = _lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def transfer_running() -> bool:
    """Whether some process of this instance is running a transfer now."""
    with _transfer_lock(wait=False) as free:
        return not free


class _Progress:
    """Writes progress into the row, at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, transfer_id: uuid.UUID) -> None:
        self.transfer_id = transfer_id
        self.last = 0.0

    def __call__(self, done: int, total: int, files_done: int, files_total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL and done < total:
            return
        self.last = now
        Transfer.objects.filter(id=self.transfer_id).update(
            bytes_done=done, bytes_total=total, files_done=files_done, files_total=files_total
        )


def run_transfer(transfer_id: uuid.UUID) -> str:
    """Run a waiting transfer to its end and return its status; safe to run twice.

    A transfer that is not waiting any more (already run, or running elsewhere) is
    left alone. Failures a person can cause end as FAILED with their one-line reason.
    """
    with _transfer_lock(wait=True):
        claimed = Transfer.objects.filter(id=transfer_id, status=Transfer.Status.QUEUED).update(
            status=Transfer.Status.RUNNING, message=""
        )
        transfer = Transfer.objects.select_related("started_by").get(id=transfer_id)
        if not claimed:
            return str(transfer.status)
        language = (transfer.started_by.language if transfer.started_by else "") or (
            settings.LANGUAGE_CODE
        )
        with translation.override(language):
            status, message = _run(transfer)
        _finish(transfer_id, status, message)
        return status


def _run(transfer: Transfer) -> tuple[str, str]:
    progress = _Progress(transfer.id)
    try:
        if transfer.direction == EXPORT:
            return Transfer.Status.DONE, _export(transfer, progress)
        return Transfer.Status.DONE, _import(transfer, progress)
    except KalanError as error:
        return Transfer.Status.FAILED, " ".join(str(error).split())
    except Exception:
        log.exception("transfer %s failed unexpectedly", transfer.id)
        return Transfer.Status.FAILED, _(
            "The transfer stopped because of an unexpected error; the hub's log has the details."
        )


def _import(transfer: Transfer, progress: _Progress) -> str:
    source = open_source(transfer.source)
    topics = [uuid.UUID(topic) for topic in transfer.topic_ids]
    summaries = []
    for raw_id in transfer.channel_ids:
        report = import_channel(source, uuid.UUID(raw_id), topic_ids=topics, progress=progress)
        summaries.append(_import_summary(report))
    return " ".join(summaries)


def _import_summary(report: ImportReport) -> str:
    text = _(
        "%(title)s, version %(version)d. Resources: %(resources)d. Files copied: %(copied)d"
        " (%(size)s). Files already here: %(present)d."
    ) % {
        "title": report.title,
        "version": report.version,
        "resources": report.resources,
        "copied": report.files_copied,
        "size": human_size(report.bytes_copied),
        "present": report.files_present,
    }
    if report.skipped:
        text += " " + _(
            "Resources left out because their files are not in the source: %(count)d."
        ) % {"count": len(report.skipped)}
    return text


def _export(transfer: Transfer, progress: _Progress) -> str:
    destination = Path(transfer.source).expanduser()
    summaries = []
    for raw_id in transfer.channel_ids:
        report = export_channel(uuid.UUID(raw_id), destination, progress=progress)
        summaries.append(
            _(
                "%(title)s, version %(version)d. Files copied: %(copied)d (%(size)s). Files"
                " already in the folder: %(present)d."
            )
            % {
                "title": report.title,
                "version": report.version,
                "copied": report.files_copied,
                "size": human_size(report.bytes_copied),
                "present": report.files_present,
            }
        )
    return " ".join(summaries)


def _finish(transfer_id: uuid.UUID, status: str, message: str) -> None:
    fields: dict[str, Any] = {"status": status, "message": message}
    if status == Transfer.Status.DONE:
        transfer = Transfer.objects.get(id=transfer_id)
        fields["bytes_done"] = transfer.bytes_total
        fields["files_done"] = transfer.files_total
    Transfer.objects.filter(id=transfer_id).update(**fields)


# ---------------------------------------------------------------- recovering


def recover_transfer(transfer: Transfer) -> Transfer:
    """Make the row tell the truth about a transfer whose runner may have died.

    "In progress" while no process holds the transfer lock means the process that
    ran it stopped (the hub was restarted or killed): it is recorded as failed.
    A waiting transfer is handed to the runner again in case its wake-up was lost.
    """
    if transfer.status == Transfer.Status.RUNNING and not transfer_running():
        Transfer.objects.filter(id=transfer.id, status=Transfer.Status.RUNNING).update(
            status=Transfer.Status.FAILED,
            message=_(
                "The transfer stopped before the end (the hub was restarted?). Start it"
                " again: the files already copied are kept."
            ),
        )
        transfer.refresh_from_db()
    elif transfer.status == Transfer.Status.QUEUED and not transfer_running():
        from kalan.content.tasks import wake_runner

        wake_runner()
    return transfer


# ---------------------------------------------------------------- browsing a source

# Where a hub's operating system mounts USB sticks.
USB_ROOTS = (Path("/media"), Path("/run/media"), Path("/mnt"))


@dataclass(frozen=True)
class SourceChannel:
    """A channel a source offers, as its verified manifest describes it."""

    id: uuid.UUID
    title: str = ""
    description: str = ""
    version: int = 0
    language: str = ""
    resource_count: int = 0
    size: int = 0
    publisher_name: str = ""
    fingerprint: str = ""
    installed_version: int | None = None
    problem: str = ""  # why importing it would be refused; empty when it can be imported

    @property
    def size_text(self) -> str:
        return human_size(self.size)


@dataclass(frozen=True)
class SourceListing:
    label: str
    peer_name: str  # the hub's name, for a peer
    channels: list[SourceChannel]


@dataclass
class TopicNode:
    """A topic of a manifest with what it holds (its resources, and those of its subtopics)."""

    id: str
    title: str
    resource_count: int = 0
    size: int = 0
    children: list["TopicNode"] = field(default_factory=list)

    @property
    def size_text(self) -> str:
        return human_size(self.size)


@dataclass(frozen=True)
class ChannelTree:
    channel: SourceChannel
    root: TopicNode


def browse_source(source: Source) -> SourceListing:
    """The channels of a source, each verified; one that would be refused says why.

    Raises SourceError when the source itself cannot be read.
    """
    installed: dict[uuid.UUID, Mapping[str, Any]] = {
        row["id"]: row for row in Channel.objects.values("id", "version", "public_key")
    }
    channels = [
        _source_channel(source, channel_id, installed) for channel_id in source.channel_ids()
    ]
    name = source.index().name if isinstance(source, HttpSource) else ""
    return SourceListing(
        label=source.label,
        peer_name=name,
        channels=sorted(channels, key=lambda row: (row.title.casefold(), str(row.id))),
    )


def _verified(source: Source, channel_id: uuid.UUID) -> Manifest:
    manifest = parse_signed(*source.read_manifest(channel_id))
    if manifest.id != channel_id:
        raise ManifestError(f"the manifest of {channel_id} describes another channel")
    return manifest


def _source_channel(
    source: Source, channel_id: uuid.UUID, installed: dict[uuid.UUID, Mapping[str, Any]]
) -> SourceChannel:
    try:
        manifest = _verified(source, channel_id)
    except (ManifestError, SourceError) as error:
        return SourceChannel(id=channel_id, title=str(channel_id), problem=str(error))
    return _describe(manifest, installed.get(channel_id))


def _describe(manifest: Manifest, mine: Mapping[str, Any] | None) -> SourceChannel:
    resources = [node for node, _, _ in manifest.nodes() if node["kind"] != Kind.TOPIC]
    problem = ""
    if mine and mine["public_key"] != manifest.public_key:
        problem = _("It is signed by another publisher key than the installed channel.")
    elif mine and manifest.version < mine["version"]:
        problem = _("It is older than the installed version.")
    data = manifest.data
    return SourceChannel(
        id=manifest.id,
        title=manifest.title,
        description=str(data.get("description") or ""),
        version=manifest.version,
        language=str(data.get("language") or ""),
        resource_count=len(resources),
        size=sum(int(node.get("size") or 0) for node in resources),
        publisher_name=str(data["publisher"].get("name") or ""),
        fingerprint=key_fingerprint(manifest.public_key),
        installed_version=mine["version"] if mine else None,
        problem=problem,
    )


def browse_channel(source: Source, channel_id: uuid.UUID) -> ChannelTree:
    """A channel's topic tree from its verified manifest, for choosing topics.

    Raises SourceError or ManifestError when it cannot be read or verified.
    """
    manifest = _verified(source, channel_id)
    mine = Channel.objects.filter(id=channel_id).values("version", "public_key").first()
    return ChannelTree(channel=_describe(manifest, mine), root=_topic(manifest.data["root"]))


def _topic(node: dict[str, Any]) -> TopicNode:
    topic = TopicNode(id=str(node["id"]), title=str(node["title"]))
    for child in node.get("children", []):
        if child["kind"] == Kind.TOPIC:
            sub = _topic(child)
            topic.children.append(sub)
            topic.resource_count += sub.resource_count
            topic.size += sub.size
        else:
            topic.resource_count += 1
            topic.size += int(child.get("size") or 0)
    return topic


@dataclass(frozen=True)
class FoundLibrary:
    path: Path
    channel_count: int


def find_usb_libraries(roots: Sequence[Path] = USB_ROOTS) -> list[FoundLibrary]:
    """Library folders on mounted drives (/media/<stick>, /media/<user>/<stick>, /mnt/...)."""
    found = []
    for root in roots:
        for candidate in _mounted_folders(root):
            try:
                library = find_library(candidate)
            except SourceError:
                continue
            found.append(FoundLibrary(library.root, len(library.channel_ids())))
    return found


def _mounted_folders(root: Path) -> Iterator[Path]:
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return
    for child in children:
        yield child
        try:
            yield from sorted(p for p in child.iterdir() if p.is_dir())
        except OSError:
            continue
