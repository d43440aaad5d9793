"""Exercises: the Kalan item format, its checks, its xAPI definitions and QTI import.

`format` reads and writes `*.exercise.json`, `model` holds the frozen
dataclasses, `markup` the allow-list for item text, `xapi` the activity
definitions statements carry, and `qti` converts QTI 2.x and 3.0 items and
packages into the format (import it by name: it is not loaded with the package).
Grading and mastery live in `kalan.assessments`, which builds on this package.
"""

from kalan.content.exercises.errors import ExerciseError
from kalan.content.exercises.format import (
    exercise_text,
    exercise_to_json,
    item_to_json,
    load_exercise,
    media_of,
    parse_exercise,
)
from kalan.content.exercises.model import Exercise, Item, ItemType

__all__ = [
    "Exercise",
    "ExerciseError",
    "Item",
    "ItemType",
    "exercise_text",
    "exercise_to_json",
    "item_to_json",
    "load_exercise",
    "media_of",
    "parse_exercise",
]
