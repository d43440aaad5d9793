"""The library's channels, topics and resources, for pages and the command line."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery

from kalan.content.kinds import FileRole, Kind
from kalan.content.manifest import ManifestError, parse_signed
from kalan.content.models import Channel, ContentNode, NodeFile
from kalan.content.selectors.items import (
    Items,
    Labelled,
    NodeItem,
    StoredFile,
    accessibility_label,
    item_rows,
    language_name,
    stored_thumbnail,
    thumbnail_ext,
)
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


CHILDREN_PER_PAGE = 25  # a tablet screen or two; pages stay small on a slow link
ROOT_PATH = "0001"  # the materialized path of every channel's root topic
MEDIA_KINDS = frozenset({Kind.VIDEO, Kind.AUDIO})


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
class ResourcePage(Labelled):
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
            root_thumbnail_ext=Subquery(root.annotate(ext=thumbnail_ext()).values("ext")[:1]),
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
            thumbnail=stored_thumbnail(row["root_thumbnail"], row["root_thumbnail_ext"]),
        )
        for row in rows
    ]


def _children(
    parent_filter: dict[str, object], page_number: int | str | None
) -> tuple[list[NodeItem], Page[Any]]:
    """One page of a topic's children in reading order: a count and the page's rows.

    Children are found by their parent (the foreign key's index), not by path.
    """
    nodes = ContentNode.objects.filter(**parent_filter).order_by("position")
    page = Paginator(item_rows(nodes), CHILDREN_PER_PAGE).get_page(page_number)
    item = Items()
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
