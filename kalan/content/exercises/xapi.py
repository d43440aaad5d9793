"""The xAPI activity definition of each item: interaction type, components, correct responses.

Statements about an answer carry this definition (object.definition), so a
record store or a report can read what was asked and what was right without
the exercise file. The correct responses follow the xAPI 1.0.3 patterns:
`a[,]b` for several responses, `source[.]target` for pairs, `min[:]max` for a
numeric range, `{case_matters=true}` in front of case-sensitive fill-ins.
A pattern that cannot say exactly what Kalan accepts is left out (the xAPI
specification allows that), rather than being a partial truth.
"""

from itertools import product
from typing import Any

from kalan.content.exercises.fields import decimal_text
from kalan.content.exercises.markup import plain_text
from kalan.content.exercises.model import (
    Choice,
    ChoiceBlank,
    FillBlanksItem,
    Item,
    ItemType,
    MatchingItem,
    MultipleChoiceItem,
    NumericAnswer,
    NumericBlank,
    NumericItem,
    OrderingItem,
    ShortTextItem,
    SingleChoiceItem,
    TrueFalseItem,
)

CMI_INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
MAX_PATTERNS = 32
INTERACTION_TYPES = {
    ItemType.SINGLE_CHOICE: "choice",
    ItemType.MULTIPLE_CHOICE: "choice",
    ItemType.TRUE_FALSE: "true-false",
    ItemType.NUMERIC: "numeric",
    ItemType.SHORT_TEXT: "fill-in",
    ItemType.ORDERING: "sequencing",
    ItemType.MATCHING: "matching",
    ItemType.FILL_BLANKS: "fill-in",
    ItemType.FREE_RESPONSE: "long-fill-in",
}


def interaction_type(item: Item) -> str:
    """The xAPI interactionType: fill-in blanks with a numeric blank are "other"."""
    if isinstance(item, FillBlanksItem) and any(
        isinstance(blank, NumericBlank) for blank in item.blanks
    ):
        return "other"
    return INTERACTION_TYPES[item.type]


def interaction_definition(item: Item, language: str = "") -> dict[str, Any]:
    """The xAPI activity definition of `item`.

    Descriptions are language maps keyed by the item's language, else
    `language` (the exercise's), else "und".
    """
    tag = item.language or language or "und"
    definition: dict[str, Any] = {
        "type": CMI_INTERACTION,
        "description": {tag: plain_text(item.prompt)},
        "interactionType": interaction_type(item),
    }
    definition.update(_components(item, tag))
    patterns = correct_responses(item)
    if patterns is not None:
        definition["correctResponsesPattern"] = patterns
    return definition


def correct_responses(item: Item) -> list[str] | None:
    """The correctResponsesPattern of `item`, or None when it cannot be said exactly."""
    if isinstance(item, SingleChoiceItem):
        return [item.correct]
    if isinstance(item, MultipleChoiceItem):
        return ["[,]".join(c.id for c in item.choices if c.id in item.correct)]
    if isinstance(item, TrueFalseItem):
        return ["true" if item.correct else "false"]
    if isinstance(item, NumericItem):
        return [_numeric_pattern(answer) for answer in item.answers]
    if isinstance(item, ShortTextItem):
        prefix = "{case_matters=true}" if item.case_sensitive else ""
        return [prefix + answer for answer in item.answers]
    if isinstance(item, OrderingItem):
        return ["[,]".join(step.id for step in item.steps)]
    if isinstance(item, MatchingItem):
        return ["[,]".join(f"{source}[.]{target}" for source, target in item.pairs)]
    if isinstance(item, FillBlanksItem):
        return _fill_in_patterns(item)
    return None


def _numeric_pattern(answer: NumericAnswer) -> str:
    low, high = answer.bounds()
    if low == high:
        return decimal_text(low)
    return f"{decimal_text(low)}[:]{decimal_text(high)}"


def _fill_in_patterns(item: FillBlanksItem) -> list[str] | None:
    options: list[tuple[str, ...]] = []
    case_flags = set()
    for blank in item.blanks:
        if isinstance(blank, NumericBlank):
            return None
        if isinstance(blank, ChoiceBlank):
            options.append((blank.correct,))
            continue
        options.append(blank.answers)
        case_flags.add(blank.case_sensitive)
    count = 1
    for answers in options:
        count *= len(answers)
    if len(case_flags) > 1 or count > MAX_PATTERNS:
        return None
    prefix = "{case_matters=true}" if case_flags == {True} else ""
    return [prefix + "[,]".join(answers) for answers in product(*options)]


def _components(item: Item, tag: str) -> dict[str, Any]:
    if isinstance(item, SingleChoiceItem | MultipleChoiceItem):
        return {"choices": _component(item.choices, tag)}
    if isinstance(item, OrderingItem):
        return {"choices": _component(item.steps, tag)}
    if isinstance(item, MatchingItem):
        return {"source": _component(item.sources, tag), "target": _component(item.targets, tag)}
    return {}


def _component(options: tuple[Choice, ...], tag: str) -> list[dict[str, Any]]:
    return [
        {
            "id": option.id,
            "description": {
                tag: plain_text(option.text) or " ".join(m.alt for m in option.media) or option.id
            },
        }
        for option in options
    ]
