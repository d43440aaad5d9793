"""Reading an installed exercise: its items from the content store, its media's URLs."""

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse

from kalan.content.exercises.errors import ExerciseError
from kalan.content.exercises.format import load_exercise
from kalan.content.exercises.model import Exercise
from kalan.content.kinds import FileRole
from kalan.content.models import ContentNode, NodeFile
from kalan.content.store import hub_library
from kalan.core.errors import NotFound


@dataclass(frozen=True)
class InstalledExercise:
    node: ContentNode
    exercise: Exercise
    media: dict[str, str]  # src -> URL of the stored file


@functools.lru_cache(maxsize=64)
def _parsed(sha256: str) -> Exercise:
    """An exercise file, parsed once per process (files are named by their content)."""
    with hub_library().open(sha256) as handle:
        return load_exercise(handle.read())


def installed_exercise(node: ContentNode) -> InstalledExercise:
    """The exercise of a library node; NotFound when its file is missing or unreadable."""
    files = list(
        NodeFile.objects.filter(node_id=node.id, role__in=[FileRole.MAIN, FileRole.SUPPLEMENTARY])
        .order_by("role", "position")
        .values_list("role", "sha256", "ext", "label")
    )
    main = next((sha for role, sha, _ext, _label in files if role == FileRole.MAIN), None)
    if main is None:
        raise NotFound(f"exercise {node.id} has no file")
    try:
        exercise = _parsed(main)
    except (OSError, ExerciseError) as error:
        raise NotFound(f"exercise {node.id} cannot be read: {error}") from error
    media = {
        label: _file_url(sha, ext)
        for role, sha, ext, label in files
        if role == FileRole.SUPPLEMENTARY and label
    }
    return InstalledExercise(node, exercise, media)


def exercises_of(node_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Exercise]:
    """The exercises of these library nodes that this hub has and can read (one query)."""
    files = NodeFile.objects.filter(node_id__in=set(node_ids), role=FileRole.MAIN).values_list(
        "node_id", "sha256"
    )
    found = {}
    for node_id, sha256 in files:
        try:
            found[node_id] = _parsed(sha256)
        except (OSError, ExerciseError):
            continue
    return found


def _file_url(sha256: str, ext: str) -> str:
    if ext:
        return reverse("files:file", kwargs={"sha256": sha256, "ext": ext})
    return reverse("files:file-bare", kwargs={"sha256": sha256})


def seed_for(user_id: uuid.UUID, node_id: uuid.UUID) -> str:
    """Each learner meets an exercise's items and choices in an order of their own."""
    return f"{user_id}:{node_id}"
