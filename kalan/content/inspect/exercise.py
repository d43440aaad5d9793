"""Exercises: the whole exercise checked, and its pictures and sounds found.

A `*.exercise.json` must be a valid Kalan exercise
(`kalan.content.exercises.format`); the first problem is reported with its item
and field. Every picture and sound an item names must be a file in the
exercise's folder or below it; they are listed in the inspection's options
(`media`) for the builder to carry.

A QTI package (a .zip, or an unzipped package's folder) or a QTI item file
(.xml) is converted (`kalan.content.exercises.qti.import_qti`): the inspection
describes the converted exercise and carries it, with its pictures and sounds
read from the package, as its `conversion`, which the builder stores in place
of the package.
"""

from pathlib import Path

from django.utils.translation import gettext as _

from kalan.content.exercises.errors import ExerciseError, in_item
from kalan.content.exercises.format import MAX_BYTES, exercise_text, load_exercise, media_of
from kalan.content.exercises.model import Exercise
from kalan.content.inspect.inspection import Conversion, Inspection, InvalidFile, clip_text

QTI_SUFFIXES = frozenset({".zip", ".xml"})


def inspect_exercise(path: Path) -> Inspection:
    """Title, description, language, item count and media of a valid exercise.

    Raises InvalidFile (one line naming the item and field) when the exercise is
    not valid, or when a picture or sound it names is not a file next to it; for
    QTI, when the package or item cannot be converted (naming the item file, the
    item and the reason).
    """
    if path.is_dir() or path.suffix.lower() in QTI_SUFFIXES:
        return _inspect_qti(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    try:
        exercise = load_exercise(data)
    except ExerciseError as error:
        raise InvalidFile(str(error)) from None
    folder = path.parent.resolve()
    media: list[str] = []
    for item_id, found in media_of(exercise):
        file = (folder / found.src).resolve()
        if not file.is_file() or not file.is_relative_to(folder):
            raise InvalidFile(
                in_item(
                    item_id,
                    _("the file %(src)s is not in the exercise's folder") % {"src": found.src},
                )
            )
        if found.src not in media:
            media.append(found.src)
    return _inspection(exercise, media)


def _inspect_qti(path: Path) -> Inspection:
    # Imported here: the QTI reader uses this package's zip checks (a cycle at import time).
    from kalan.content.exercises.qti import exercise_bytes, import_qti

    try:
        result = import_qti(path)
    except ExerciseError as error:
        raise InvalidFile(str(error)) from None
    inspection = _inspection(result.exercise, [src for src, _data in result.files])
    inspection.conversion = Conversion(
        data=exercise_bytes(result.exercise), ext="json", files=result.files, notes=result.notes
    )
    return inspection


def _inspection(exercise: Exercise, media: list[str]) -> Inspection:
    return Inspection(
        kind="exercise",
        title=exercise.title,
        description=exercise.description,
        language=exercise.language,
        options={"item_count": len(exercise.items), "media": media},
        text=clip_text(exercise_text(exercise)),
    )
