"""Export installed channels into a library folder (a USB stick, a shared folder).

The manifest and its signature are copied byte for byte, so the receiving hub
verifies the original publisher's signature. Files already in the destination
are skipped: exporting several channels to one stick stores shared files once,
and an interrupted export resumes.
"""

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from kalan.content.importer import SPACE_MARGIN, Progress
from kalan.content.models import Channel, NodeFile
from kalan.content.store import LibraryFolder, StoreError, hub_library
from kalan.core.errors import KalanError, NotFound
from kalan.core.progress import human_size as _size


@dataclass
class ExportReport:
    channel_id: uuid.UUID
    title: str
    version: int
    files_copied: int = 0
    bytes_copied: int = 0
    files_present: int = 0

    def summary(self) -> str:
        return (
            f"{self.title} (v{self.version}): {self.files_copied} files copied"
            f" ({_size(self.bytes_copied)}), {self.files_present} already there"
        )


def export_channel(
    channel_id: uuid.UUID,
    destination: Path,
    *,
    progress: Progress | None = None,
    library: LibraryFolder | None = None,
) -> ExportReport:
    """Write channel `channel_id` into the library folder `destination` (created if needed).

    Raises NotFound, StoreError (no space, unwritable destination).
    """
    library = library or hub_library()
    channel = Channel.objects.filter(id=channel_id).first()
    if channel is None:
        raise NotFound(f"channel {channel_id} is not installed here")
    if destination.exists() and not destination.is_dir():
        raise KalanError(f"{destination} is not a folder")
    raw, signature = library.read_manifest(channel_id)
    files = dict(NodeFile.objects.filter(node__channel_id=channel_id).values_list("sha256", "size"))
    target = LibraryFolder(destination)
    try:
        destination.mkdir(parents=True, exist_ok=True)
        target.clean_tmp()
    except OSError as error:
        raise StoreError(f"cannot write to {destination}: {error.strerror}") from error
    to_copy = {sha: size for sha, size in sorted(files.items()) if not target.has(sha)}
    needed = sum(to_copy.values())
    free = shutil.disk_usage(destination).free
    if needed + SPACE_MARGIN // 10 > free:
        raise StoreError(
            f"not enough free space in {destination}: the export needs {_size(needed)},"
            f" {_size(free)} is free"
        )
    report = ExportReport(channel_id, channel.title, channel.version)
    report.files_present = len(files) - len(to_copy)
    done_bytes, done_files = 0, 0

    def tick(count: int) -> None:
        nonlocal done_bytes
        done_bytes += count
        if progress:
            progress(done_bytes, needed, done_files, len(to_copy))

    lost = [sha for sha in to_copy if not library.has(sha)]
    if lost:
        raise StoreError(
            f"{len(lost)} file(s) of this channel are missing from the content store;"
            " import the channel again to repair it"
        )
    for sha, size in to_copy.items():
        with library.open(sha) as stream:
            target.install(stream, sha256=sha, size=size, progress=tick)
        done_files += 1
        report.files_copied += 1
        report.bytes_copied += size
    target.write_manifest(channel_id, raw, signature)
    return report
