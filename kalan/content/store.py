"""The content-addressed file store, and the "library folder" layout it shares.

A library folder holds `channels/<id>.json` and `.sig` (signed manifests) and
`files/<sha[:2]>/<sha256>` (every file once, named by its SHA-256). A hub's own
store (KALAN_HOME/content), a package made by `kalan content build`, and a USB
export all have this layout.

A file enters the store only through `install`: it is written to `tmp/`,
hashed while it is written, checked against the expected digest and size,
then renamed into place. A file at its final name is therefore always whole
and correct; an interrupted copy leaves only a `tmp/` file, which the next
run removes.
"""

import errno
import hashlib
import io
import mmap
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from django.utils.translation import gettext as _

from kalan.core.errors import KalanError

CHUNK = 1024 * 1024
KERNEL_CHUNK = 64 * 1024 * 1024
HASH_WINDOW = 2 * 1024 * 1024  # a multiple of mmap.ALLOCATIONGRANULARITY


class StoreError(KalanError):
    """A file could not be stored (bad digest, disk full, unreadable source)."""


def _kernel_copy(
    stream: BinaryIO, out: BinaryIO, progress: Callable[[int], None] | None
) -> int | None:
    """Copy a file to a file inside the kernel (copy_file_range); None when not possible."""
    try:
        source_fd, target_fd = stream.fileno(), out.fileno()
        if not stat.S_ISREG(os.fstat(source_fd).st_mode):
            return None
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    copied = 0
    while True:
        try:
            count = os.copy_file_range(source_fd, target_fd, KERNEL_CHUNK)
        except OSError as error:
            if copied == 0 and error.errno in {errno.EXDEV, errno.ENOSYS, errno.EINVAL}:
                return None  # not supported here: copy in Python instead
            raise
        if count == 0:
            return copied
        copied += count
        if progress:
            progress(count)


def _copy_and_hash(
    stream: BinaryIO, out: BinaryIO, progress: Callable[[int], None] | None
) -> tuple[str, int]:
    digest = hashlib.sha256()
    written = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        out.write(chunk)
        written += len(chunk)
        if progress:
            progress(len(chunk))
    return digest.hexdigest(), written


def _hash_file(path: Path) -> str:
    """The SHA-256 of a file, hashed from its pages in the page cache: mapped a window at
    a time rather than copied (a quarter less CPU than reading it, on a 1 GiB import),
    and never more than one window mapped, so the process stays small."""
    digest = hashlib.sha256()
    with path.open("rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        for offset in range(0, size, HASH_WINDOW):
            length = min(HASH_WINDOW, size - offset)
            with mmap.mmap(
                handle.fileno(), length, access=mmap.ACCESS_READ, offset=offset
            ) as pages:
                digest.update(pages)
    return digest.hexdigest()


class Installed(NamedTuple):
    sha256: str
    size: int
    new: bool  # False when the store already had this file


class LibraryFolder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.channels_dir = root / "channels"
        self.files_dir = root / "files"
        self.tmp_dir = root / "tmp"

    # ------------------------------------------------------------ files

    def path(self, sha256: str) -> Path:
        return self.files_dir / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def install(
        self,
        stream: BinaryIO,
        *,
        sha256: str | None = None,
        size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Installed:
        """Copy `stream` into the store.

        With `sha256`/`size` given, a copy that does not match is discarded
        and StoreError raised. Raises StoreError when the disk is full.
        """
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        part = self.tmp_dir / f"{sha256 or uuid.uuid4().hex}.{os.getpid()}.part"
        try:
            with part.open("wb") as out:
                copied = _kernel_copy(stream, out, progress)
                if copied is None:
                    actual, written = _copy_and_hash(stream, out, progress)
            if copied is not None:  # hash what was stored, read back from the page cache
                actual, written = _hash_file(part), copied
            if (sha256 and actual != sha256) or (size is not None and written != size):
                raise StoreError(
                    _("file %(sha)s arrived damaged (its content does not match its SHA-256)")
                    % {"sha": sha256}
                )
            target = self.path(actual)
            new = not target.is_file()
            if new:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, target)
        except OSError as error:
            raise StoreError(
                _("cannot write to the content store: %(reason)s") % {"reason": error.strerror}
            ) from error
        finally:
            part.unlink(missing_ok=True)
        return Installed(actual, written, new)

    def install_path(self, source: Path) -> Installed:
        with source.open("rb") as stream:
            return self.install(stream)

    def install_bytes(self, data: bytes) -> Installed:
        import io

        return self.install(io.BytesIO(data))

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def clean_tmp(self) -> int:
        """Remove what interrupted copies left (only `*.part` files); returns how many."""
        removed = 0
        if self.tmp_dir.is_dir():
            for leftover in self.tmp_dir.glob("*.part"):
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed

    def all_files(self) -> Iterator[str]:
        if self.files_dir.is_dir():
            for folder in self.files_dir.iterdir():
                for path in folder.iterdir():
                    yield path.name

    def free_bytes(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(self.root).free

    # ------------------------------------------------------------ manifests

    def channel_ids(self) -> list[uuid.UUID]:
        ids = []
        if self.channels_dir.is_dir():
            for path in sorted(self.channels_dir.glob("*.json")):
                try:
                    ids.append(uuid.UUID(path.stem))
                except ValueError:
                    continue
        return ids

    def read_manifest(self, channel_id: uuid.UUID) -> tuple[bytes, bytes]:
        base = self.channels_dir / str(channel_id)
        try:
            return base.with_suffix(".json").read_bytes(), base.with_suffix(".sig").read_bytes()
        except FileNotFoundError as error:
            raise StoreError(f"channel {channel_id} is not in {self.root}") from error

    def write_manifest(self, channel_id: uuid.UUID, raw: bytes, signature: bytes) -> None:
        """Write the manifest and its signature, each replaced atomically."""
        self.channels_dir.mkdir(parents=True, exist_ok=True)
        base = self.channels_dir / str(channel_id)
        try:
            for suffix, data in ((".sig", signature), (".json", raw)):
                temporary = base.with_suffix(f"{suffix}.tmp")
                temporary.write_bytes(data)
                os.replace(temporary, base.with_suffix(suffix))
        except OSError as error:
            raise StoreError(f"cannot write to {self.channels_dir}: {error.strerror}") from error

    def remove_manifest(self, channel_id: uuid.UUID) -> None:
        base = self.channels_dir / str(channel_id)
        base.with_suffix(".json").unlink(missing_ok=True)
        base.with_suffix(".sig").unlink(missing_ok=True)


def hub_library() -> LibraryFolder:
    """This instance's own store (KALAN_HOME/content, or KALAN_CONTENT_DIR)."""
    from django.conf import settings

    return LibraryFolder(Path(settings.KALAN_CONTENT_DIR))
