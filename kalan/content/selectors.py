"""Reads of the library for pages, the API and the command line."""

import uuid
from dataclasses import dataclass

from kalan.content.kinds import Kind
from kalan.content.manifest import ManifestError, parse_signed
from kalan.content.models import Channel
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
