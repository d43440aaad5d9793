"""EPUB books read with ebooklib: metadata, reading order, text and a cover thumbnail.

The zip is checked first (paths, links, bombs, a META-INF/container.xml) and its
unpacked size bounded, because ebooklib reads every member into memory.
"""

import warnings
from pathlib import Path
from typing import Any

import ebooklib  # type: ignore[import-untyped]
from django.utils.translation import gettext as _
from ebooklib import epub

from kalan.content.inspect.html_text import html_title_and_text
from kalan.content.inspect.inspection import MAX_TEXT, Inspection, InvalidFile
from kalan.content.inspect.thumbnails import thumbnail_from_bytes
from kalan.content.inspect.zip_package import ZipPackage

MAX_UNPACKED = 1024 * 1024 * 1024
CONTAINER = "META-INF/container.xml"
OPF = epub.NAMESPACES["OPF"]
DOCUMENT_TYPES = {"application/xhtml+xml", "text/html"}


def inspect_epub(path: Path) -> Inspection:
    """Title, authors, language, description, spine length, text and cover.

    Raises InvalidFile for a file that is not a zip, lacks the EPUB container or
    package document, or that ebooklib cannot read.
    """
    _check_package(path)
    book = _read(path)
    metadata = _dc_values(book)
    spine = [book.get_item_with_id(idref) for idref, _linear in book.spine]
    inspection = Inspection(
        kind="epub",
        title=(metadata["title"] or [""])[0],
        author=", ".join(metadata["creator"]),
        language=(metadata["language"] or [""])[0],
        description=html_title_and_text((metadata["description"] or [""])[0].encode())[1],
        page_count=len(book.spine),
        text=_text(spine),
        options=_options(book, metadata),
    )
    if "textual" in _meta_properties(book).get("schema:accessModeSufficient", ""):
        inspection.accessibility = ["screen_reader"]
    thumbnail = _cover_thumbnail(book)
    if thumbnail:
        inspection.thumbnail, inspection.thumbnail_ext = thumbnail
    return inspection


def _check_package(path: Path) -> None:
    with ZipPackage(path) as package:
        if not package.has(CONTAINER):
            raise InvalidFile(
                _("the EPUB has no %(name)s: it is not an EPUB") % {"name": CONTAINER}
            )
        unpacked = sum(info.file_size for info in package.infos())
    if unpacked > MAX_UNPACKED:
        raise InvalidFile(_("the EPUB unpacks to more than 1 GB"))


def _read(path: Path) -> epub.EpubBook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ebooklib warns about its own future defaults
        try:
            book = epub.read_epub(str(path), options={"ignore_ncx": True})
        except Exception as error:  # ebooklib lets KeyError, AttributeError... escape
            raise InvalidFile(
                _("the EPUB cannot be read: its package document is missing or damaged")
            ) from error
    if not book.spine:
        raise InvalidFile(_("the EPUB has an empty reading order (spine)"))
    return book


def _dc_values(book: epub.EpubBook) -> dict[str, list[str]]:
    values = {}
    for name in ("title", "creator", "language", "description", "rights"):
        found = book.get_metadata("DC", name)
        values[name] = [" ".join(value.split()) for value, _attrs in found if value]
    return values


def _meta_properties(book: epub.EpubBook) -> dict[str, str]:
    """EPUB 3 <meta property="..."> values of the book as a whole (not refinements)."""
    properties: dict[str, str] = {}
    for value, attrs in book.metadata.get(OPF, {}).get("meta", []):
        name = attrs.get("property")
        if name and value and not attrs.get("refines"):
            properties[name] = " ".join([properties.get(name, ""), value]).strip()
    return properties


def _options(book: epub.EpubBook, metadata: dict[str, list[str]]) -> dict[str, Any]:
    properties = _meta_properties(book)
    return {
        "layout": properties.get("rendition:layout", "reflowable"),
        "direction": book.direction or "",
        "rights": (metadata["rights"] or [""])[0],
    }


def _text(spine: list[Any]) -> str:
    parts: list[str] = []
    size = 0
    for item in spine:
        if size >= MAX_TEXT:
            break
        if item is None or getattr(item, "media_type", "") not in DOCUMENT_TYPES:
            continue
        text = html_title_and_text(item.content or b"", MAX_TEXT - size)[1]
        parts.append(text)
        size += len(text) + 1
    return " ".join(parts)[:MAX_TEXT]


def _cover_thumbnail(book: epub.EpubBook) -> tuple[bytes, str] | None:
    candidates = list(book.get_items_of_type(ebooklib.ITEM_COVER))
    # EPUB 2: <meta name="cover" content="item-id"/>, filed by ebooklib under either key.
    opf = book.metadata.get(OPF, {})
    for _value, attrs in [*opf.get("cover", []), *opf.get("meta", [])]:
        if attrs.get("name") == "cover" and attrs.get("content"):
            item = book.get_item_with_id(attrs["content"])
            if item is not None and item.media_type.startswith("image/"):
                candidates.append(item)
    for item in candidates:
        thumbnail = thumbnail_from_bytes(item.content or b"")
        if thumbnail:
            return thumbnail
    return None
