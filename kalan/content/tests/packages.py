"""Small signed channel packages made in code, and a peer hub that serves them.

`make_package` writes a library folder (channels/<id>.json + .sig, files/<sha>)
the way `kalan content build` does, without inspecting anything: transfers
treat files as opaque bytes, so tests of import, export and the peer protocol
need no inspector. Node ids are derived from the channel id and the titles
(`topic_id`, `resource_id`), so a test can name a topic and a new version
keeps its ids.

`PeerServer` serves library folders over HTTP with the peer protocol of
kalan/content/views/peer.py, optionally slowly (`delay`) or badly (`damage`),
for tests that need a peer they can throttle, break or stop at will.
"""

import hashlib
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.content.kinds import FileRole, Kind
from kalan.content.manifest import FORMAT, dump, key_fingerprint, public_key_text, sign
from kalan.content.store import LibraryFolder

CORPUS = Path(os.environ.get("KALAN_CORPUS") or Path(__file__).parents[3] / "../shared/corpus")
KINDS_BY_EXT = {"pdf": Kind.DOCUMENT, "epub": Kind.EPUB, "webm": Kind.VIDEO, "mp3": Kind.AUDIO}
MIMES = {"pdf": "application/pdf", "epub": "application/epub+zip", "vtt": "text/vtt"}


@dataclass(frozen=True)
class Item:
    """One resource: its main file's bytes, and the topic (by title) it sits in."""

    title: str
    data: bytes
    topic: str = ""  # "" puts it directly under the channel's root
    ext: str = "pdf"
    captions: tuple[bytes, ...] = ()

    @property
    def kind(self) -> str:
        return KINDS_BY_EXT.get(self.ext, Kind.DOCUMENT)


def topic_id(channel_id: uuid.UUID, title: str) -> uuid.UUID:
    return uuid.uuid5(channel_id, f"topic:{title}")


def resource_id(channel_id: uuid.UUID, title: str) -> uuid.UUID:
    return uuid.uuid5(channel_id, f"resource:{title}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def random_items(
    count: int, *, size: int = 2000, topics: Sequence[str] = ("",), seed: int = 1
) -> list[Item]:
    """`count` resources of `size` bytes each, different from each other, spread over topics."""
    generator = random.Random(seed)
    return [
        Item(
            title=f"Lesson {seed}-{number:03d}",
            data=generator.randbytes(size),
            topic=topics[number % len(topics)],
        )
        for number in range(count)
    ]


def corpus_items() -> list[Item]:
    """Real documents from the shared corpus (three PDFs and an EPUB) in two topics."""
    files = [
        ("Une page", CORPUS / "pdf/001-trivial/minimal-document.pdf", "Lecture"),
        ("Quatre pages", CORPUS / "pdf/004-pdflatex-4-pages/pdflatex-4-pages.pdf", "Lecture"),
        ("Formulaire", CORPUS / "pdf/010-pdflatex-forms/pdflatex-forms.pdf", "Calcul"),
        ("Sous le vent", CORPUS / "epub/sous-le-vent.epub", "Calcul"),
    ]
    missing = [str(path) for _, path, _ in files if not path.is_file()]
    if missing:
        pytest.skip(f"the shared corpus is absent ({missing[0]}); set KALAN_CORPUS")
    return [
        Item(title=title, data=path.read_bytes(), topic=topic, ext=path.suffix[1:])
        for title, path, topic in files
    ]


def _file_entry(data: bytes, role: str, ext: str) -> dict[str, Any]:
    return {
        "sha256": sha256(data),
        "size": len(data),
        "role": role,
        "ext": ext,
        "mime": MIMES.get(ext, "application/octet-stream"),
        "language": "fr",
        "label": "Français" if role == FileRole.CAPTION else "",
    }


def _resource_node(channel_id: uuid.UUID, item: Item) -> dict[str, Any]:
    files = [_file_entry(item.data, FileRole.MAIN, item.ext)]
    files += [_file_entry(vtt, FileRole.CAPTION, "vtt") for vtt in item.captions]
    return {
        "id": str(resource_id(channel_id, item.title)),
        "kind": item.kind,
        "title": item.title,
        "description": f"About {item.title}",
        "language": "fr",
        "grade_levels": ["P3"],
        "subjects": ["Sciences"],
        "curriculum_codes": [],
        "licence": "CC BY 4.0",
        "author": "Test author",
        "attribution": "",
        "accessibility": ["captions"] if item.captions else [],
        "duration": None,
        "page_count": None,
        "size": sum(entry["size"] for entry in files),
        "thumbnail": None,
        "entry": "",
        "options": {},
        "text": item.title,
        "files": files,
    }


def manifest_data(
    channel_id: uuid.UUID,
    items: Iterable[Item],
    *,
    version: int,
    key: Ed25519PrivateKey,
    title: str,
) -> dict[str, Any]:
    root: dict[str, Any] = {
        "id": str(uuid.uuid5(channel_id, "root")),
        "kind": Kind.TOPIC,
        "title": title,
        "children": [],
    }
    topics: dict[str, dict[str, Any]] = {"": root}
    for item in items:
        if item.topic not in topics:
            topics[item.topic] = {
                "id": str(topic_id(channel_id, item.topic)),
                "kind": Kind.TOPIC,
                "title": item.topic,
                "description": "",
                "children": [],
            }
            root["children"].append(topics[item.topic])
        topics[item.topic]["children"].append(_resource_node(channel_id, item))
    return {
        "format": FORMAT,
        "id": str(channel_id),
        "version": version,
        "title": title,
        "description": f"{title}, a test channel",
        "language": "fr",
        "licence": "CC BY 4.0",
        "created": "2026-11-22T10:00:00Z",
        "publisher": {"name": "Ministère des tests", "public_key": public_key_text(key)},
        "root": root,
    }


