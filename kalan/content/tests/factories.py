"""Channels for the library's tests: real signed packages, imported by the real importer.

Describe a tree with `Topic` and `Res`, then `install_channel` writes a library
folder (signed manifest, files named by SHA-256, a PNG thumbnail and WebVTT
captions where asked) and imports it with `import_channel`: the rows, the
facets and the search index are exactly what an import gives.
"""

import hashlib
import io
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from PIL import Image

from kalan.content.importer import import_channel
from kalan.content.kinds import FileRole, Kind
from kalan.content.manifest import FORMAT, dump, public_key_text, sign
from kalan.content.models import Channel, ContentNode
from kalan.content.sources import DirectorySource
from kalan.content.store import LibraryFolder

MAIN_FILES: dict[str, tuple[str, str]] = {
    Kind.VIDEO: ("webm", "video/webm"),
    Kind.AUDIO: ("mp3", "audio/mpeg"),
    Kind.DOCUMENT: ("pdf", "application/pdf"),
    Kind.EPUB: ("epub", "application/epub+zip"),
    Kind.HTML5: ("zip", "application/zip"),
    Kind.H5P: ("h5p", "application/zip"),
    Kind.SCORM: ("zip", "application/zip"),
    Kind.CMI5: ("zip", "application/zip"),
    Kind.ZIM: ("zim", "application/octet-stream"),
    Kind.EXERCISE: ("json", "application/json"),
}


@dataclass
class Res:
    """A resource of a test channel; every manifest field can be set."""

    title: str
    kind: str = Kind.DOCUMENT
    description: str = ""
    language: str = "fr"
    grade_levels: Sequence[str] = ()
    subjects: Sequence[str] = ()
    curriculum_codes: Sequence[str] = ()
    licence: str = ""
    author: str = ""
    attribution: str = ""
    accessibility: Sequence[str] = ()
    duration: int | None = None
    page_count: int | None = None
    text: str = ""
    captions: Sequence[str] = ()  # languages of WebVTT caption files
    thumbnail: bool = False


@dataclass
class Topic:
    title: str
    children: Sequence["Topic | Res"] = ()
    description: str = ""


@dataclass
class Installed:
    channel: Channel
    ids: dict[str, uuid.UUID] = field(default_factory=dict)  # title -> node id
    files: dict[str, bytes] = field(default_factory=dict)  # sha256 -> content

    def __getitem__(self, title: str) -> uuid.UUID:
        return self.ids[title]


def png(seed: str, size: tuple[int, int] = (32, 18)) -> bytes:
    """A small real PNG whose colour depends on `seed`."""
    colour = tuple(hashlib.sha256(seed.encode()).digest()[:3])
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def webvtt(language: str, text: str) -> bytes:
    return f"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n{text} ({language})\n".encode()


class _Builder:
    def __init__(self, channel_id: uuid.UUID, folder: LibraryFolder) -> None:
        self.channel_id = channel_id
        self.folder = folder
        self.ids: dict[str, uuid.UUID] = {}
        self.files: dict[str, bytes] = {}

    def _file(self, data: bytes, role: str, ext: str, mime: str, **extra: str) -> dict[str, Any]:
        installed = self.folder.install_bytes(data)
        self.files[installed.sha256] = data
        return {
            "sha256": installed.sha256,
            "size": installed.size,
            "role": role,
            "ext": ext,
            "mime": mime,
            "language": extra.get("language", ""),
            "label": extra.get("label", ""),
        }

    def _id(self, title: str) -> str:
        node_id = uuid.uuid5(self.channel_id, f"{len(self.ids)}:{title}")
        self.ids.setdefault(title, node_id)
        return str(node_id)

    def node(self, item: "Topic | Res") -> dict[str, Any]:
        if isinstance(item, Topic):
            return {
                "id": self._id(item.title),
                "kind": Kind.TOPIC,
                "title": item.title,
                "description": item.description,
                "children": [self.node(child) for child in item.children],
            }
        return self.resource(item)

    def resource(self, res: Res) -> dict[str, Any]:
        ext, mime = MAIN_FILES[res.kind]
        node_id = self._id(res.title)
        main = f"{res.kind} {node_id} {res.title}\n".encode() * 8
        files = [self._file(main, FileRole.MAIN, ext, mime, language=res.language)]
        files += [
            self._file(webvtt(lang, res.title), FileRole.CAPTION, "vtt", "text/vtt", language=lang)
            for lang in res.captions
        ]
        if res.thumbnail:
            files.append(self._file(png(res.title), FileRole.THUMBNAIL, "png", "image/png"))
        thumbnail = next((f["sha256"] for f in files if f["role"] == FileRole.THUMBNAIL), None)
        return {
            "id": node_id,
            "kind": res.kind,
            "title": res.title,
            "description": res.description,
            "language": res.language,
            "grade_levels": list(res.grade_levels),
            "subjects": list(res.subjects),
            "curriculum_codes": list(res.curriculum_codes),
            "licence": res.licence,
            "author": res.author,
            "attribution": res.attribution,
            "accessibility": list(res.accessibility),
            "duration": res.duration,
            "page_count": res.page_count,
            "size": sum(f["size"] for f in files),
            "thumbnail": thumbnail,
            "entry": "",
            "options": {},
            "text": res.text,
            "files": files,
        }


