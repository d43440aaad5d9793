"""What inspecting a file found, and the one error inspection raises."""

from dataclasses import dataclass, field
from typing import Any

from kalan.core.errors import ValidationFailed

MAX_TEXT = 20_000


class InvalidFile(ValidationFailed):
    """The file was refused. The message is one line saying why (the builder adds the name)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message, problems or [message])


@dataclass
class Inspection:
    """Facts about one resource file, ready for the channel manifest.

    `options` holds kind-specific, JSON-serialisable facts (see the package README).
    `entry` is the launch path inside a zip; it may carry a query string (SCORM item
    parameters, cmi5 AU urls), so strip everything from the first "?" or "#" to find
    the member.
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


def clip_text(text: str, limit: int = MAX_TEXT) -> str:
    """`text` with runs of whitespace folded to one space, cut to `limit` characters."""
    return " ".join(text.split())[:limit]


def whole_seconds(seconds: float | None) -> int | None:
    """A duration in whole seconds: rounded, at least 1 for anything longer than zero."""
    if seconds is None or seconds != seconds or seconds < 0 or seconds == float("inf"):
        return None
    return max(1, round(seconds)) if seconds > 0 else 0
