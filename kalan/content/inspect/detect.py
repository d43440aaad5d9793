"""Which kind of resource a file is, from its name and, for a .zip, its member list."""

import re
from pathlib import Path

from kalan.content.inspect.html5 import html5_entry
from kalan.content.inspect.qti_package import is_qti_folder, is_qti_item, is_qti_zip
from kalan.content.inspect.zip_package import member_names

BY_EXTENSION = {
    ".pdf": "document",
    ".epub": "epub",
    ".h5p": "h5p",
    ".zim": "zim",
    **dict.fromkeys((".mp4", ".webm", ".ogv", ".m4v"), "video"),
    **dict.fromkeys((".mp3", ".ogg", ".oga", ".m4a", ".wav", ".opus"), "audio"),
}
CAPTION_EXTENSIONS = {".vtt", ".srt"}
SNIFF_BYTES = 64 * 1024
_COURSE_STRUCTURE = re.compile(rb"<([A-Za-z_][\w.-]*:)?courseStructure[\s>/]")


def detect_kind(path: Path) -> str | None:
    """The kind of resource `path` is, or None when it is not a resource on its own.

    Captions (.vtt, .srt) give None: the builder attaches them to their video. An
    .xml file is a bare cmi5 course structure when its root is <courseStructure>,
    and an exercise when its root is a QTI assessment item. A .zip is an exercise
    when it is a QTI package (qti_package.py: its manifest lists QTI resources), a
    SCORM package when imsmanifest.xml is at its top otherwise, a cmi5 course
    when cmi5.xml is, an HTML5 app when index.html is at its top or in its one
    folder, and None otherwise or when it cannot be opened as a zip. A folder is
    an exercise when it is an unzipped QTI package, and None otherwise (a topic).
    Members are not checked here (inspection refuses unsafe paths with the
    reason). Never raises.
    """
    if path.is_dir():
        return "exercise" if is_qti_folder(path) else None
    name = path.name.lower()
    suffix = path.suffix.lower()
    if name.endswith(".exercise.json"):
        return "exercise"
    if suffix == ".xml":
        if _is_course_structure(path):
            return "cmi5"
        return "exercise" if is_qti_item(path) else None
    if suffix == ".zip":
        return _zip_kind(path)
    return BY_EXTENSION.get(suffix)


def _zip_kind(path: Path) -> str | None:
    names = member_names(path)
    if names is None:
        return None
    if is_qti_zip(path, names):
        return "exercise"
    if "imsmanifest.xml" in names:
        return "scorm"
    if "cmi5.xml" in names:
        return "cmi5"
    return "html5" if html5_entry(names) else None


def _is_course_structure(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return _COURSE_STRUCTURE.search(head) is not None
