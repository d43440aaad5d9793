"""What a hub offers other hubs on the LAN, without sign-in: its library, never learner data.

GET /content/library/index.json                  this hub and its channels
GET /content/library/channels/<id>.json | .sig   the signed manifest, byte for byte
GET /content/library/channels/<id>/files.txt     the files this hub holds for it
GET /content/library/files/<sha256>              one file (byte ranges supported)

The receiving hub verifies the publisher's signature and every file's SHA-256
(kalan/content/importer.py); this side only reports what it has. The client is
kalan/content/peers.py.
"""

import json
import uuid
from collections.abc import Iterator

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from kalan.content.manifest import key_fingerprint
from kalan.content.models import Channel, NodeFile
from kalan.content.peers import LIBRARY_FORMAT, this_hub
from kalan.content.store import StoreError, hub_library

# What a peer reads changes with every import: it must always ask again.
NO_CACHE = {"Cache-Control": "no-cache"}


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    hub = this_hub()
    channels = [
        {
            "id": str(row["id"]),
            "version": row["version"],
            "title": row["title"],
            "description": row["description"],
            "language": row["language"],
            "resource_count": row["resource_count"],
            "total_size": row["total_size"],
            "publisher": {
                "name": row["publisher_name"],
                "fingerprint": key_fingerprint(row["public_key"]),
            },
        }
        for row in Channel.objects.order_by("title", "id").values(
            "id",
            "version",
            "title",
            "description",
            "language",
            "resource_count",
            "total_size",
            "publisher_name",
            "public_key",
        )
    ]
    body = {
        "format": LIBRARY_FORMAT,
        "instance": {"id": str(hub.id), "name": hub.name},
        "channels": channels,
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
        headers=NO_CACHE,
    )


def _manifest_part(channel_id: uuid.UUID, part: int) -> bytes:
    try:
        return hub_library().read_manifest(channel_id)[part]
    except StoreError as error:
        raise Http404 from error


@require_safe
def manifest(request: HttpRequest, channel_id: uuid.UUID) -> HttpResponse:
    return HttpResponse(
        _manifest_part(channel_id, 0),
        content_type="application/json; charset=utf-8",
        headers=NO_CACHE,
    )


@require_safe
def signature(request: HttpRequest, channel_id: uuid.UUID) -> HttpResponse:
    return HttpResponse(
        _manifest_part(channel_id, 1), content_type="text/plain; charset=ascii", headers=NO_CACHE
    )


@require_safe
def channel_files(request: HttpRequest, channel_id: uuid.UUID) -> StreamingHttpResponse:
    """The SHA-256 of every file of the channel that is in this hub's store, one a line."""
    if not Channel.objects.filter(id=channel_id).exists():
        raise Http404
    names = (
        NodeFile.objects.filter(node__channel_id=channel_id)
        .order_by("sha256")
        .values_list("sha256", flat=True)
        .distinct()
    )
    library = hub_library()

    def lines() -> Iterator[str]:
        for sha in names.iterator(chunk_size=2000):
            if library.has(sha):
                yield f"{sha}\n"

    return StreamingHttpResponse(
        lines(), content_type="text/plain; charset=ascii", headers=NO_CACHE
    )
