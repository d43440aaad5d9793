"""Reads of the library for pages, the API and the command line.

The page reads (`list_library_channels`, `get_channel_page`, `get_topic_page`,
`get_resource_page`, `get_search_facets`, `search_resources`) run a fixed
number of queries whatever the size of the library: lists are read with
`.values()` in one query each, thumbnails and channel titles joined in.
Callers pass what the person may see (kalan.content.permissions).
"""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext as _

from kalan.content import search
from kalan.content.kinds import Accessibility, FileRole, Kind
from kalan.content.manifest import ManifestError, parse_signed
from kalan.content.models import Channel, ContentNode, NodeFile, NodeTag
from kalan.content.sources import Source
from kalan.core.progress import human_size as _size


@dataclass(frozen=True)
class ChannelRow:
    id: uuid.UUID
    title: str
    description: str
    version: int
    language: str
    resource_count: int
    size: int
    public_key: str
    publisher_name: str

    @property
    def size_text(self) -> str:
        return _size(self.size)


def list_channels() -> list[ChannelRow]:
    """The channels installed here, by title."""
    return [
        ChannelRow(
            id=c.id,
            title=c.title,
            description=c.description,
            version=c.version,
            language=c.language,
            resource_count=c.resource_count,
            size=c.total_size,
            public_key=c.public_key,
            publisher_name=c.publisher_name,
        )
        for c in Channel.objects.order_by("title")
    ]


def list_source_channels(source: Source) -> list[ChannelRow]:
    """The channels a source offers, each manifest verified; unusable ones are left out."""
    rows = []
    for channel_id in source.channel_ids():
        try:
            manifest = parse_signed(*source.read_manifest(channel_id))
        except ManifestError:
            continue
        resources = [n for n, _, _ in manifest.nodes() if n.get("kind") != Kind.TOPIC]
        rows.append(
            ChannelRow(
                id=manifest.id,
                title=manifest.title,
                description=str(manifest.data.get("description", "")),
                version=manifest.version,
                language=str(manifest.data.get("language", "")),
                resource_count=len(resources),
                size=sum(int(n.get("size") or 0) for n in resources),
                public_key=manifest.public_key,
                publisher_name=str(manifest.data["publisher"].get("name", "")),
            )
        )
    return sorted(rows, key=lambda row: row.title)


# ---------------------------------------------------------------- library pages

RESULTS_PER_PAGE = 20
CHILDREN_PER_PAGE = 25  # a tablet screen or two; pages stay small on a slow link
SNIPPET_CHARS = 200  # of a description, in a list
ROOT_PATH = "0001"  # the materialized path of every channel's root topic
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
MEDIA_KINDS = frozenset({Kind.VIDEO, Kind.AUDIO})


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


class _Labelled:
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
class NodeItem(_Labelled):
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


@dataclass(frozen=True)
class ChannelCard:
    id: uuid.UUID
    title: str
    description: str
    language: str
    resource_count: int
    publisher_name: str = ""
    licence: str = ""
    thumbnail: StoredFile | None = None

    @property
    def language_name(self) -> str:
        return language_name(self.language)


@dataclass(frozen=True)
class Crumb:
    """An ancestor of a page, root first; the root topic stands for its channel."""

    id: uuid.UUID
    title: str
    is_root: bool


@dataclass(frozen=True)
class TopicPage:
    channel: ChannelCard
    id: uuid.UUID
    title: str
    description: str
    language: str
    crumbs: list[Crumb]
    children: list[NodeItem]  # this page of them
    pages: Page[Any]  # which page of the children, of how many


@dataclass(frozen=True)
class ResourcePage(_Labelled):
    channel: ChannelCard
    id: uuid.UUID
    kind: str
    title: str
    description: str
    language: str
    licence: str
    author: str
    attribution: str
    grade_levels: list[str]
    subjects: list[str]
    curriculum_codes: list[str]
    accessibility: list[str]  # labels, in the interface language
    duration: int | None
    page_count: int | None
    size: int
    crumbs: list[Crumb]
    main: StoredFile | None
    captions: list[StoredFile] = field(default_factory=list)
    thumbnail: StoredFile | None = None
    supplementary: list[StoredFile] = field(default_factory=list)

    @property
    def is_video(self) -> bool:
        return self.kind == Kind.VIDEO

    @property
    def is_media(self) -> bool:
        return self.kind in MEDIA_KINDS and self.main is not None


def _thumbnail(sha256: str | None, ext: str | None) -> StoredFile | None:
    return StoredFile(sha256=sha256, ext=ext or "") if sha256 else None


def _thumbnail_ext() -> Subquery:
    """The extension of a node's thumbnail file, for its URL (one subquery, no extra query)."""
    return Subquery(
        NodeFile.objects.filter(
            node_id=OuterRef("id"), role=FileRole.THUMBNAIL, sha256=OuterRef("thumbnail")
        )
        .order_by()
        .values("ext")[:1]
    )


