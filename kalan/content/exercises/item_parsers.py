"""One parser per item type: JSON object in, frozen item out, or one precise ExerciseError."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from django.utils.translation import gettext as _

from kalan.content.exercises.errors import ExerciseError, in_item, quoted
from kalan.content.exercises.fields import Reader
from kalan.content.exercises.markup import MarkupError, clean_text, placeholders
from kalan.content.exercises.model import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    Blank,
    Choice,
    ChoiceBlank,
    Feedback,
    FillBlanksItem,
    FreeResponseItem,
    Item,
    ItemType,
    MatchingItem,
    Media,
    MediaKind,
    MultipleChoiceItem,
    NumericAnswer,
    NumericBlank,
    NumericItem,
    OrderingItem,
    ShortTextItem,
    SingleChoiceItem,
    TextBlank,
    TrueFalseItem,
)

ZERO = Decimal(0)


def parse_item(data: object, number: int) -> Item:
    """The item in `data`, the `number`th of its exercise (for messages before its id is known)."""
    if not isinstance(data, dict):
        raise ExerciseError(in_item(number, _("an item must be a JSON object")))
    item_id = Reader(data, item=number).ident("id")
    reader = Reader(data, item=item_id)
    reader.raw("id")
    kind = reader.raw("type")
    parser = PARSERS.get(str(kind)) if isinstance(kind, str) else None
    if parser is None:
        raise reader.fail(
            _("%(field)s must be one of: %(choices)s")
            % {"field": reader.name("type"), "choices": ", ".join(ItemType)}
        )
    common = {
        "id": item_id,
        "prompt": reader.markup("prompt"),
        "language": reader.language("language"),
        "media": parse_media(reader, "media"),
        "hints": tuple(markup_list(reader, "hints")),
        "feedback": _feedback(reader.child("feedback")),
    }
    item = parser(reader, common)
    reader.done()
    return item


# ---------------------------------------------------------------- parts every item may have


def parse_media(reader: Reader, key: str) -> tuple[Media, ...]:
    found = []
    for entry in reader.objects(key, required=False):
        src = entry.string("src")
        kind = media_kind(src)
        if not is_inside_path(src):
            raise entry.fail(
                _(
                    "%(field)s must be a relative path inside the exercise's folder, such as"
                    ' "images/pot.png"'
                )
                % {"field": entry.name("src")}
            )
        if kind is None:
            raise entry.fail(
                _("%(field)s must be a picture (%(images)s) or a sound (%(sounds)s)")
                % {
                    "field": entry.name("src"),
                    "images": ", ".join(sorted(IMAGE_EXTENSIONS)),
                    "sounds": ", ".join(sorted(AUDIO_EXTENSIONS)),
                }
            )
        alt = entry.string("alt", required=False)
        if kind is MediaKind.IMAGE and not alt:
            raise entry.fail(
                _(
                    "%(field)s is required: say what the picture shows, for learners who cannot"
                    " see it"
                )
                % {"field": entry.name("alt")}
            )
        found.append(Media(kind=kind, src=src, alt=alt))
        entry.done()
    return tuple(found)


def media_kind(src: str) -> MediaKind | None:
    suffix = PurePosixPath(src).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return MediaKind.IMAGE
    if suffix in AUDIO_EXTENSIONS:
        return MediaKind.AUDIO
    return None


def is_inside_path(src: str) -> bool:
    """True for a plain relative path that cannot leave its folder: `images/pot.png`."""
    if not src or src.startswith("/") or any(mark in src for mark in "\\:?#"):
        return False
    if any(ord(character) < 32 for character in src):
        return False
    return all(part and not part.startswith(".") for part in src.split("/"))


def markup_list(reader: Reader, key: str) -> list[str]:
    texts = []
    for index, value in enumerate(reader.items(key, required=False)):
        name = quoted(f"{reader.name(key)[1:-1]}[{index}]")
        if not isinstance(value, str) or not value.strip():
            raise reader.fail(_("%(field)s must be a non-empty string") % {"field": name})
        try:
            texts.append(clean_text(value.strip()))
        except MarkupError as error:
            raise reader.fail(
                _("%(field)s: %(problem)s") % {"field": name, "problem": error}
            ) from None
    return texts


def _feedback(reader: Reader | None) -> Feedback:
    if reader is None:
        return Feedback()
    feedback = Feedback(
        correct=reader.markup("correct", required=False),
        incorrect=reader.markup("incorrect", required=False),
    )
    reader.done()
    return feedback


def choices(
    reader: Reader, key: str, *, minimum: int = 2, feedback: bool = False, plain: bool = False
) -> tuple[Choice, ...]:
    """The choices of the list `key`: ids unique, each with text or a picture or sound.

    `plain` choices are plain text (in a drop-down) and carry no media.
    """
    found: list[Choice] = []
    for entry in reader.objects(key, minimum=minimum):
        choice_id = entry.ident("id")
        if any(choice.id == choice_id for choice in found):
            raise entry.fail(
                _('%(field)s: the id "%(id)s" is used twice')
                % {"field": entry.name("id"), "id": choice_id}
            )
        if plain:
            choice = Choice(id=choice_id, text=entry.string("text"))
        else:
            choice = Choice(
                id=choice_id,
                text=entry.markup("text", required=False),
                media=parse_media(entry, "media"),
                feedback=entry.markup("feedback", required=False) if feedback else "",
            )
            if not choice.text and not choice.media:
                raise entry.fail(
                    _('%(field)s needs a "text" or "media"') % {"field": quoted(entry.path)}
                )
        entry.done()
        found.append(choice)
    return tuple(found)


def known_id(reader: Reader, key: str, options: tuple[Choice, ...]) -> str:
    value = reader.ident(key)
    if value not in {option.id for option in options}:
        raise reader.fail(
            _('%(field)s: "%(id)s" is not one of the choices')
            % {"field": reader.name(key), "id": value}
        )
    return value


def numeric_answers(reader: Reader, key: str) -> tuple[NumericAnswer, ...]:
    return tuple(_numeric_answer(entry) for entry in reader.objects(key, minimum=1))


def _numeric_answer(reader: Reader) -> NumericAnswer:
    value = reader.number("value")
    tolerance = reader.number("tolerance", minimum=ZERO)
    percent = reader.number("tolerance_percent", minimum=ZERO)
    minimum, maximum = reader.number("minimum"), reader.number("maximum")
    reader.done()
    where = quoted(reader.path)
    if value is not None and (minimum is not None or maximum is not None):
        raise reader.fail(
            _('%(field)s has a "value" and a range: give one or the other') % {"field": where}
        )
    if value is not None:
        return NumericAnswer(
            value=value, tolerance=tolerance or ZERO, tolerance_percent=percent or ZERO
        )
    if minimum is None or maximum is None:
        raise reader.fail(
            _('%(field)s needs a "value", or a "minimum" and a "maximum"') % {"field": where}
        )
    if tolerance is not None or percent is not None:
        raise reader.fail(
            _('%(field)s: a tolerance goes with a "value", not with a range') % {"field": where}
        )
    if minimum > maximum:
        raise reader.fail(_('%(field)s: "minimum" is larger than "maximum"') % {"field": where})
    return NumericAnswer(minimum=minimum, maximum=maximum)


# ---------------------------------------------------------------- item types

Common = dict[str, Any]


def _single_choice(reader: Reader, common: Common) -> Item:
    options = choices(reader, "choices", feedback=True)
    return SingleChoiceItem(
        **common,
        choices=options,
        correct=known_id(reader, "correct", options),
        shuffle_choices=reader.boolean("shuffle_choices", True),
    )


def _multiple_choice(reader: Reader, common: Common) -> Item:
    options = choices(reader, "choices", feedback=True)
    correct = reader.items("correct", minimum=1)
    ids = {option.id for option in options}
    for index, value in enumerate(correct):
        name = quoted(f"correct[{index}]")
        if not isinstance(value, str) or value not in ids:
            raise reader.fail(
                _('%(field)s: "%(id)s" is not one of the choices') % {"field": name, "id": value}
            )
        if correct.index(value) != index:
            raise reader.fail(
                _('%(field)s: "%(id)s" is listed twice') % {"field": name, "id": value}
            )
    return MultipleChoiceItem(
        **common,
        choices=options,
        correct=frozenset(str(value) for value in correct),
        partial_credit=reader.boolean("partial_credit", False),
        shuffle_choices=reader.boolean("shuffle_choices", True),
    )


def _true_false(reader: Reader, common: Common) -> Item:
    correct = reader.raw("correct")
    if not isinstance(correct, bool):
        raise reader.fail(_("%(field)s must be true or false") % {"field": reader.name("correct")})
    return TrueFalseItem(**common, correct=correct)


def _numeric(reader: Reader, common: Common) -> Item:
    return NumericItem(
        **common,
        answers=numeric_answers(reader, "answers"),
        unit=reader.string("unit", required=False),
    )


def _short_text(reader: Reader, common: Common) -> Item:
    return ShortTextItem(
        **common,
        answers=tuple(reader.strings("answers", minimum=1)),
        case_sensitive=reader.boolean("case_sensitive", False),
        ignore_diacritics=reader.boolean("ignore_diacritics", False),
    )


def _ordering(reader: Reader, common: Common) -> Item:
    return OrderingItem(
        **common,
        steps=choices(reader, "steps"),
        partial_credit=reader.boolean("partial_credit", False),
    )


def _matching(reader: Reader, common: Common) -> Item:
    sources = choices(reader, "sources", minimum=1)
    targets = choices(reader, "targets", minimum=1)
    shared = {source.id for source in sources} & {target.id for target in targets}
    if shared:
        raise reader.fail(
            _('%(field)s: the id "%(id)s" is used twice')
            % {"field": reader.name("targets"), "id": sorted(shared)[0]}
        )
    return MatchingItem(
        **common,
        sources=sources,
        targets=targets,
        pairs=_pairs(reader, sources, targets),
        partial_credit=reader.boolean("partial_credit", True),
        shuffle_choices=reader.boolean("shuffle_choices", True),
    )


def _pairs(
    reader: Reader, sources: tuple[Choice, ...], targets: tuple[Choice, ...]
) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    source_ids, target_ids = {c.id for c in sources}, {c.id for c in targets}
    for index, value in enumerate(reader.items("pairs", minimum=1)):
        name = quoted(f"pairs[{index}]")
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(side, str) for side in value)
            and value[0] in source_ids
            and value[1] in target_ids
        ):
            raise reader.fail(
                _('%(field)s must be a pair ["source id", "target id"] of the sources and targets')
                % {"field": name}
            )
        if any(source == value[0] for source, _target in pairs):
            raise reader.fail(
                _('%(field)s: the source "%(id)s" is in two pairs')
                % {"field": name, "id": value[0]}
            )
        pairs.append((value[0], value[1]))
    return tuple(pairs)


def _fill_blanks(reader: Reader, common: Common) -> Item:
    blanks: list[Blank] = []
    for entry in reader.objects("blanks", minimum=1):
        blank = _blank(entry)
        if any(other.id == blank.id for other in blanks):
            raise entry.fail(
                _('%(field)s: the id "%(id)s" is used twice')
                % {"field": entry.name("id"), "id": blank.id}
            )
        blanks.append(blank)
    _check_placeholders(reader, common["prompt"], [blank.id for blank in blanks])
    return FillBlanksItem(**common, blanks=tuple(blanks))


def _blank(reader: Reader) -> Blank:
    blank_id = reader.ident("id")
    kind = reader.raw("type") or "text"
    blank: Blank
    if kind == "text":
        blank = TextBlank(
            id=blank_id,
            answers=tuple(reader.strings("answers", minimum=1)),
            case_sensitive=reader.boolean("case_sensitive", False),
            ignore_diacritics=reader.boolean("ignore_diacritics", False),
        )
    elif kind == "numeric":
        blank = NumericBlank(id=blank_id, answers=numeric_answers(reader, "answers"))
    elif kind == "choice":
        options = choices(reader, "choices", plain=True)
        blank = ChoiceBlank(
            id=blank_id, choices=options, correct=known_id(reader, "correct", options)
        )
    else:
        raise reader.fail(
            _("%(field)s must be one of: %(choices)s")
            % {"field": reader.name("type"), "choices": "text, numeric, choice"}
        )
    reader.done()
    return blank


def _check_placeholders(reader: Reader, prompt: str, blank_ids: list[str]) -> None:
    outside, inside = placeholders(prompt)
    field = reader.name("prompt")
    if inside:
        raise reader.fail(
            _("%(field)s: the blank {{%(id)s}} is inside <math>, where no answer field can go")
            % {"field": field, "id": inside[0]}
        )
    for name in outside:
        if name not in blank_ids:
            raise reader.fail(
                _("%(field)s holds {{%(id)s}}, but no blank has that id")
                % {"field": field, "id": name}
            )
        if outside.count(name) > 1:
            raise reader.fail(_("%(field)s holds {{%(id)s}} twice") % {"field": field, "id": name})
    for blank_id in blank_ids:
        if blank_id not in outside:
            raise reader.fail(
                _('%(field)s has no {{%(id)s}} for the blank "%(id)s"')
                % {"field": field, "id": blank_id}
            )


def _free_response(reader: Reader, common: Common) -> Item:
    return FreeResponseItem(**common, guidance=reader.markup("guidance", required=False))


PARSERS: dict[str, Callable[[Reader, Common], Item]] = {
    ItemType.SINGLE_CHOICE: _single_choice,
    ItemType.MULTIPLE_CHOICE: _multiple_choice,
    ItemType.TRUE_FALSE: _true_false,
    ItemType.NUMERIC: _numeric,
    ItemType.SHORT_TEXT: _short_text,
    ItemType.ORDERING: _ordering,
    ItemType.MATCHING: _matching,
    ItemType.FILL_BLANKS: _fill_blanks,
    ItemType.FREE_RESPONSE: _free_response,
}
