"""Folding one statement into a learner's progress on one resource (pure).

Every rule is order-free: maxima, unions, sums over distinct statements, and
"the latest by (timestamp, id)". Statements that arrive late, or a rebuild in
stored order, give the same state. See docs/architecture/learning-records.md.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Final

VIDEO: Final = "https://w3id.org/xapi/video/extensions/"
PLAYED_SEGMENTS: Final = VIDEO + "played-segments"
MEDIA_TIME: Final = VIDEO + "time"
MEDIA_LENGTH: Final = VIDEO + "length"
PAGES: Final = "https://kalan.invalid/xapi/extensions/pages"
LOCATION: Final = "https://kalan.invalid/xapi/extensions/location"
REPORTED_PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"
# cmi5's "satisfied" (the LMS's own statement, about the whole course) completes it too.
COMPLETING_VERBS: Final = frozenset(
    {
        "http://adlnet.gov/expapi/verbs/completed",
        "http://adlnet.gov/expapi/verbs/passed",
        "https://w3id.org/xapi/adl/verbs/satisfied",
    }
)
MASTERED: Final = "http://adlnet.gov/expapi/verbs/mastered"
CMI5_CATEGORY: Final = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
SESSION_ENDS: Final = frozenset(
    {"http://adlnet.gov/expapi/verbs/terminated", "https://w3id.org/xapi/adl/verbs/abandoned"}
)
# A video watched this far, or a document read this far, is completed.
COMPLETION_THRESHOLD: Final = 0.9
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def duration_ms(value: object) -> int:
    """An ISO 8601 duration's milliseconds (days, hours, minutes, seconds); 0 if unreadable."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        return 0
    parts = {key: float(number) for key, number in match.groupdict().items() if number}
    seconds = (
        parts.get("d", 0) * 86400
        + parts.get("h", 0) * 3600
        + parts.get("m", 0) * 60
        + parts.get("s", 0)
    )
    return round(seconds * 1000)


def counts_time(statement: dict[str, Any]) -> bool:
    """Whether the statement's duration adds to the time spent.

    Kalan's players and SCORM give each statement the time since the previous
    one. A cmi5 session's durations all run from its start (completed, passed
    and terminated each carry the time so far), so of its statements only the
    session's end counts: terminated (by the AU) or abandoned (by the hub).
    """
    context = statement.get("context") or {}
    categories = (context.get("contextActivities") or {}).get("category") or ()
    if not any(isinstance(c, dict) and c.get("id") == CMI5_CATEGORY for c in categories):
        return True
    return statement["verb"]["id"] in SESSION_ENDS


def parse_segments(value: object) -> list[tuple[float, float]]:
    """The video profile's played-segments, "0[.]12.5[,]30[.]41", as (start, end) pairs."""
    if not isinstance(value, str):
        return []
    segments = []
    for piece in value.split("[,]"):
        start, _dot, end = piece.partition("[.]")
        try:
            low, high = float(start), float(end)
        except ValueError:
            continue
        if 0 <= low < high:
            segments.append((low, high))
    return segments


