"""The Kalan exercise format (`*.exercise.json`): read, check and write it back.

`load_exercise` and `parse_exercise` accept an exercise only when every part
of it is right, and raise one ExerciseError naming the item and the field
otherwise (`item "q3": "answers[0].tolerance" must be a number ≥ 0`). The
format is documented in docs/architecture/exercises.md; the item parsers are
in `item_parsers.py`, the dataclasses in `model.py`.
"""

import json
from dataclasses import MISSING, Field, fields, is_dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from kalan.content.exercises.errors import ExerciseError, in_item
from kalan.content.exercises.fields import Reader
from kalan.content.exercises.item_parsers import parse_item
from kalan.content.exercises.markup import plain_text
from kalan.content.exercises.model import (
    ChoiceBlank,
    Exercise,
    Item,
    MasteryModel,
    MasteryRule,
    Media,
    MOfN,
    MultipleChoiceItem,
    NInARow,
    NumericBlank,
    Percentage,
    TextBlank,
)

MAX_BYTES = 10 * 1024 * 1024


def load_exercise(data: bytes) -> Exercise:
    """The exercise in the UTF-8 JSON `data` (a byte-order mark is allowed).

    Raises ExerciseError when it is larger than 10 MB, not JSON, or not a valid exercise.
    """
    if len(data) > MAX_BYTES:
        raise ExerciseError(_("the exercise file is larger than 10 MB"))
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ExerciseError(_("the exercise is not valid JSON")) from None
    return parse_exercise(parsed)


def parse_exercise(data: object) -> Exercise:
    """The exercise held by parsed JSON `data`; raises ExerciseError naming what is wrong."""
    if not isinstance(data, dict):
        raise ExerciseError(_("the exercise is not a JSON object"))
    reader = Reader(data)
    title = reader.raw("title")
    if not isinstance(title, str) or not title.strip():
        raise ExerciseError(_('the exercise needs a "title"'))
    description = reader.string("description", required=False)
    language = reader.language("language")
    mastery = _mastery(reader.child("mastery"))
    shuffle_items = reader.boolean("shuffle_items", True)
    raw_items = reader.raw("items")
    if not isinstance(raw_items, list):
        raise ExerciseError(_('the exercise needs an "items" list'))
    if not raw_items:
        raise ExerciseError(_("the exercise needs at least one item"))
    reader.done()
    items: list[Item] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_items, start=1):
        item = parse_item(raw, number)
        if item.id in seen:
            raise ExerciseError(in_item(item.id, _("another item has the same id")))
        seen.add(item.id)
        items.append(item)
    return Exercise(
        title=" ".join(title.split()),
        description=description,
        language=language,
        mastery=mastery,
        shuffle_items=shuffle_items,
        items=tuple(items),
    )


def _mastery(reader: Reader | None) -> MasteryRule:
    if reader is None:
        return MOfN()
    model = reader.raw("model")
    if model == MasteryModel.M_OF_N:
        m = reader.integer("m", default=4, minimum=1, maximum=100)
        n = reader.integer("n", default=5, minimum=1, maximum=100)
        if m > n:
            raise reader.fail(
                _("%(m)s must not be larger than %(n)s")
                % {"m": reader.name("m"), "n": reader.name("n")}
            )
        rule: MasteryRule = MOfN(m=m, n=n)
    elif model == MasteryModel.N_IN_A_ROW:
        rule = NInARow(n=reader.integer("n", default=3, minimum=1, maximum=100))
    elif model == MasteryModel.PERCENTAGE:
        rule = Percentage(
            percent=reader.integer("percent", default=80, minimum=1, maximum=100),
            minimum=reader.integer("minimum", default=10, minimum=1, maximum=1000),
        )
    else:
        raise reader.fail(
            _("%(field)s must be one of: %(choices)s")
            % {"field": reader.name("model"), "choices": ", ".join(MasteryModel)}
        )
    reader.done()
    return rule


# ---------------------------------------------------------------- writing


def exercise_to_json(exercise: Exercise) -> dict[str, Any]:
    """`exercise` as format JSON (fields at their default left out); parses back equal."""
    data: dict[str, Any] = {"title": exercise.title}
    if exercise.description:
        data["description"] = exercise.description
    if exercise.language:
        data["language"] = exercise.language
    if exercise.mastery != MOfN():
        data["mastery"] = {"model": str(exercise.mastery.model), **_object(exercise.mastery)}
    if not exercise.shuffle_items:
        data["shuffle_items"] = False
    data["items"] = [item_to_json(item) for item in exercise.items]
    return data


def item_to_json(item: Item) -> dict[str, Any]:
    """One item as format JSON (fields at their default left out)."""
    data: dict[str, Any] = {"id": item.id, "type": str(item.type)}
    data.update((key, value) for key, value in _object(item).items() if key != "id")
    if isinstance(item, MultipleChoiceItem):
        data["correct"] = [choice.id for choice in item.choices if choice.id in item.correct]
    return data


BLANK_TYPES = {TextBlank: "text", NumericBlank: "numeric", ChoiceBlank: "choice"}


def _object(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields(value):
        current = getattr(value, field.name)
        if isinstance(value, Media) and field.name == "kind":
            continue
        if current == _default(field):
            continue
        out[field.name] = _json_value(current)
    if type(value) in BLANK_TYPES and type(value) is not TextBlank:
        out = {"id": out.pop("id"), "type": BLANK_TYPES[type(value)], **out}
    return out


def _default(field: Field[Any]) -> Any:
    if field.default_factory is not MISSING:
        return field.default_factory()
    return field.default


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | list):
        return [_json_value(entry) for entry in value]
    if isinstance(value, frozenset):
        return sorted(value)
    if is_dataclass(value) and not isinstance(value, type):
        return _object(value)
    return value


# ---------------------------------------------------------------- reading helpers


def media_of(exercise: Exercise) -> list[tuple[str, Media]]:
    """Every picture and sound the exercise refers to, with the id of its item."""
    found: list[tuple[str, Media]] = []
    for item in exercise.items:
        found.extend((item.id, media) for media in item.media)
        for option in _options(item):
            found.extend((item.id, media) for media in option.media)
    return found


def exercise_text(exercise: Exercise) -> str:
    """The words of the exercise (title, description, prompts, choices), for search."""
    parts = [exercise.title, exercise.description]
    for item in exercise.items:
        parts.append(plain_text(item.prompt))
        parts.extend(plain_text(option.text) for option in _options(item))
    return " ".join(part for part in parts if part)


def _options(item: Item) -> list[Any]:
    found: list[Any] = []
    for name in ("choices", "steps", "sources", "targets"):
        found.extend(getattr(item, name, ()))
    return found
