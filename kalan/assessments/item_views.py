"""What the exercise page shows of an item: safe text, media URLs, lists in the learner's order."""

import re
from dataclasses import dataclass, field, replace

from django.utils.safestring import SafeString, mark_safe

from kalan.assessments.mastery import display_order
from kalan.content.exercises.model import (
    Choice,
    ChoiceBlank,
    FillBlanksItem,
    Item,
    MatchingItem,
    Media,
    MediaKind,
    MultipleChoiceItem,
    NumericItem,
    OrderingItem,
    SingleChoiceItem,
)

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9._-]+)\}\}")


@dataclass(frozen=True)
class ShownMedia:
    picture: bool
    url: str
    alt: str


@dataclass(frozen=True)
class ShownChoice:
    id: str
    text: SafeString
    media: list[ShownMedia]
    value: str = ""  # what the learner chose for it (a place, a match), shown again


@dataclass(frozen=True)
class Segment:
    """A piece of a fill-in-the-blanks text: safe HTML, or a blank (text, or its choices)."""

    html: SafeString | None = None
    blank_id: str = ""
    number: int = 0
    choices: list[ShownChoice] = field(default_factory=list)
    value: str = ""


@dataclass(frozen=True)
class ItemView:
    id: str
    type: str
    prompt: SafeString
    language: str
    media: list[ShownMedia]
    hints: list[SafeString]
    hint_count: int
    choices: list[ShownChoice] = field(default_factory=list)
    steps: list[ShownChoice] = field(default_factory=list)
    sources: list[ShownChoice] = field(default_factory=list)
    targets: list[ShownChoice] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    unit: str = ""


def _media(found: tuple[Media, ...], urls: dict[str, str]) -> list[ShownMedia]:
    return [
        ShownMedia(item.kind is MediaKind.IMAGE, urls[item.src], item.alt)
        for item in found
        if item.src in urls
    ]


def _choices(
    choices: tuple[Choice, ...], order: tuple[str, ...], urls: dict[str, str]
) -> list[ShownChoice]:
    by_id = {choice.id: choice for choice in choices}
    ids = order or tuple(by_id)
    # Item text was cleaned against an allow-list when the exercise was read (markup.py).
    return [ShownChoice(i, mark_safe(by_id[i].text), _media(by_id[i].media, urls)) for i in ids]  # noqa: S308


def _segments(item: FillBlanksItem, urls: dict[str, str]) -> list[Segment]:
    blanks = {blank.id: blank for blank in item.blanks}
    segments, last, number = [], 0, 0
    for match in _PLACEHOLDER.finditer(item.prompt):
        segments.append(Segment(html=mark_safe(item.prompt[last : match.start()])))  # noqa: S308
        blank = blanks.get(match[1])
        if blank is not None:
            number += 1
            choices = _choices(blank.choices, (), urls) if isinstance(blank, ChoiceBlank) else []
            segments.append(Segment(blank_id=blank.id, number=number, choices=choices))
        last = match.end()
    segments.append(Segment(html=mark_safe(item.prompt[last:])))  # noqa: S308
    return segments


def item_view(
    item: Item, *, seed: str, urls: dict[str, str], hints_shown: int, language: str
) -> ItemView:
    order = display_order(item, seed)
    view = ItemView(
        id=item.id,
        type=str(item.type),
        prompt=mark_safe(item.prompt),  # noqa: S308  (cleaned when read, see markup.py)
        language=item.language or language,
        media=_media(item.media, urls),
        hints=[mark_safe(hint) for hint in item.hints[:hints_shown]],  # noqa: S308
        hint_count=len(item.hints),
    )
    if isinstance(item, SingleChoiceItem | MultipleChoiceItem):
        return _with(view, choices=_choices(item.choices, order, urls))
    if isinstance(item, OrderingItem):
        return _with(view, steps=_choices(item.steps, order, urls))
    if isinstance(item, MatchingItem):
        sources = _choices(item.sources, (), urls)
        return _with(view, sources=sources, targets=_choices(item.targets, order, urls))
    if isinstance(item, FillBlanksItem):
        return _with(view, segments=_segments(item, urls))
    if isinstance(item, NumericItem):
        return _with(view, unit=item.unit)
    return view


def _with(view: ItemView, **changes: object) -> ItemView:
    return replace(view, **changes)  # type: ignore[arg-type]


def filled(view: ItemView, values: dict[str, object]) -> ItemView:
    """The item with what the learner entered, to show it again with the feedback."""

    def text(name: str) -> str:
        value = values.get(name, "")
        return value if isinstance(value, str) else ""

    return replace(
        view,
        steps=[replace(step, value=text(f"position-{step.id}")) for step in view.steps],
        sources=[replace(source, value=text(f"match-{source.id}")) for source in view.sources],
        segments=[
            replace(segment, value=text(f"blank-{segment.blank_id}"))
            if segment.blank_id
            else segment
            for segment in view.segments
        ],
    )
