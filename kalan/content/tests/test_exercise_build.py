"""An exercise with pictures and sounds: built and imported with its media, which make no topic."""

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.content.builder import BuildFailed, build_channel
from kalan.content.demo import tone_wav
from kalan.content.importer import import_channel
from kalan.content.kinds import FileRole, Kind
from kalan.content.models import ContentNode, NodeFile
from kalan.content.sources import DirectorySource
from kalan.content.store import LibraryFolder, hub_library
from kalan.content.tests.factories import png

pytestmark = pytest.mark.django_db

EXERCISE: dict[str, Any] = {
    "title": "Les pots",
    "language": "fr",
    "items": [
        {
            "id": "pots",
            "type": "numeric",
            "prompt": "<p>Combien de pots ?</p>",
            "media": [
                {"src": "images/pots.png", "alt": "Trois pots en terre"},
                {"src": "sons/question.wav"},
            ],
            "answers": [{"value": 3}],
        }
    ],
}


def _source(tmp_path: Path, exercise: dict[str, Any]) -> Path:
    folder = tmp_path / "source" / "Pratique"
    (folder / "images").mkdir(parents=True)
    (folder / "sons").mkdir()
    (folder / "images" / "pots.png").write_bytes(png("pots"))
    (folder / "sons" / "question.wav").write_bytes(tone_wav())
    (folder / "pots.exercise.json").write_text(json.dumps(exercise), encoding="utf-8")
    return tmp_path / "source"


def test_an_exercise_carries_its_pictures_and_sounds(tmp_path: Path) -> None:
    source = _source(tmp_path, EXERCISE)
    built = build_channel(source, tmp_path / "pkg", key=Ed25519PrivateKey.generate())
    import_channel(DirectorySource(LibraryFolder(tmp_path / "pkg")), built.channel_id)
    assert list(ContentNode.objects.exclude(kind=Kind.TOPIC).values_list("kind", flat=True)) == [
        Kind.EXERCISE
    ]  # the sound is the exercise's, not a resource of a "sons" topic
    node = ContentNode.objects.get(kind=Kind.EXERCISE)
    media = dict(
        NodeFile.objects.filter(node=node, role=FileRole.SUPPLEMENTARY).values_list(
            "label", "sha256"
        )
    )
    assert set(media) == {"images/pots.png", "sons/question.wav"}
    assert all(hub_library().has(sha) for sha in media.values())


def test_a_missing_picture_refuses_the_build(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(EXERCISE))
    broken["items"][0]["media"][0]["src"] = "images/absent.png"
    with pytest.raises(BuildFailed) as refused:
        build_channel(_source(tmp_path, broken), tmp_path / "pkg", key=Ed25519PrivateKey.generate())
    assert "images/absent.png" in str(refused.value)
