"""What a file is and what it holds: the inspection layer of the content app.

Public interface (see README.md next to this file for options per kind):

- detect_kind(path) -> kind or None (not a resource on its own: captions, images...)
- inspect_file(path, kind=None) -> Inspection; raises InvalidFile with a one-line reason
- caption_to_vtt(path) -> WebVTT bytes (.vtt checked, .srt converted); raises InvalidFile
- caption_cues(path) -> [CaptionCue(start, end, text)] for search and tests
- check_offline(inspection) raises InvalidFile when a SCORM/cmi5 launch URL leaves the package
"""

from collections.abc import Callable
from pathlib import Path

from django.utils.translation import gettext as _

from kalan.content.inspect.captions import (
    CaptionCue,
    caption_cues,
    caption_to_vtt,
    captions_text,
)
from kalan.content.inspect.cmi5 import inspect_cmi5
from kalan.content.inspect.detect import CAPTION_EXTENSIONS, detect_kind
from kalan.content.inspect.epub import inspect_epub
from kalan.content.inspect.exercise import inspect_exercise
from kalan.content.inspect.h5p import inspect_h5p
from kalan.content.inspect.html5 import inspect_html5
from kalan.content.inspect.inspection import MAX_TEXT, Inspection, InvalidFile
from kalan.content.inspect.media import inspect_media
from kalan.content.inspect.offline import check_offline
from kalan.content.inspect.pdf import inspect_pdf
from kalan.content.inspect.scorm import inspect_scorm
from kalan.content.inspect.zim import inspect_zim

__all__ = [
    "MAX_TEXT",
    "CaptionCue",
    "Inspection",
    "InvalidFile",
    "caption_cues",
    "caption_to_vtt",
    "captions_text",
    "check_offline",
    "detect_kind",
    "inspect_file",
]

INSPECTORS: dict[str, Callable[[Path], Inspection]] = {
    "document": inspect_pdf,
    "epub": inspect_epub,
    "video": lambda path: inspect_media(path, "video"),
    "audio": lambda path: inspect_media(path, "audio"),
    "scorm": inspect_scorm,
    "cmi5": inspect_cmi5,
    "h5p": inspect_h5p,
    "html5": inspect_html5,
    "zim": inspect_zim,
    "exercise": inspect_exercise,
}


def inspect_file(path: Path, kind: str | None = None) -> Inspection:
    """Inspect `path` as `kind` (detected from the file when None).

    Raises InvalidFile, with a one-line reason that does not repeat the file's
    name, when the file cannot be read, is not a resource on its own, or breaks
    the rules of its kind.
    """
    if kind is None:
        kind = detect_kind(path)
    if kind is None:
        if path.suffix.lower() in CAPTION_EXTENSIONS:
            raise InvalidFile(_("captions are not a resource on their own; put them by a video"))
        raise InvalidFile(_("Kalan does not know this kind of file"))
    inspector = INSPECTORS.get(kind)
    if inspector is None:
        raise InvalidFile(_("%(kind)s is not a kind of resource a file can be") % {"kind": kind})
    try:
        return inspector(path)
    except FileNotFoundError:
        raise InvalidFile(_("the file does not exist")) from None
    except IsADirectoryError:
        raise InvalidFile(_("this is a folder, not a file")) from None
    except PermissionError:
        raise InvalidFile(_("the file cannot be read (permission denied)")) from None
