"""PDF documents: pages, metadata and text with pypdf; a first-page thumbnail with PDFium.

The file is read through an open handle, so pypdf seeks instead of loading it
whole; text extraction stops at 20,000 characters or 200 pages. A PDF that
opens with the empty password (owner-password-only "protection") is accepted:
every viewer opens it without asking. One that needs a password is refused.
"""

import re
import threading
import warnings
from pathlib import Path
from typing import IO, Any

import pypdf
import pypdfium2  # type: ignore[import-untyped]
from django.utils.translation import gettext as _
from pypdf.generic import DictionaryObject

from kalan.content.inspect.inspection import MAX_TEXT, Inspection, InvalidFile
from kalan.content.inspect.thumbnails import MAX_HEIGHT, MAX_WIDTH, thumbnail_from_image

MAX_TEXT_PAGES = 200
HEADER_WINDOW = 1024  # the PDF header may sit anywhere in the first kilobyte
# PDFium is not thread-safe; a server may inspect uploads in several threads.
_PDFIUM_LOCK = threading.Lock()
# Values producers put in metadata when the author gave none.
_PLACEHOLDERS = {"untitled", "anonymous", "unknown", "none", "n/a", "title", "author"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WORD_PREFIX = re.compile(r"^Microsoft (Word|PowerPoint) - ", re.IGNORECASE)


def inspect_pdf(path: Path) -> Inspection:
    """Page count, title, author, subject, language, text and a thumbnail of page 1.

    Raises InvalidFile for a file that is not a readable PDF, needs a password,
    or has no pages.
    """
    with path.open("rb") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about every repaired defect
        if b"%PDF-" not in handle.read(HEADER_WINDOW):
            raise InvalidFile(_("the file is not a PDF (it has no %PDF- header)"))
        handle.seek(0)
        reader = _open(handle)
        page_count = _page_count(reader)
        info = _document_info(reader)
        inspection = Inspection(
            kind="document",
            title=_meaningful(info.get("/Title")),
            author=_meaningful(info.get("/Author")),
            description=_meaningful(info.get("/Subject")),
            language=_catalog_text(reader, "/Lang"),
            page_count=page_count,
            text=_text(reader, page_count),
            accessibility=["screen_reader"] if _is_tagged(reader) else [],
        )
    thumbnail = render_first_page(path)
    if thumbnail:
        inspection.thumbnail, inspection.thumbnail_ext = thumbnail
    return inspection


def render_first_page(path: Path) -> tuple[bytes, str] | None:
    """Page 1 rendered at most 480 px wide, or None when PDFium cannot render it."""
    with _PDFIUM_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            document = pypdfium2.PdfDocument(str(path))
        except (pypdfium2.PdfiumError, OSError, ValueError):
            return None
        try:
            page = document[0]
            width, height = page.get_size()
            scale = min(MAX_WIDTH / max(width, 1), MAX_HEIGHT / max(height, 1), 4.0)
            image = page.render(scale=scale).to_pil()
            return thumbnail_from_image(image)
        except (pypdfium2.PdfiumError, OSError, ValueError, IndexError):
            return None
        finally:
            document.close()


def _open(handle: IO[bytes]) -> pypdf.PdfReader:
    try:
        reader = pypdf.PdfReader(handle, strict=False)
        encrypted = reader.is_encrypted
    except Exception as error:  # pypdf raises many kinds of error on damaged files
        raise InvalidFile(_("the PDF cannot be read: it is damaged or not a PDF")) from error
    if encrypted and not _opens_without_password(reader):
        raise InvalidFile(
            _("the PDF is encrypted (password-protected); export it without a password")
        )
    return reader


def _opens_without_password(reader: pypdf.PdfReader) -> bool:
    try:
        return reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED
    except Exception:  # unsupported security handlers, missing crypto support...
        return False


def _page_count(reader: pypdf.PdfReader) -> int:
    try:
        count = len(reader.pages)
    except Exception as error:
        raise InvalidFile(_("the PDF cannot be read: its page tree is damaged")) from error
    if count == 0:
        raise InvalidFile(_("the PDF has no pages"))
    return count


def _document_info(reader: pypdf.PdfReader) -> dict[str, Any]:
    try:
        return dict(reader.metadata or {})
    except Exception:  # unreadable metadata does not stop anyone reading the pages
        return {}


def _meaningful(value: Any) -> str:
    text = " ".join(_CONTROL.sub(" ", value).split()) if isinstance(value, str) else ""
    text = _WORD_PREFIX.sub("", text)
    return "" if text.lower() in _PLACEHOLDERS else text


def _catalog_entry(reader: pypdf.PdfReader, key: str) -> Any:
    """An entry of the document catalog (resolved), or None when it is absent or unreadable."""
    try:
        catalog = reader.trailer["/Root"].get_object()
        value = catalog.get(key) if isinstance(catalog, DictionaryObject) else None
        return value.get_object() if value is not None else None
    except Exception:
        return None


def _catalog_text(reader: pypdf.PdfReader, key: str) -> str:
    value = _catalog_entry(reader, key)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _is_tagged(reader: pypdf.PdfReader) -> bool:
    """A tagged PDF (MarkInfo /Marked true) carries the structure screen readers follow."""
    mark_info = _catalog_entry(reader, "/MarkInfo")
    return isinstance(mark_info, DictionaryObject) and bool(mark_info.get("/Marked"))


def _text(reader: pypdf.PdfReader, page_count: int) -> str:
    parts: list[str] = []
    size = 0
    for number in range(min(page_count, MAX_TEXT_PAGES)):
        if size >= MAX_TEXT:
            break
        text = _page_text(reader, number)
        parts.append(text)
        size += len(text)
    return " ".join(" ".join(parts).split())[:MAX_TEXT]


def _page_text(reader: pypdf.PdfReader, number: int) -> str:
    try:
        return reader.pages[number].extract_text()
    except Exception:  # a page whose text cannot be extracted may still display
        return ""
