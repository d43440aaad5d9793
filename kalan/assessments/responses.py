"""A learner's response: read from the exercise form, and written as xAPI's response text.

Form fields, by item type: `choice` (one value, or several for multiple
choice), `answer` (true/false, a number, a short or a free text),
`position-<step id>` (ordering: each step's place, 1 first), `match-<source
id>` (matching: the chosen target's id), `blank-<blank id>` (fill in the
blanks). Every control has a label, so the form works with a keyboard and a
screen reader and without any script.
"""

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from kalan.assessments.grading import InvalidResponse
from kalan.content.exercises.model import (
    FillBlanksItem,
    FreeResponseItem,
    Item,
    MatchingItem,
    MultipleChoiceItem,
    NumericItem,
    OrderingItem,
    ShortTextItem,
    SingleChoiceItem,
    TrueFalseItem,
)


def _text(data: QueryDict, name: str, missing: str) -> str:
    value = data.get(name, "").strip()
    if not value:
        raise InvalidResponse(missing)
    return value


def _ordering(item: OrderingItem, data: QueryDict) -> list[str]:
    places: dict[int, str] = {}
    for step in item.steps:
        value = data.get(f"position-{step.id}", "")
        if not value.isdigit() or not 1 <= int(value) <= len(item.steps) or int(value) in places:
            raise InvalidResponse(
                _("Give every step a different place, from 1 to %(count)d.")
                % {"count": len(item.steps)}
            )
        places[int(value)] = step.id
    return [places[place] for place in sorted(places)]


def _matching(item: MatchingItem, data: QueryDict) -> dict[str, str]:
    targets = {target.id for target in item.targets}
    chosen = {}
    for source in item.sources:
        value = data.get(f"match-{source.id}", "")
        if value and value in targets:
            chosen[source.id] = value
    if not chosen:
        raise InvalidResponse(_("Match at least one item."))
    return chosen


def response_from_form(item: Item, data: QueryDict) -> object:
    """The response the form holds, in the shape grading.grade() takes."""
    if isinstance(item, SingleChoiceItem):
        return _text(data, "choice", _("Choose an answer."))
    if isinstance(item, MultipleChoiceItem):
        picked = [value for value in data.getlist("choice") if value]
        if not picked:
            raise InvalidResponse(_("Choose at least one answer."))
        return picked
    if isinstance(item, TrueFalseItem):
        return _text(data, "answer", _("Choose true or false.")) == "true"
    if isinstance(item, NumericItem | ShortTextItem | FreeResponseItem):
        return _text(data, "answer", _("Write your answer."))
    if isinstance(item, OrderingItem):
        return _ordering(item, data)
    if isinstance(item, MatchingItem):
        return _matching(item, data)
    if isinstance(item, FillBlanksItem):
        answers = {blank.id: data.get(f"blank-{blank.id}", "").strip() for blank in item.blanks}
        if not any(answers.values()):
            raise InvalidResponse(_("Fill in at least one blank."))
        return answers
    raise InvalidResponse(_("This kind of question cannot be answered here."))


def response_text(item: Item, response: object) -> str:
    """The response as xAPI writes it for the item's interaction type."""
    if isinstance(response, bool):
        return "true" if response else "false"
    if isinstance(response, str):
        return response
    if isinstance(item, MatchingItem) and isinstance(response, Mapping):
        return "[,]".join(f"{source}[.]{target}" for source, target in response.items())
    if isinstance(item, FillBlanksItem) and isinstance(response, Mapping):
        return "[,]".join(str(response.get(blank.id, "")) for blank in item.blanks)
    if isinstance(response, list | tuple):
        return "[,]".join(str(value) for value in response)
    return str(response)


def form_values(item: Item, data: QueryDict) -> dict[str, Any]:
    """What the learner entered, to show again with the feedback (by field name)."""
    return {name: data.getlist(name) if name == "choice" else data.get(name, "") for name in data}
