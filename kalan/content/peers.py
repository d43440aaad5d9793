"""Another hub as a source of channels, over HTTP on the LAN (the client side).

A hub serves its library under /content/library/ (kalan/content/views/peer.py):
`index.json` names the hub and its channels, `channels/<id>.json` and `.sig`
are the publisher's signed manifest byte for byte, `channels/<id>/files.txt`
lists the files the hub really holds (it may have imported only some topics),
and `files/<sha256>` streams one file. `HttpSource` reads that with urllib; the
importer verifies everything it gets, so the peer needs no key of its own.

Every failure becomes one line: SourceError when the peer cannot be used
(unreachable, an HTTP error, an answer that is not a Kalan library), and
TransferInterrupted when it goes away in the middle of a file, so the importer
keeps what it already copied and a rerun resumes.
"""

import http.client
import io
import json
import socket
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from django.utils.translation import gettext as _

from kalan.content.manifest import MAX_MANIFEST_BYTES, SHA256
from kalan.content.sources import SourceError, TransferInterrupted

LIBRARY_FORMAT = "kalan-library/1"
LIBRARY_PATH = "/content/library/"
TIMEOUT = 15.0  # seconds without a byte before a peer counts as gone
MAX_INDEX_BYTES = 10 * 1024 * 1024
MAX_LIST_BYTES = 64 * 1024 * 1024
CHUNK = 256 * 1024
USER_AGENT = "Kalan (content import)"


@dataclass(frozen=True)
class PeerChannel:
    """A channel as a peer's index.json describes it (unverified: for listing only)."""

    id: uuid.UUID
    version: int
    title: str
    description: str
    language: str
    resource_count: int
    total_size: int
    publisher_name: str
    publisher_fingerprint: str


@dataclass(frozen=True)
class PeerIndex:
    instance_id: uuid.UUID | None
    name: str
    channels: list[PeerChannel]


def library_url(spec: str) -> str:
    """The base URL of a hub's library from what a person typed.

    "http://10.0.0.5:8000", ".../" and ".../content/library/index.json" all give
    "http://10.0.0.5:8000/content/library/". Raises SourceError for anything
    that is not an http(s) URL with a host.
    """
    text = spec.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"{spec!r} is not the address of a hub (http://host:port/)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        raise SourceError(f"{spec!r} has an invalid port") from error
    path = parts.path
    for suffix in ("index.json", "library/", "library"):
        if path.endswith(suffix) and "/content/" in path:
            path = path[: path.rindex("/content/")]
            break
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}{LIBRARY_PATH}"


