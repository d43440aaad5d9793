"""Files of the store, served by their SHA-256 with byte ranges (video seeking).

A stored file never changes, so responses are cached for a year and
revalidated by ETag. The extension in the URL only chooses the media type.
"""

import mimetypes
import re
from collections.abc import Iterator
from typing import BinaryIO

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from kalan.content.manifest import SHA256
from kalan.content.store import hub_library

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
YEAR = 60 * 60 * 24 * 365
TYPES = {"vtt": "text/vtt; charset=utf-8", "epub": "application/epub+zip"}


def _chunks(handle: BinaryIO, length: int) -> Iterator[bytes]:
    with handle:
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range, or None when it cannot be served."""
    match = _RANGE.match(header.strip())
    if not match or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        length = int(match[2])
        return (max(0, size - length), size - 1) if length else None
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    return (first, last) if first <= last else None


@require_safe
def stored_file(request: HttpRequest, sha256: str, ext: str = "") -> HttpResponseBase:
    if not SHA256.match(sha256):
        raise Http404
    path = hub_library().path(sha256)
    try:
        handle = path.open("rb")
    except (FileNotFoundError, NotADirectoryError) as error:
        raise Http404 from error
    size = path.stat().st_size
    etag = f'"{sha256}"'
    content_type = TYPES.get(ext) or mimetypes.guess_type(f"x.{ext}")[0]
    headers = {
        "Cache-Control": f"public, max-age={YEAR}, immutable",
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Type": content_type or "application/octet-stream",
    }
    if request.headers.get("If-None-Match") == etag:
        handle.close()
        return HttpResponse(status=304, headers=headers)
    first, last, status = 0, size - 1, 200
    if range_header := request.headers.get("Range"):
        wanted = _byte_range(range_header, size)
        if wanted is None or wanted[0] >= size:
            handle.close()
            return HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
        first, last = wanted
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    handle.seek(first)
    length = last - first + 1 if size else 0
    response = StreamingHttpResponse(_chunks(handle, length), status=status, headers=headers)
    response["Content-Length"] = str(length)
    return response
