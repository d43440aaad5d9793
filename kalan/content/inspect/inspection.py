"""What inspecting a file found, and the one error inspection raises."""

import re
from dataclasses import dataclass, field
from typing import Any

from kalan.core.errors import ValidationFailed

MAX_TEXT = 20_000
_ORDER_PREFIX = re.compile(r"^\d+[\s._-]+")


class InvalidFile(ValidationFailed):
    """The file was refused. The message is one line saying why (the builder adds the name)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message, problems or [message])


@dataclass(frozen=True)
class Conversion:
    """A file Kalan keeps in another form than its own (a QTI package becomes an exercise).

    `data` is what is stored as the resource's main file, with the extension
    `ext`; `files` are the supplementary files it names (an exercise's pictures
    and sounds, by their `src`); `notes` say what the conversion left out.
    """

    data: bytes
    ext: str
    files: tuple[tuple[str, bytes], ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class Inspection:
    """Facts about one resource file, ready for the channel manifest.

    `options` holds kind-specific, JSON-serialisable facts (see the package README).
    `entry` is the launch path inside a zip; it may carry a query string (SCORM item
    parameters, cmi5 AU urls), so strip everything from the first "?" or "#" to find
    the member. `conversion` is set when the file is stored converted, not as it is.
    """

    kind: str
    title: str = ""
    description: str = ""
    language: str = ""
    author: str = ""
    duration: int | None = None
    page_count: int | None = None
    text: str = ""
    thumbnail: bytes | None = None
    thumbnail_ext: str = ""
    entry: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    accessibility: list[str] = field(default_factory=list)
    conversion: Conversion | None = None


def title_from_name(name: str) -> str:
    """A title from a file or folder name: `02_Les fractions` gives `Les fractions`."""
    title = _ORDER_PREFIX.sub("", name).replace("_", " ").strip()
    return title or name


def clip_text(text: str, limit: int = MAX_TEXT) -> str:
    """`text` with runs of whitespace folded to one space, cut to `limit` characters."""
    return " ".join(text.split())[:limit]


def whole_seconds(seconds: float | None) -> int | None:
    """A duration in whole seconds: rounded, at least 1 for anything longer than zero."""
    if seconds is None or seconds != seconds or seconds < 0 or seconds == float("inf"):
        return None
    return max(1, round(seconds)) if seconds > 0 else 0