class _Body(io.RawIOBase):
    """A file's body as it arrives; a broken connection becomes TransferInterrupted."""

    def __init__(self, response: http.client.HTTPResponse, label: str) -> None:
        self.response = response
        self.label = label

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            count = self.response.readinto(buffer)
            # http.client reports a body cut short as a plain end: compare with its length.
            if count == 0 and len(buffer) and self.response.length:
                raise http.client.IncompleteRead(b"", self.response.length)
        except (OSError, http.client.HTTPException) as error:
            raise TransferInterrupted(
                _(
                    "the connection to %(peer)s broke during a file (%(reason)s);"
                    " run the import again to resume"
                )
                % {"peer": self.label, "reason": _reason(error)}
            ) from error
        return count

    def close(self) -> None:
        self.response.close()
        super().close()


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        error = error.reason if isinstance(error.reason, BaseException) else error
    if isinstance(error, TimeoutError):
        return _("it stopped answering (timed out)")
    if isinstance(error, http.client.IncompleteRead):
        return _("the answer was cut short")
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class HttpSource:
    """A peer hub's library, read over HTTP (see the module docstring)."""

    def __init__(self, base_url: str, *, timeout: float = TIMEOUT) -> None:
        self.base = library_url(base_url)
        self.label = self.base.removesuffix(LIBRARY_PATH) + "/"
        self.timeout = timeout
        # Hubs talk on the LAN: a proxy set for the internet must not stand in between.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._index: PeerIndex | None = None
        self._held: dict[uuid.UUID, set[str]] = {}
        self._read: list[uuid.UUID] = []

    # ------------------------------------------------------------ HTTP

    def _open(self, relative: str) -> http.client.HTTPResponse:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in library_url
            urljoin(self.base, relative), headers={"User-Agent": USER_AGENT}
        )
        try:
            response: http.client.HTTPResponse = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 404:
                raise
            raise SourceError(
                f"{self.label} answered {error.code} {error.reason} for {relative}"
            ) from error
        except (OSError, http.client.HTTPException) as error:
            raise SourceError(
                _("cannot reach %(peer)s: %(reason)s")
                % {"peer": self.label, "reason": _reason(error)}
            ) from error
        return response

    def _get(self, relative: str, limit: int, *, missing: str) -> bytes:
        """The body of `relative`; `missing` is the error's text when the peer has no such thing."""
        try:
            with self._open(relative) as response:
                data = response.read(limit + 1)
        except urllib.error.HTTPError as error:
            raise SourceError(missing) from error
        except (OSError, http.client.HTTPException) as error:
            raise SourceError(
                f"cannot read {relative} from {self.label}: {_reason(error)}"
            ) from error
        if len(data) > limit:
            raise SourceError(f"{relative} from {self.label} is too large")
        return data

    # ------------------------------------------------------------ the index

    def index(self) -> PeerIndex:
        """What the peer says it holds (read once). Raises SourceError."""
        if self._index is None:
            missing = f"{self.label} is not a Kalan hub (it has no library index)"
            raw = self._get("index.json", MAX_INDEX_BYTES, missing=missing)
            self._index = _parse_index(raw, self.label)
        return self._index

    def channel_ids(self) -> list[uuid.UUID]:
        return [channel.id for channel in self.index().channels]

    # ------------------------------------------------------------ the Source protocol

    def read_manifest(self, channel_id: uuid.UUID) -> tuple[bytes, bytes]:
        missing = f"{self.label} does not hold channel {channel_id}"
        raw = self._get(f"channels/{channel_id}.json", MAX_MANIFEST_BYTES, missing=missing)
        signature = self._get(f"channels/{channel_id}.sig", 4096, missing=missing)
        if channel_id not in self._read:
            self._read.append(channel_id)
        return raw, signature

    def held_files(self, channel_id: uuid.UUID) -> set[str]:
        """The files the peer holds for a channel (its files.txt). Raises SourceError."""
        if channel_id not in self._held:
            relative = f"channels/{channel_id}/files.txt"
            missing = f"{self.label} does not hold channel {channel_id}"
            raw = self._get(relative, MAX_LIST_BYTES, missing=missing)
            text = raw.decode("ascii", errors="replace")
            names = text.split()
            if not all(SHA256.match(name) for name in names):
                raise SourceError(f"{relative} from {self.label} is not a list of files")
            self._held[channel_id] = set(names)
        return self._held[channel_id]

    def available(self, sha256s: set[str]) -> set[str]:
        """Which of these files the peer holds, from the lists of the channels read so far."""
        channels = self._read or self.channel_ids()
        held: set[str] = set()
        for channel_id in channels:
            held |= self.held_files(channel_id)
        return sha256s & held

    def open(self, sha256: str) -> BinaryIO:
        """A stream of one file. Raises TransferInterrupted when the peer cannot give it."""
        if not SHA256.match(sha256):
            raise SourceError(f"{sha256!r} is not a file name (a SHA-256)")
        try:
            response = self._open(f"files/{sha256}")
        except urllib.error.HTTPError as error:
            raise TransferInterrupted(
                _("%(peer)s no longer has file %(sha)s; run the import again")
                % {"peer": self.label, "sha": sha256}
            ) from error
        except SourceError as error:
            raise TransferInterrupted(f"{error}; run the import again to resume") from error
        return io.BufferedReader(_Body(response, self.label), buffer_size=CHUNK)


# ---------------------------------------------------------------- this hub, as peers see it


@dataclass(frozen=True)
class HubIdentity:
    id: uuid.UUID
    name: str


def this_hub() -> HubIdentity:
    """This instance's id and a name people recognise: its schools, else the machine's name."""
    from kalan.core.stamps import instance_id
    from kalan.schools.models import School

    names = list(
        School.objects.filter(status=School.Status.OPEN)
        .order_by("name")
        .values_list("name", flat=True)[:3]
    )
    return HubIdentity(id=instance_id(), name=", ".join(names) or socket.gethostname())


# ---------------------------------------------------------------- index.json


def _parse_index(raw: bytes, label: str) -> PeerIndex:
    not_kalan = SourceError(f"{label} is not a Kalan hub (its library index is not understood)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise not_kalan from error
    if not isinstance(data, dict) or data.get("format") != LIBRARY_FORMAT:
        raise not_kalan
    instance = data.get("instance")
    if not isinstance(instance, dict):
        instance = {}
    channels = data.get("channels")
    if not isinstance(channels, list):
        raise not_kalan
    try:
        return PeerIndex(
            instance_id=_uuid_or_none(instance.get("id")),
            name=str(instance.get("name") or "")[:200],
            channels=[_parse_channel(entry) for entry in channels],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise not_kalan from error


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _parse_channel(entry: dict[str, Any]) -> PeerChannel:
    publisher = entry.get("publisher") or {}
    return PeerChannel(
        id=uuid.UUID(entry["id"]),
        version=int(entry["version"]),
        title=str(entry["title"]),
        description=str(entry.get("description") or ""),
        language=str(entry.get("language") or ""),
        resource_count=int(entry.get("resource_count") or 0),
        total_size=int(entry.get("total_size") or 0),
        publisher_name=str(publisher.get("name") or ""),
        publisher_fingerprint=str(publisher.get("fingerprint") or ""),
    )