def make_package(
    folder: Path,
    *,
    resources: Sequence[Item] | None = None,
    version: int = 1,
    key: Ed25519PrivateKey | None = None,
    channel_id: uuid.UUID | None = None,
    title: str = "Sciences P3",
) -> tuple[uuid.UUID, Ed25519PrivateKey]:
    """Write a signed channel into the library folder `folder` (files first, manifest last).

    Several channels (or versions) can go into one folder; files are stored once.
    """
    key = key or Ed25519PrivateKey.generate()
    channel_id = channel_id or uuid.uuid4()
    items = list(resources if resources is not None else random_items(3, topics=("A", "B")))
    library = LibraryFolder(folder)
    for item in items:
        for data in (item.data, *item.captions):
            library.install_bytes(data)
    raw = dump(manifest_data(channel_id, items, version=version, key=key, title=title))
    library.write_manifest(channel_id, raw, sign(raw, key))
    return channel_id, key


def _nodes(folder: Path, channel_id: uuid.UUID) -> list[dict[str, Any]]:
    data = json.loads(LibraryFolder(folder).read_manifest(channel_id)[0])
    found, stack = [], [data["root"]]
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", []))
        found.append(node)
    return found


def package_files(folder: Path, channel_id: uuid.UUID) -> dict[str, int]:
    """sha256 -> size of every file the channel's manifest in `folder` names."""
    return {
        entry["sha256"]: entry["size"]
        for node in _nodes(folder, channel_id)
        for entry in node.get("files", [])
    }


def store_files(folder: Path) -> set[str]:
    """The names of the files at their final place in a library folder."""
    return set(LibraryFolder(folder).all_files())


def damaged_files(folder: Path) -> list[str]:
    """Files whose content does not match their name (there must never be any)."""
    library = LibraryFolder(folder)
    return [sha for sha in library.all_files() if sha256(library.path(sha).read_bytes()) != sha]


# ---------------------------------------------------------------- a peer hub in a thread


@dataclass
class PeerServer:
    """Serves library folders as a hub does, from a thread on 127.0.0.1.

    `delay` sleeps that many seconds after each `chunk` bytes of a file;
    `damage` lists files served with one byte changed; `drop_after` closes
    the connection after that many bytes of any file.
    """

    folders: list[Path]
    name: str = "Test peer"
    instance_id: uuid.UUID = field(default_factory=uuid.uuid4)
    delay: float = 0.0
    chunk: int = 64 * 1024
    damage: set[str] = field(default_factory=set)
    drop_after: int | None = None
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def index(self) -> dict[str, Any]:
        channels = []
        for folder in self.folders:
            library = LibraryFolder(folder)
            for channel_id in library.channel_ids():
                data = json.loads(library.read_manifest(channel_id)[0])
                channels.append(
                    {
                        "id": str(channel_id),
                        "version": data["version"],
                        "title": data["title"],
                        "description": data.get("description", ""),
                        "language": data.get("language", ""),
                        "resource_count": sum(
                            1 for node in _nodes(folder, channel_id) if node["kind"] != Kind.TOPIC
                        ),
                        "total_size": sum(package_files(folder, channel_id).values()),
                        "publisher": {
                            "name": data["publisher"]["name"],
                            "fingerprint": key_fingerprint(data["publisher"]["public_key"]),
                        },
                    }
                )
        return {
            "format": "kalan-library/1",
            "instance": {"id": str(self.instance_id), "name": self.name},
            "channels": channels,
        }

    def find(self, relative: str) -> Path | None:
        for folder in self.folders:
            if (folder / relative).is_file():
                return folder / relative
        return None


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        peer = self.server.peer
        peer.requests.append(self.path)
        prefix = "/content/library/"
        if not self.path.startswith(prefix):
            return self._send(404, b"not found")
        rest = self.path[len(prefix) :]
        if rest == "index.json":
            return self._send(200, json.dumps(peer.index()).encode(), "application/json")
        if rest.startswith("channels/") and rest.endswith("/files.txt"):
            channel_id = uuid.UUID(rest.split("/")[1])
            for folder in peer.folders:
                if channel_id in LibraryFolder(folder).channel_ids():
                    library = LibraryFolder(folder)
                    held = sorted(s for s in package_files(folder, channel_id) if library.has(s))
                    return self._send(200, "".join(f"{s}\n" for s in held).encode())
            return self._send(404, b"not found")
        if rest.startswith("channels/"):
            path = peer.find(rest)
            return self._send(200, path.read_bytes()) if path else self._send(404, b"not found")
        if rest.startswith("files/"):
            sha = rest[len("files/") :]
            path = peer.find(f"files/{sha[:2]}/{sha}")
            return self._file(path, sha) if path else self._send(404, b"not found")
        return self._send(404, b"not found")

    def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, path: Path, sha: str) -> None:
        peer = self.server.peer
        data = path.read_bytes()
        if sha in peer.damage:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        sent = 0
        while sent < len(data):
            if peer.drop_after is not None and sent >= peer.drop_after:
                self.close_connection = True
                return
            piece = data[sent : sent + peer.chunk]
            self.wfile.write(piece)
            self.wfile.flush()
            sent += len(piece)
            if peer.delay:
                time.sleep(peer.delay)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    peer: PeerServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-file is what some tests are about


@contextmanager
def serving(peer: PeerServer) -> Iterator[PeerServer]:
    """Serve `peer` on a free port of 127.0.0.1 until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.peer = peer
    peer.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
