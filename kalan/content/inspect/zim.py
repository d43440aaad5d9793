"""Kiwix ZIM archives, read with python-libzim (the optional `kalan[zim]` extra).

libzim is GPL-3.0, so it is imported only here, only when a ZIM file is met.
The archive's own checks (Archive.check: checksum, directory, clusters) run on
files up to 200 MB; bigger ones are only opened (their header, directory and
metadata are read, which catches truncation) and options["integrity_checked"]
says so, since a full check reads every byte.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from kalan.content.inspect.html_text import html_title_and_text
from kalan.content.inspect.inspection import Inspection, InvalidFile, clip_text
from kalan.content.inspect.thumbnails import thumbnail_from_bytes

if TYPE_CHECKING:
    from libzim.reader import Archive  # type: ignore[import-untyped]

MAX_CHECKED_SIZE = 200 * 1024 * 1024
MAX_MAIN_PAGE = 2 * 1024 * 1024
# ZIM metadata names languages in ISO 639-3; channels use the shortest BCP 47 tag.
ISO_639_3 = {
    "ara": "ar", "bam": "bm", "deu": "de", "eng": "en", "fra": "fr", "ful": "ff",
    "hau": "ha", "por": "pt", "rus": "ru", "spa": "es", "swa": "sw", "tgk": "tg",
    "uzb": "uz", "wol": "wo", "zho": "zh", "bel": "be", "kir": "ky", "kaz": "kk",
}  # fmt: skip
PLACEHOLDERS = {"", "N/A"}


def inspect_zim(path: Path) -> Inspection:
    """Title, description, language, counts, main page and illustration of a ZIM file.

    Raises InvalidFile when libzim is not installed, cannot open the file, or
    finds it damaged.
    """
    archive = _open(path)
    checked = path.stat().st_size <= MAX_CHECKED_SIZE
    if checked and not _check(archive):
        raise InvalidFile(_("the ZIM file is damaged: it fails libzim's integrity check"))
    metadata = {name: _metadata(archive, name) for name in ("Title", "Description", "Language")}
    entry, main_text = _main_page(archive)
    raw_language = metadata["Language"].split(",")[0].strip()
    inspection = Inspection(
        kind="zim",
        title=metadata["Title"],
        description=metadata["Description"],
        language=ISO_639_3.get(raw_language, raw_language),
        entry=entry,
        text=clip_text(" ".join([metadata["Title"], metadata["Description"], main_text])),
        options=_options(archive, checked, metadata["Language"]),
    )
    thumbnail = _illustration(archive)
    if thumbnail:
        inspection.thumbnail, inspection.thumbnail_ext = thumbnail
    return inspection


def _open(path: Path) -> "Archive":
    try:
        from libzim.reader import Archive
    except ImportError:
        raise InvalidFile(_("ZIM files need the kalan[zim] extra")) from None
    try:
        return Archive(path)
    except RuntimeError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidFile(
            _("the file is not a readable ZIM archive (%(reason)s)") % {"reason": reason}
        ) from None


def _check(archive: "Archive") -> bool:
    try:
        return bool(archive.check())
    except RuntimeError:
        return False


def _metadata(archive: "Archive", name: str) -> str:
    try:
        value = archive.get_metadata(name).decode("utf-8", "replace").strip()
    except (RuntimeError, KeyError):
        return ""
    return "" if value in PLACEHOLDERS else " ".join(value.split())


def _main_page(archive: "Archive") -> tuple[str, str]:
    """The main page's path (redirects followed) and its text; ("", "") without one."""
    try:
        if not archive.has_main_entry:
            return "", ""
        entry = archive.main_entry
        for _hop in range(10):
            if not entry.is_redirect:
                break
            entry = entry.get_redirect_entry()
        item = entry.get_item()
        text = ""
        if item.mimetype.startswith("text/html") and item.size <= MAX_MAIN_PAGE:
            text = html_title_and_text(bytes(item.content))[1]
        return entry.path, text
    except RuntimeError:
        return "", ""


def _options(archive: "Archive", checked: bool, language: str) -> dict[str, Any]:
    return {
        "article_count": archive.article_count,
        "media_count": archive.media_count,
        "has_fulltext_index": archive.has_fulltext_index,
        "integrity_checked": checked,
        "zim_language": language,
    }


def _illustration(archive: "Archive") -> tuple[bytes, str] | None:
    try:
        if not archive.has_illustration():
            return None
        return thumbnail_from_bytes(bytes(archive.get_illustration_item().content))
    except (RuntimeError, ValueError, KeyError):
        return None
