"""Where channels come from: a library folder on disk (package, USB) or a peer hub.

Every source offers the same four things: which channels it holds, a
channel's signed manifest, which files it can provide, and a stream of one
file. The importer trusts none of it: manifests are verified and every file
is hashed on arrival.
"""

import uuid
from pathlib import Path
from typing import BinaryIO, Protocol

from django.utils.translation import gettext as _

from kalan.content.store import LibraryFolder
from kalan.core.errors import KalanError

# Names under which a USB stick or a shared folder may hold a library folder.
LIBRARY_SUBFOLDERS = ("kalan-library", "KALAN", "kalan")


class SourceError(KalanError):
    """The source cannot be read (absent, not a library, unreachable)."""


class TransferInterrupted(KalanError):
    """The source went away during a copy; what was copied is kept for a rerun."""


class Source(Protocol):
    label: str

    def channel_ids(self) -> list[uuid.UUID]: ...

    def read_manifest(self, channel_id: uuid.UUID) -> tuple[bytes, bytes]: ...

    def available(self, sha256s: set[str]) -> set[str]: ...

    def open(self, sha256: str) -> BinaryIO: ...


class DirectorySource:
    """A library folder on a disk: a built package, a USB export, another hub's store."""

    def __init__(self, folder: LibraryFolder) -> None:
        self.folder = folder
        self.label = str(folder.root)

    def channel_ids(self) -> list[uuid.UUID]:
        return self.folder.channel_ids()

    def read_manifest(self, channel_id: uuid.UUID) -> tuple[bytes, bytes]:
        try:
            return self.folder.read_manifest(channel_id)
        except KalanError as error:
            raise SourceError(f"{self.label} does not hold channel {channel_id}") from error
        except OSError as error:
            raise SourceError(f"cannot read {self.label}: {error.strerror}") from error

    def available(self, sha256s: set[str]) -> set[str]:
        return {sha for sha in sha256s if self.folder.has(sha)}

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.folder.open(sha256)
        except OSError as error:
            raise TransferInterrupted(
                f"cannot read file {sha256} from {self.label}: {error.strerror}"
            ) from error


def find_library(path: Path) -> LibraryFolder:
    """The library folder at `path`, or in one of its usual subfolders (a USB stick's root).

    Raises SourceError when there is none.
    """
    if not path.exists():
        raise SourceError(_("%(path)s does not exist") % {"path": path})
    if not path.is_dir():
        raise SourceError(_("%(path)s is not a folder") % {"path": path})
    candidates = [path, *(path / name for name in LIBRARY_SUBFOLDERS)]
    for candidate in candidates:
        if (candidate / "channels").is_dir():
            return LibraryFolder(candidate)
    raise SourceError(_("%(path)s holds no Kalan channel (no channels/ folder)") % {"path": path})


def open_source(spec: str) -> Source:
    """A source from what a person typed: a folder path or a peer hub's http(s) URL."""
    if spec.startswith(("http://", "https://")):
        from kalan.content.peers import HttpSource

        return HttpSource(spec)
    return DirectorySource(find_library(Path(spec).expanduser()))
