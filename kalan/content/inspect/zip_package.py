"""Zip-based packages (HTML5, H5P, SCORM, cmi5) opened safely for inspection.

Only the central directory is read when a package is opened; members are read
one at a time and never beyond a size limit, whatever their headers claim. A
package is refused as a whole when any member could escape the folder it is
unpacked into (absolute paths, `..`, drive letters), is a symbolic link, is
encrypted, appears twice, or unpacks to far more than it weighs (zip bombs):
the players serve members straight from the zip, but an exported package may
be unpacked elsewhere, so the check holds for every zip kind.
"""

import posixpath
import stat
import zipfile
import zlib
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import InvalidFile

MAX_MEMBERS = 200_000
MAX_READ = 20 * 1024 * 1024  # manifests, index pages: far more than any real one
BOMB_MIN_SIZE = 100 * 1024 * 1024
BOMB_RATIO = 200
# Files that archivers add and that say nothing about the package's layout.
JUNK_PREFIXES = ("__MACOSX/",)
JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


class ZipPackage:
    """An open zip whose member list has been checked; use it as a context manager."""

    def __init__(self, path: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
            raise InvalidFile(_("the file is not a zip archive, or it is damaged")) from error
        try:
            self.names = _checked_names(self._zip.infolist())
        except InvalidFile:
            self._zip.close()
            raise

    def __enter__(self) -> "ZipPackage":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._zip.close()

    def infos(self) -> list[zipfile.ZipInfo]:
        return self._zip.infolist()

    def has(self, name: str) -> bool:
        return name in self.names

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The member's bytes (at most MAX_READ unless `limit` says otherwise).

        Raises InvalidFile when it is larger or cannot be unpacked.
        """
        limit = MAX_READ if limit is None else limit
        try:
            with self._zip.open(name) as handle:
                data = handle.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
            raise InvalidFile(
                _(
                    "%(name)s in the zip cannot be unpacked: the zip is damaged or uses an"
                    " unsupported compression"
                )
                % {"name": name}
            ) from error
        if len(data) > limit:
            raise InvalidFile(
                _("%(name)s in the zip is larger than %(size)d MB")
                % {"name": name, "size": limit // (1024 * 1024)}
            )
        return data


def top_folder(names: frozenset[str]) -> str:
    """The one folder every member sits in ("" when the members are not all in one)."""
    meaningful = [name for name in names if not _is_junk(name)]
    tops = {name.split("/", 1)[0] for name in meaningful}
    if len(tops) == 1 and all("/" in name for name in meaningful):
        return tops.pop()
    return ""


def member_names(path: Path) -> frozenset[str] | None:
    """The file names in a zip, unchecked (for telling kinds apart), or None for a non-zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return frozenset(info.filename for info in archive.infolist() if not info.is_dir())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None


def member_for_url(url: str) -> str | None:
    """The member a relative URL opens (no query or fragment, %-escapes decoded).

    None when the URL names nothing or climbs out of the package.
    """
    member = posixpath.normpath(unquote(urlsplit(url.strip()).path))
    if member in {".", ".."} or member.startswith(("../", "/")):
        return None
    return member


def _is_junk(name: str) -> bool:
    return name.startswith(JUNK_PREFIXES) or name.rsplit("/", 1)[-1] in JUNK_NAMES


def _checked_names(infos: list[zipfile.ZipInfo]) -> frozenset[str]:
    if len(infos) > MAX_MEMBERS:
        raise InvalidFile(
            _("the zip holds too many files (more than %(count)d)") % {"count": MAX_MEMBERS}
        )
    names: set[str] = set()
    for info in infos:
        _check_member(info)
        if info.is_dir():
            continue
        if info.filename in names:
            raise InvalidFile(_("the zip holds %(name)s twice") % {"name": info.filename})
        names.add(info.filename)
    return frozenset(names)


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if (
        name.startswith(("/", "\\"))
        or ".." in parts
        or ":" in parts[0]
        or "\x00" in name
        or "\\" in name
    ):
        raise InvalidFile(_("the zip holds a path that is not allowed: %(name)s") % {"name": name})
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidFile(_("the zip holds a symbolic link: %(name)s") % {"name": name})
    if info.flag_bits & 0x1:
        raise InvalidFile(
            _("the zip is encrypted (password-protected); zip it again without a password")
        )
    if info.file_size > BOMB_MIN_SIZE and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        raise InvalidFile(
            _("%(name)s in the zip unpacks to %(size)d MB from almost nothing (a zip bomb?)")
            % {"name": name, "size": info.file_size // (1024 * 1024)}
        )