def make_package(
    folder: Path,
    children: Sequence[Topic | Res],
    *,
    title: str,
    channel_id: uuid.UUID | None = None,
    language: str = "fr",
    description: str = "",
    licence: str = "CC BY 4.0",
    publisher: str = "Ministère de l'Éducation nationale",
    key: Ed25519PrivateKey | None = None,
    version: int = 1,
) -> tuple[uuid.UUID, _Builder]:
    """Write a signed channel into the library folder `folder`; files first, manifest last."""
    key = key or Ed25519PrivateKey.generate()
    channel_id = channel_id or uuid.uuid4()
    library = LibraryFolder(folder)
    builder = _Builder(channel_id, library)
    root = builder.node(Topic(title, children))
    data = {
        "format": FORMAT,
        "id": str(channel_id),
        "version": version,
        "title": title,
        "description": description,
        "language": language,
        "licence": licence,
        "created": "2026-11-22T10:00:00Z",
        "publisher": {"name": publisher, "public_key": public_key_text(key)},
        "root": root,
    }
    raw = dump(data)
    library.write_manifest(channel_id, raw, sign(raw, key))
    return channel_id, builder


def install_channel(
    folder: Path,
    children: Sequence[Topic | Res],
    *,
    title: str,
    library: LibraryFolder | None = None,
    **options: Any,
) -> Installed:
    """Build a package in `folder` and import it into `library` (default: the hub's store)."""
    channel_id, builder = make_package(folder, children, title=title, **options)
    import_channel(DirectorySource(LibraryFolder(folder)), channel_id, library=library)
    return Installed(Channel.objects.get(id=channel_id), builder.ids, builder.files)


def many(count: int, *, prefix: str = "Lesson", **fields: Any) -> Iterator[Res]:
    """`count` resources titled "<prefix> 001"... with the same other fields."""
    for number in range(1, count + 1):
        yield Res(title=f"{prefix} {number:03d}", **fields)


# ---------------------------------------------------------------- the shelf of the library tests

