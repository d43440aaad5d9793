"""QTI text entries and inline choices in an item body, converted to one fill-in-the-blanks item.

Each inline interaction becomes a blank (`{{response id}}` in the prompt): a
text blank for string responses, a numeric blank for float and integer ones
(with the tolerance an `equal` test in the response processing applies), a
choice blank for inline choices.
"""

import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kalan.content.exercises.model import (
    Blank,
    Choice,
    ChoiceBlank,
    FillBlanksItem,
    Item,
    NumericAnswer,
    NumericBlank,
    TextBlank,
)
from kalan.content.exercises.qti_body import child, children, words
from kalan.content.exercises.qti_context import Context, Declaration, common_fields, kalan_id


def fill_blanks(context: Context, body: ET.Element) -> Item:
    blanks: list[Blank] = []

    def inline(interaction: ET.Element) -> str:
        blanks.append(_blank(context, interaction))
        return "{{" + blanks[-1].id + "}}"

    context.writer.inline = inline
    fragment = context.writer.write(body, _("item body"))
    context.writer.inline = None
    common = common_fields(context, fragment)
    return FillBlanksItem(**common, blanks=tuple(blanks))


def _blank(context: Context, interaction: ET.Element) -> Blank:
    declaration = context.declaration(interaction)
    values = declaration.accepted_values()
    blank_id = kalan_id(declaration.identifier)
    if not values:
        raise context.fail(
            _("the response %(response)s has no correct response and no mapping")
            % {"response": declaration.identifier}
        )
    if interaction.tag == "inlineChoiceInteraction":
        options = tuple(
            Choice(id=kalan_id(node.get("identifier", "")), text=words(node))
            for node in children(interaction, "inlineChoice")
        )
        return ChoiceBlank(id=blank_id, choices=options, correct=kalan_id(values[0]))
    if declaration.base_type in {"float", "integer"}:
        return NumericBlank(id=blank_id, answers=_numeric_answers(context, declaration, values))
    if declaration.base_type not in {"string", "identifier"}:
        raise context.fail(
            _("a text entry of base type %(type)s is not supported")
            % {"type": declaration.base_type or '""'}
        )
    sensitive = [entry.case_sensitive for entry in declaration.mapping] or [True]
    return TextBlank(
        id=blank_id, answers=tuple(dict.fromkeys(values)), case_sensitive=any(sensitive)
    )


def _numeric_answers(
    context: Context, declaration: Declaration, values: list[str]
) -> tuple[NumericAnswer, ...]:
    mode, low, high = _tolerance(context, declaration.identifier)
    answers = []
    for value in dict.fromkeys(values):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise context.fail(_("%(value)s is not a number") % {"value": value}) from None
        if mode == "absolute" and low == high:
            answers.append(NumericAnswer(value=number, tolerance=low))
        elif mode == "relative" and low == high:
            answers.append(NumericAnswer(value=number, tolerance_percent=low))
        elif mode == "absolute":
            answers.append(NumericAnswer(minimum=number - low, maximum=number + high))
        elif mode == "relative":
            answers.append(
                NumericAnswer(
                    minimum=number * (100 - low) / 100, maximum=number * (100 + high) / 100
                )
            )
        else:
            answers.append(NumericAnswer(value=number))
    return tuple(answers)


def _tolerance(context: Context, response: str) -> tuple[str, Decimal, Decimal]:
    """The tolerance an `equal` test on `response` applies in the response processing."""
    processing = child(context.root, "responseProcessing")
    for node in processing.iter("equal") if processing is not None else []:
        mode = node.get("toleranceMode", "exact")
        if mode == "exact" or not any(
            v.tag == "variable" and v.get("identifier") == response for v in node
        ):
            continue
        try:
            bounds = [abs(Decimal(part)) for part in node.get("tolerance", "0").split()]
        except InvalidOperation:
            raise context.fail(
                _("the tolerance of %(response)s is not a number") % {"response": response}
            ) from None
        low = bounds[0] if bounds else Decimal(0)
        return mode, low, bounds[1] if len(bounds) > 1 else low
    return "exact", Decimal(0), Decimal(0)
