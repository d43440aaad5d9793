"""What lists and pages show of a node: labels, stored files, list items."""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext as _

from kalan.content.kinds import Accessibility, FileRole, Kind
from kalan.content.models import ContentNode, NodeFile

SNIPPET_CHARS = 200  # of a description, in a list
_EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")
# Shown beside the kind's name, never instead of it (hidden from screen readers).
_KIND_SYMBOLS: dict[str, str] = {
    # Symbols the usual system fonts carry (no emoji font needed on older tablets).
    Kind.TOPIC: "☰",
    Kind.VIDEO: "▶",
    Kind.AUDIO: "♪",
    Kind.DOCUMENT: "▤",
    Kind.EPUB: "▥",
    Kind.HTML5: "✦",
    Kind.H5P: "✦",
    Kind.SCORM: "✔",
    Kind.CMI5: "✔",
    Kind.ZIM: "☷",
    Kind.EXERCISE: "✎",
}


_KIND_LABELS = {kind.value: kind.label for kind in Kind}


def kind_label(kind: str) -> str:
    """The name of a kind in the interface language (the code itself if unknown)."""
    label = _KIND_LABELS.get(kind)
    return kind if label is None else str(label)


def accessibility_label(feature: str) -> str:
    return str(Accessibility(feature).label) if feature in Accessibility.values else feature


def language_name(code: str) -> str:
    """A language named in itself ("Français", "Тоҷикӣ"), or the code Django does not know."""
    if not code:
        return ""
    for candidate in (code, code.split("-", 1)[0].lower()):
        try:
            return str(capfirst(get_language_info(candidate)["name_local"]))
        except KeyError:
            continue
    return code


def duration_text(seconds: int | None) -> str:
    """3725 -> "1 h 02 min", 200 -> "3 min 20 s", 45 -> "45 s"; "" for None."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": secs}
    return _("%(seconds)d s") % {"seconds": secs}


@dataclass(frozen=True)
class StoredFile:
    """A file of the store, as a page links to it."""

    sha256: str
    ext: str = ""
    mime: str = ""
    language: str = ""
    label: str = ""
    size: int = 0

    @property
    def url(self) -> str:
        if _EXTENSION.match(self.ext):
            return reverse("files:file", kwargs={"sha256": self.sha256, "ext": self.ext})
        return reverse("files:file-bare", kwargs={"sha256": self.sha256})

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    @property
    def track_label(self) -> str:
        """The name of a caption track in the player's menu: its language."""
        return self.language_name or self.label or _("Captions")


class Labelled:
    """What a list row and a resource page say about a node's kind, language and length."""

    kind: str
    language: str
    duration: int | None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def kind_symbol(self) -> str:
        return _KIND_SYMBOLS.get(self.kind, "")

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    @property
    def duration_text(self) -> str:
        return duration_text(self.duration)


@dataclass(frozen=True)
class NodeItem(Labelled):
    """A topic or resource in a list: a topic's children or a search result."""

    id: uuid.UUID
    kind: str
    title: str
    channel_id: uuid.UUID
    url: str  # its page
    channel_title: str = ""
    language: str = ""
    snippet: str = ""  # the start of its description
    duration: int | None = None
    page_count: int | None = None
    thumbnail: StoredFile | None = None

    @property
    def is_topic(self) -> bool:
        return self.kind == Kind.TOPIC

    @property
    def facts(self) -> list[str]:
        """Its length, as the list shows it beside its kind."""
        facts = [self.duration_text] if self.duration is not None else []
        if self.page_count:
            facts.append(
                ngettext("%(counter)s page", "%(counter)s pages", self.page_count)
                % {"counter": self.page_count}
            )
        return facts


def stored_thumbnail(sha256: str | None, ext: str | None) -> StoredFile | None:
    return StoredFile(sha256=sha256, ext=ext or "") if sha256 else None


def thumbnail_ext() -> Subquery:
    """The extension of a node's thumbnail file, for its URL (one subquery, no extra query)."""
    return Subquery(
        NodeFile.objects.filter(
            node_id=OuterRef("id"), role=FileRole.THUMBNAIL, sha256=OuterRef("thumbnail")
        )
        .order_by()
        .values("ext")[:1]
    )


ITEM_FIELDS = (
    "id",
    "kind",
    "title",
    "language",
    "snippet",
    "duration",
    "page_count",
    "thumbnail",
    "thumbnail_ext",
    "channel_id",
    "channel__title",
)


def item_rows(nodes: QuerySet[ContentNode]) -> "QuerySet[ContentNode, dict[str, Any]]":
    """What a list shows of each node, thumbnail and channel title joined in (one query)."""
    return nodes.annotate(
        snippet=Substr("description", 1, SNIPPET_CHARS + 1), thumbnail_ext=thumbnail_ext()
    ).values(*ITEM_FIELDS)


class Items:
    """Makes the list items of one page: the two page addresses are worked out once."""

    _MARK = uuid.UUID(int=0)

    def __init__(self) -> None:
        self.topic_url = reverse("library:topic", args=[self._MARK])
        self.resource_url = reverse("library:resource", args=[self._MARK])

    def __call__(self, row: dict[str, Any]) -> NodeItem:
        pattern = self.topic_url if row["kind"] == Kind.TOPIC else self.resource_url
        snippet = row["snippet"]
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1].rstrip() + "…"
        return NodeItem(
            id=row["id"],
            kind=row["kind"],
            title=row["title"],
            channel_id=row["channel_id"],
            url=pattern.replace(str(self._MARK), str(row["id"])),
            channel_title=row["channel__title"],
            language=row["language"],
            snippet=snippet,
            duration=row["duration"],
            page_count=row["page_count"],
            thumbnail=stored_thumbnail(row["thumbnail"], row["thumbnail_ext"]),
        )