def union(segments: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(segments):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class Resource:
    """What the library knows of a resource's size (None when it is not installed)."""

    duration: float | None = None  # seconds
    page_count: int | None = None


@dataclass
class Progress:
    """What a learner's row is computed from (kept in ResourceProgress.detail)."""

    first_at: dt.datetime
    last_at: dt.datetime
    segments: list[tuple[float, float]] = field(default_factory=list)
    length: float | None = None
    pages: set[int] = field(default_factory=set)
    reported: float = 0.0
    completed_at: dt.datetime | None = None
    mastered: bool = False
    time_ms: int = 0
    resume: dict[str, Any] = field(default_factory=dict)
    resume_key: tuple[str, str] = ("", "")
    best_score: float | None = None

    # ---------------------------------------------------------------- in and out of JSON

    def detail(self) -> dict[str, Any]:
        return {
            "segments": [list(segment) for segment in self.segments],
            "length": self.length,
            "pages": sorted(self.pages),
            "reported": self.reported,
            "mastered": self.mastered,
            "resume_key": list(self.resume_key),
            "best_score": self.best_score,
            # Only a statement's completion: the row's completed_at may be the fallback's.
            "completed": self.completed_at.astimezone(dt.UTC).isoformat()
            if self.completed_at
            else None,
        }

    @classmethod
    def from_row(
        cls,
        detail: dict[str, Any],
        *,
        first_at: dt.datetime,
        last_at: dt.datetime,
        time_ms: int,
        resume: dict[str, Any],
    ) -> "Progress":
        completed = detail.get("completed")
        return cls(
            first_at=first_at,
            last_at=last_at,
            segments=[(float(a), float(b)) for a, b in detail.get("segments", [])],
            length=detail.get("length"),
            pages={int(page) for page in detail.get("pages", [])},
            reported=float(detail.get("reported", 0.0)),
            completed_at=dt.datetime.fromisoformat(completed) if completed else None,
            mastered=bool(detail.get("mastered", False)),
            time_ms=time_ms,
            resume=resume,
            resume_key=tuple(detail.get("resume_key", ("", ""))),
            best_score=detail.get("best_score"),
        )

    # ---------------------------------------------------------------- folding

    def take(
        self,
        statement: dict[str, Any],
        *,
        statement_id: str,
        at: dt.datetime,
        direct: bool,
    ) -> None:
        """Fold in one statement about the resource (direct: about the resource itself)."""
        self.first_at = min(self.first_at, at)
        self.last_at = max(self.last_at, at)
        result = statement.get("result") or {}
        if counts_time(statement):
            self.time_ms += duration_ms(result.get("duration"))
        extensions = result.get("extensions") or {}
        context_extensions = (statement.get("context") or {}).get("extensions") or {}
        self._take_media(extensions, context_extensions)
        self._take_pages(extensions)
        self._take_resume(extensions, key=(at.astimezone(dt.UTC).isoformat(), statement_id))
        if direct:
            self._take_outcome(statement, result, extensions, at)

    def _take_media(self, extensions: dict[str, Any], context_extensions: dict[str, Any]) -> None:
        played = parse_segments(extensions.get(PLAYED_SEGMENTS))
        if played:
            self.segments = union(self.segments + played)
        length = _number(context_extensions.get(MEDIA_LENGTH))
        if length and length > 0:
            self.length = max(self.length or 0.0, length)

    def _take_pages(self, extensions: dict[str, Any]) -> None:
        pages = extensions.get(PAGES)
        if isinstance(pages, list):
            self.pages |= {
                page
                for page in pages
                if isinstance(page, int) and not isinstance(page, bool) and page > 0
            }

    def _take_resume(self, extensions: dict[str, Any], *, key: tuple[str, str]) -> None:
        time = _number(extensions.get(MEDIA_TIME))
        location = extensions.get(LOCATION)
        if time is None and not isinstance(location, str):
            return
        if key <= self.resume_key:
            return
        self.resume_key = key
        self.resume = {"time": time} if time is not None else {"location": location}

    def _take_outcome(
        self,
        statement: dict[str, Any],
        result: dict[str, Any],
        extensions: dict[str, Any],
        at: dt.datetime,
    ) -> None:
        verb = statement["verb"]["id"]
        reported = _number(extensions.get(REPORTED_PROGRESS))
        if reported is not None:
            self.reported = max(self.reported, min(max(reported / 100, 0.0), 1.0))
        if result.get("completion") is True or verb in COMPLETING_VERBS:
            self._complete(at)
        if verb == MASTERED:
            self.mastered = True
            self._complete(at)
        scaled = _number((result.get("score") or {}).get("scaled"))
        if scaled is not None:
            self.best_score = scaled if self.best_score is None else max(self.best_score, scaled)

    def _complete(self, at: dt.datetime) -> None:
        if self.completed_at is None or at < self.completed_at:
            self.completed_at = at

    # ---------------------------------------------------------------- the row's figures

    @property
    def needs_resource(self) -> bool:
        """Whether the library's size of the resource is needed to compute progress."""
        return bool(self.pages) or (bool(self.segments) and not self.length)

    def fraction(self, resource: "Resource") -> float:
        watched = 0.0
        duration, page_count = resource.duration, resource.page_count
        length = self.length or (float(duration) if duration else None)
        if self.segments and length:
            covered = sum(end - start for start, end in self.segments)
            watched = min(covered / length, 1.0)
        read = min(len(self.pages) / page_count, 1.0) if self.pages and page_count else 0.0
        return round(max(watched, read, self.reported), 4)

    def outcome(self, resource: "Resource") -> tuple[int, float, dt.datetime | None]:
        """(status, progress, completed at) with the Status numbers of models.py.

        Completed by watching or reading far enough, without a statement saying
        so, the moment is the latest statement's: a rule that does not depend
        on the order statements arrived in.
        """
        fraction = self.fraction(resource)
        completed_at = self.completed_at
        if completed_at is None and fraction >= COMPLETION_THRESHOLD:
            completed_at = self.last_at
        if self.mastered:
            return 3, 1.0, completed_at
        if completed_at is not None:
            return 2, 1.0, completed_at
        return 1, fraction, None
