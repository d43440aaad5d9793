"""Exercises (`*.exercise.json`): a title and a list of items; items are checked later."""

import json
from pathlib import Path

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import Inspection, InvalidFile, clip_text

MAX_BYTES = 10 * 1024 * 1024


def inspect_exercise(path: Path) -> Inspection:
    """Title, description, language and item count.

    Raises InvalidFile when the file is not a JSON object with a non-empty
    "title" string and an "items" list.
    """
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InvalidFile(_("the exercise file is larger than 10 MB"))
    try:
        exercise = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidFile(_("the exercise is not valid JSON")) from None
    if not isinstance(exercise, dict):
        raise InvalidFile(_("the exercise is not a JSON object"))
    title = exercise.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InvalidFile(_('the exercise needs a "title"'))
    items = exercise.get("items")
    if not isinstance(items, list):
        raise InvalidFile(_('the exercise needs an "items" list'))
    description = exercise.get("description")
    language = exercise.get("language")
    return Inspection(
        kind="exercise",
        title=" ".join(title.split()),
        description=description.strip() if isinstance(description, str) else "",
        language=language.strip() if isinstance(language, str) else "",
        options={"item_count": len(items)},
        text=clip_text(" ".join([title, description if isinstance(description, str) else ""])),
    )