FRENCH = [
    Topic(
        "Français",
        description="Lire et écrire.",
        children=[
            Res(
                "La leçon de l'élève",
                description="Une leçon pour chaque élève de la classe.",
                grade_levels=["P3"],
                subjects=["Français"],
                curriculum_codes=["FR.P3.2"],
                licence="CC BY-SA 4.0",
                author="Awa Traoré",
                attribution="Ministère de l'Éducation du Mali",
                accessibility=["screen_reader"],
                page_count=12,
                thumbnail=True,
                text="Le texte du livret parle de grammaire et de conjugaison.",
            ),
            Topic(
                "Lecture",
                children=[
                    Res(
                        "Contes du soir",
                        kind=Kind.EPUB,
                        description="Des histoires à lire avant de dormir.",
                        grade_levels=["P4"],
                        subjects=["Français"],
                        text="Il était une fois un hibou qui lisait des livres en français.",
                    ),
                ],
            ),
            Res(
                "Le marché de Bamako",
                kind=Kind.VIDEO,
                description="Compter les fruits au marché.",
                grade_levels=["P3"],
                subjects=["Sciences"],
                duration=200,
                captions=["fr", "bm", "en"],
                accessibility=["captions"],
                thumbnail=True,
            ),
        ],
    ),
    Topic(
        "Bamanankan",
        children=[
            Res(
                "Sɛbɛnni kalan",
                language="bm",
                description="Ɲɛnajɛ ni ŋaniya kan sɛbɛnni.",
                grade_levels=["P1"],
                subjects=["Bamanankan"],
                page_count=1,
            ),
            Res(
                "Kɔrɔ ka kuma",
                kind=Kind.AUDIO,
                language="bm",
                description="Mɔgɔkɔrɔw ka kuma lamɛn.",
                grade_levels=["P1"],
                subjects=["Bamanankan"],
                duration=45,
                captions=["bm"],
            ),
        ],
    ),
    Topic(
        "Exercices",
        children=list(
            many(
                25,
                prefix="Exercice",
                kind=Kind.EXERCISE,
                grade_levels=["P5"],
                subjects=["Mathématiques"],
                description="Calculer vite et bien.",
            )
        ),
    ),
]

TAJIK = [
    Res(
        "Ҳисоб барои синфи дуюм",
        language="tg",
        description="Дарсҳои ҳисоб барои хонандагони мактабӣ.",
        grade_levels=["2"],
        subjects=["Математика"],
        text="Ҷавоб ба ҳар як савол дар як рӯз.",
    ),
    Res(
        "Китобҳо дар бораи ғизо",
        kind=Kind.EPUB,
        language="tg",
        description="Ғизои солим барои кӯдакон.",
        grade_levels=["3"],
        subjects=["Биология"],
    ),
    Res(
        "Ёжик в тумане",
        kind=Kind.VIDEO,
        language="ru",
        description="Сказка о ёжике и медвежонке.",
        grade_levels=["2"],
        subjects=["Литература"],
        duration=600,
        captions=["ru"],
    ),
]


@dataclass
class Shelf:
    """Two channels: French and Bambara lessons, and a Tajik and Russian one."""

    library: LibraryFolder
    french: Installed
    tajik: Installed

    def __getitem__(self, title: str) -> uuid.UUID:
        return self.french.ids.get(title) or self.tajik[title]


def make_shelf(folder: Path) -> Shelf:
    library = LibraryFolder(folder / "store")
    return Shelf(
        library=library,
        french=install_channel(
            folder / "french",
            FRENCH,
            title="Français et bamanankan",
            description="Des leçons pour l'école fondamentale.",
            library=library,
        ),
        tajik=install_channel(
            folder / "tajik",
            TAJIK,
            title="Китобхонаи мактабӣ",
            language="tg",
            description="Дарсҳо барои мактаб.",
            publisher="Вазорати маориф",
            library=library,
        ),
    )


@pytest.fixture(scope="module", name="shelf")
def shelf_fixture(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shelf]:
    """The shelf, imported once per test module and rolled back at the module's end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield make_shelf(tmp_path_factory.mktemp("shelf"))
        transaction.set_rollback(True)


# ---------------------------------------------------------------- rows without files


def make_installed_channel(*, title: str = "Sciences") -> Channel:
    """An installed channel row, for tests that need resources but no files."""
    return Channel.objects.create(
        id=uuid.uuid4(), version=1, title=title, public_key="k", manifest_sha256="0" * 64
    )


def make_resource(
    kind: str, *, title: str = "Le cycle de l'eau", channel: Channel | None = None, **fields: Any
) -> ContentNode:
    """One library node of `kind` at the top of a channel (a new one unless given)."""
    fields.setdefault("path", "0001")
    return ContentNode.objects.create(
        id=uuid.uuid4(),
        channel=channel or make_installed_channel(),
        kind=kind,
        title=title,
        **fields,
    )