def _card(channel: Channel, thumbnail: StoredFile | None = None) -> ChannelCard:
    return ChannelCard(
        id=channel.id,
        title=channel.title,
        description=channel.description,
        language=channel.language,
        resource_count=channel.resource_count,
        publisher_name=channel.publisher_name,
        licence=channel.licence,
        thumbnail=thumbnail,
    )


def list_library_channels(channels: QuerySet[Channel]) -> list[ChannelCard]:
    """The channels, by title, each with its root topic's thumbnail if it has one (one query)."""
    root = ContentNode.objects.filter(channel_id=OuterRef("id"), path=ROOT_PATH)
    rows = (
        channels.order_by("title")
        .annotate(
            root_thumbnail=Subquery(root.values("thumbnail")[:1]),
            root_thumbnail_ext=Subquery(root.annotate(ext=_thumbnail_ext()).values("ext")[:1]),
        )
        .values(
            "id",
            "title",
            "description",
            "language",
            "resource_count",
            "publisher_name",
            "licence",
            "root_thumbnail",
            "root_thumbnail_ext",
        )
    )
    return [
        ChannelCard(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            language=row["language"],
            resource_count=row["resource_count"],
            publisher_name=row["publisher_name"],
            licence=row["licence"],
            thumbnail=_thumbnail(row["root_thumbnail"], row["root_thumbnail_ext"]),
        )
        for row in rows
    ]


_ITEM_FIELDS = (
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


def _item_rows(nodes: QuerySet[ContentNode]) -> "QuerySet[ContentNode, dict[str, Any]]":
    """What a list shows of each node, thumbnail and channel title joined in (one query)."""
    return nodes.annotate(
        snippet=Substr("description", 1, SNIPPET_CHARS + 1), thumbnail_ext=_thumbnail_ext()
    ).values(*_ITEM_FIELDS)


class _Items:
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
            thumbnail=_thumbnail(row["thumbnail"], row["thumbnail_ext"]),
        )


def _children(
    parent_filter: dict[str, object], page_number: int | str | None
) -> tuple[list[NodeItem], Page[Any]]:
    """One page of a topic's children in reading order: a count and the page's rows.

    Children are found by their parent (the foreign key's index), not by path.
    """
    nodes = ContentNode.objects.filter(**parent_filter).order_by("position")
    page = Paginator(_item_rows(nodes), CHILDREN_PER_PAGE).get_page(page_number)
    item = _Items()
    return [item(row) for row in page.object_list], page


def get_channel_page(channel: Channel, *, page_number: int | str | None = 1) -> TopicPage:
    """The channel and a page of its root topic's children, in order (two queries)."""
    children, pages = _children(
        {"parent__channel_id": channel.id, "parent__path": ROOT_PATH}, page_number
    )
    return TopicPage(
        channel=_card(channel),
        id=channel.id,
        title=channel.title,
        description=channel.description,
        language=channel.language,
        crumbs=[],
        children=children,
        pages=pages,
    )


def _ancestor_paths(path: str) -> list[str]:
    """ "0001.0003.0002" -> ["0001", "0001.0003"]."""
    parts = path.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _crumbs(node: ContentNode) -> list[Crumb]:
    """The ancestors of a node, root first, found by its materialized path (one query)."""
    paths = _ancestor_paths(node.path)
    if not paths:
        return []
    rows = (
        ContentNode.objects.filter(channel_id=node.channel_id, path__in=paths)
        .order_by("path")
        .values_list("id", "title", "path")
    )
    return [Crumb(id=id_, title=title, is_root=path == ROOT_PATH) for id_, title, path in rows]


def get_topic_page(topic: ContentNode, *, page_number: int | str | None = 1) -> TopicPage:
    """A topic (with its channel loaded), its ancestors and a page of its children.

    Three queries: the ancestors, the number of children, the page of them.
    """
    children, pages = _children({"parent_id": topic.id}, page_number)
    return TopicPage(
        channel=_card(topic.channel),
        id=topic.id,
        title=topic.title,
        description=topic.description,
        language=topic.language,
        crumbs=_crumbs(topic),
        children=children,
        pages=pages,
    )


def get_resource_page(node: ContentNode) -> ResourcePage:
    """A resource (with its channel loaded), its ancestors and its files (two queries)."""
    files: dict[str, list[StoredFile]] = {role: [] for role in FileRole.values}
    rows = (
        NodeFile.objects.filter(node_id=node.id)
        .order_by("role", "position")
        .values("role", "sha256", "ext", "mime", "language", "label", "size")
    )
    for row in rows:
        files.setdefault(row["role"], []).append(
            StoredFile(
                sha256=row["sha256"],
                ext=row["ext"],
                mime=row["mime"],
                language=row["language"],
                label=row["label"],
                size=row["size"],
            )
        )
    thumbnails = [f for f in files[FileRole.THUMBNAIL] if f.sha256 == node.thumbnail]
    channel = node.channel
    return ResourcePage(
        channel=_card(channel),
        id=node.id,
        kind=node.kind,
        title=node.title,
        description=node.description,
        language=node.language,
        licence=node.licence or channel.licence,
        author=node.author,
        attribution=node.attribution,
        grade_levels=[str(v) for v in node.grade_levels],
        subjects=[str(v) for v in node.subjects],
        curriculum_codes=[str(v) for v in node.curriculum_codes],
        accessibility=[accessibility_label(str(a)) for a in node.accessibility],
        duration=node.duration,
        page_count=node.page_count,
        size=node.size,
        crumbs=_crumbs(node),
        main=next(iter(files[FileRole.MAIN]), None),
        captions=files[FileRole.CAPTION],
        thumbnail=next(iter(thumbnails or files[FileRole.THUMBNAIL]), None),
        supplementary=files[FileRole.SUPPLEMENTARY],
    )


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class SearchCriteria:
    """What a person asked for: words and filters, each optional."""

    q: str = ""
    grade: str = ""
    subject: str = ""
    language: str = ""
    kind: str = ""
    channel: uuid.UUID | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            search.terms(self.q)
            or self.grade
            or self.subject
            or self.language
            or self.kind
            or self.channel
        )


@dataclass(frozen=True)
class SearchFacets:
    """The values the filters offer: only what the library holds."""

    grades: list[str]
    subjects: list[str]
    languages: list[str]
    kinds: list[str]
    channels: list[tuple[uuid.UUID, str]]


def _natural(value: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts "P2" before "P10"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.split(r"(\d+)", value)
        if part
    )


# The filter choices of the library, per process, until a channel is added, updated or removed.
_FACET_CACHE: dict[tuple[tuple[Any, ...], ...], SearchFacets] = {}


def get_search_facets(channels: QuerySet[Channel]) -> SearchFacets:
    """Grades, subjects, languages and kinds in use, and the channels.

    One query for the channels; the choices (three queries over the whole
    library) are kept per process and computed again only when the channels'
    ids, versions or import times change.
    """
    rows = list(channels.order_by("title").values_list("id", "title", "version", "imported_at"))
    key = tuple((row[0], row[2], row[3]) for row in rows)
    cached = _FACET_CACHE.get(key)
    if cached is None:
        cached = _compute_facets()
        _FACET_CACHE.clear()
        _FACET_CACHE[key] = cached
    return replace(cached, channels=[(row[0], row[1]) for row in rows])


def _compute_facets() -> SearchFacets:
    tags: dict[str, list[str]] = {NodeTag.Facet.GRADE: [], NodeTag.Facet.SUBJECT: []}
    for facet, value in (
        NodeTag.objects.filter(facet__in=list(tags))
        .order_by()
        .values_list("facet", "value")
        .distinct()
    ):
        tags[facet].append(value)
    languages = ContentNode.objects.order_by().values_list("language", flat=True).distinct()
    kinds = ContentNode.objects.order_by().values_list("kind", flat=True).distinct()
    return SearchFacets(
        grades=sorted(tags[NodeTag.Facet.GRADE], key=_natural),
        subjects=sorted(tags[NodeTag.Facet.SUBJECT], key=str.casefold),
        languages=sorted((code for code in languages if code), key=language_name),
        kinds=[kind for kind in Kind.values if kind != Kind.TOPIC and kind in set(kinds)],
        channels=[],
    )


@dataclass(frozen=True)
class SearchResults:
    page: Page[Any]  # which page of the results, of how many
    items: list[NodeItem]  # the resources of this page, best or reading order first


def search_resources(
    channels: Sequence[uuid.UUID],
    criteria: SearchCriteria,
    *,
    page_number: int | str | None = 1,
    per_page: int = RESULTS_PER_PAGE,
) -> SearchResults:
    """One page of the resources of `channels` matching the words and every filter.

    With words, best first; without, in reading order. Three queries whatever the
    number of matches: their count and the page's ids from the index (which knows
    the filters), then the page's rows.
    """
    within = [c for c in channels if not criteria.channel or c == criteria.channel]
    hits = search.Hits(
        search.terms(criteria.q),
        search.Filters(
            kind=criteria.kind,
            language=criteria.language,
            grade=criteria.grade,
            subject=criteria.subject,
            channels=within,
        ),
    )
    page = Paginator(hits, per_page).get_page(page_number)
    ids = list(page.object_list)
    rows = {row["id"]: row for row in _item_rows(ContentNode.objects.filter(id__in=ids))}
    item = _Items()
    items = [item(rows[node_id]) for node_id in ids if node_id in rows]
    return SearchResults(page=page, items=items)
