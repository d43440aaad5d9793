"""One QTI assessment item (2.x or 3.0, names already normalised) converted to one Kalan item.

Supported: choiceInteraction (single or multiple choice, by the response's
cardinality), orderInteraction, matchInteraction and associateInteraction
(matching), extendedTextInteraction (free response), and any number of
textEntryInteraction and inlineChoiceInteraction inside the body text (fill in
the blanks). Response processing may be absent, custom, or one of the standard
templates match_correct and map_response; the correct response (or, without
one, the mapping's positive entries) says what is right.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kalan.content.exercises.errors import ExerciseError, in_item
from kalan.content.exercises.markup import is_language_tag
from kalan.content.exercises.model import (
    Choice,
    FreeResponseItem,
    Item,
    MatchingItem,
    MultipleChoiceItem,
    OrderingItem,
    SingleChoiceItem,
)
from kalan.content.exercises.qti_blanks import fill_blanks
from kalan.content.exercises.qti_body import BodyWriter, Fragment, child, children, qti_name
from kalan.content.exercises.qti_context import (
    Context,
    Declaration,
    common_fields,
    kalan_id,
    read_declarations,
)

BLOCK_INTERACTIONS = frozenset(
    {
        "choiceInteraction",
        "orderInteraction",
        "matchInteraction",
        "associateInteraction",
        "extendedTextInteraction",
    }
)
INLINE_INTERACTIONS = frozenset({"textEntryInteraction", "inlineChoiceInteraction"})
IGNORED_INTERACTIONS = frozenset({"endAttemptInteraction"})
TEMPLATES = {"match_correct", "map_response"}


@dataclass(frozen=True)
class Converted:
    """A converted item, with its title, language and notes on what was left out."""

    item: Item
    title: str
    language: str
    notes: tuple[str, ...] = ()


def convert_item(root: ET.Element, *, version: int, base: str = "") -> Converted:
    """The Kalan item in the normalised QTI item `root`.

    Raises ExerciseError naming the item and what Kalan cannot take: an
    unsupported or a second interaction, adaptive items, template variables,
    an unknown response processing template, or a response with no right answer.
    """
    item_id = kalan_id(root.get("identifier") or "item")
    context = Context(
        item_id=item_id,
        version=version,
        root=root,
        writer=BodyWriter(item_id=item_id, version=version, base=base),
        declarations=read_declarations(root),
        template=_template(root, item_id),
    )
    _refuse_features(context)
    body = child(root, "itemBody")
    if body is None:
        raise context.fail(_("the QTI item has no item body"))
    interactions = _interactions(context, body)
    block = [node for node in interactions if node.tag in BLOCK_INTERACTIONS]
    item = _block_item(context, body, block[0]) if block else fill_blanks(context, body)
    language = root.get("lang", "")
    return Converted(
        item=item,
        title=" ".join((root.get("title") or "").split()),
        language=language if is_language_tag(language) else "",
        notes=tuple(context.notes),
    )


def _template(root: ET.Element, item_id: str) -> str:
    processing = child(root, "responseProcessing")
    if processing is None:
        return ""
    template = processing.get("template", "")
    if not template:
        return "custom"
    name = template.rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
    if name not in TEMPLATES:
        raise ExerciseError(
            in_item(
                item_id,
                _(
                    "the response processing template %(template)s is not one Kalan knows"
                    " (match_correct, map_response)"
                )
                % {"template": template},
            )
        )
    return name


def _refuse_features(context: Context) -> None:
    if context.root.get("adaptive", "false").strip() == "true":
        raise context.fail(_("adaptive QTI items (several attempts with rules) are not supported"))
    if children(context.root, "templateDeclaration") or children(
        context.root, "templateProcessing"
    ):
        raise context.fail(
            _("the QTI item uses template variables (cloned items), which Kalan does not take")
        )


def _interactions(context: Context, body: ET.Element) -> list[ET.Element]:
    found = []
    for node in body.iter():
        if not node.tag.endswith("Interaction") or node.tag in IGNORED_INTERACTIONS:
            continue
        if node.tag not in BLOCK_INTERACTIONS | INLINE_INTERACTIONS:
            raise context.fail(
                _("<%(tag)s> is an interaction Kalan cannot import (it takes: %(supported)s)")
                % {"tag": qti_name(node.tag, context.version), "supported": _supported(context)}
            )
        found.append(node)
    if not found:
        raise context.fail(_("the QTI item has no interaction"))
    block = [node for node in found if node.tag in BLOCK_INTERACTIONS]
    if block and len(found) > 1:
        raise context.fail(
            ngettext(
                "the QTI item has %(count)d interaction (%(names)s);"
                " a Kalan item asks one question",
                "the QTI item has %(count)d interactions (%(names)s);"
                " a Kalan item asks one question",
                len(found),
            )
            % {
                "count": len(found),
                "names": ", ".join(qti_name(node.tag, context.version) for node in found),
            }
        )
    return found


def _prompt(context: Context, body: ET.Element, interaction: ET.Element) -> Fragment:
    """The body around the interaction, then the interaction's own prompt."""
    writer = context.writer
    writer.skip = frozenset({id(interaction)})
    around = writer.write(body, _("item body"))
    writer.skip = frozenset()
    prompt = child(interaction, "prompt")
    if prompt is None:
        return around
    own = writer.write(prompt, _("prompt"))
    text = own.text if own.text.startswith(("<p>", "<p ")) else f"<p>{own.text}</p>"
    return Fragment(
        text=around.text + (text if own.text else ""),
        media=around.media + own.media,
        feedback=around.feedback + own.feedback,
        rubrics=around.rubrics + own.rubrics,
    )


def _options(
    context: Context, nodes: list[ET.Element], *, feedback: bool = False
) -> tuple[Choice, ...]:
    """Choices from QTI choice elements; with `feedback`, their inline feedback is theirs."""
    found = []
    for node in nodes:
        choice_id = kalan_id(node.get("identifier", ""))
        fragment = context.writer.write(node, _("choice %(id)s") % {"id": choice_id})
        notes = ""
        if feedback and fragment.feedback:
            parts = [context.writer.write(f, _("feedback")).text for f in fragment.feedback]
            notes = " ".join(parts)
        found.append(
            Choice(id=choice_id, text=fragment.text, media=tuple(fragment.media), feedback=notes)
        )
    return tuple(found)


def _supported(context: Context) -> str:
    names = sorted(BLOCK_INTERACTIONS | INLINE_INTERACTIONS)
    return ", ".join(qti_name(name, context.version) for name in names)


# ---------------------------------------------------------------- block interactions


def _block_item(context: Context, body: ET.Element, interaction: ET.Element) -> Item:
    fragment = _prompt(context, body, interaction)
    tag = interaction.tag
    if tag == "extendedTextInteraction":
        rubrics = [context.writer.write(node, _("rubric")).text for node in fragment.rubrics]
        return FreeResponseItem(**common_fields(context, fragment), guidance=" ".join(rubrics))
    declaration = context.declaration(interaction)
    if not declaration.right_values():
        raise context.fail(
            _("the response %(response)s has no correct response and no mapping")
            % {"response": declaration.identifier}
        )
    if tag == "choiceInteraction":
        return _choice(context, interaction, declaration, fragment)
    common = common_fields(context, fragment)
    if tag == "orderInteraction":
        return _order(context, interaction, declaration, common)
    return _matching(context, interaction, declaration, common)


def _choice(
    context: Context, interaction: ET.Element, declaration: Declaration, fragment: Fragment
) -> Item:
    nodes = children(interaction, "simpleChoice")
    options, used = _with_modal_choice_feedback(context, _options(context, nodes, feedback=True))
    common = common_fields(context, fragment, used)
    right = [kalan_id(value) for value in declaration.right_values()]
    fixed = any(node.get("fixed") == "true" for node in nodes)
    shuffle = interaction.get("shuffle") == "true" and not fixed
    if declaration.cardinality == "single":
        if len(right) != 1:
            raise context.fail(_("a single-choice response needs exactly one correct choice"))
        return SingleChoiceItem(
            **common, choices=options, correct=right[0], shuffle_choices=shuffle
        )
    if declaration.cardinality != "multiple":
        raise context.fail(
            _("a choice response of cardinality %(cardinality)s is not supported")
            % {"cardinality": declaration.cardinality}
        )
    return MultipleChoiceItem(
        **common,
        choices=options,
        correct=frozenset(right),
        partial_credit=context.template == "map_response",
        shuffle_choices=shuffle,
    )


def _with_modal_choice_feedback(
    context: Context, options: tuple[Choice, ...]
) -> tuple[tuple[Choice, ...], frozenset[int]]:
    """Choices given the modal feedback whose identifier is theirs (shown when picked),
    and the feedback elements used that way."""
    extra: dict[str, str] = {}
    used = set()
    ids = {option.id for option in options}
    for node in children(context.root, "modalFeedback"):
        identifier = kalan_id(node.get("identifier", ""))
        if node.get("showHide", "show") == "show" and identifier in ids:
            extra[identifier] = context.writer.write(node, _("feedback")).text
            used.add(id(node))
    joined = tuple(
        replace(option, feedback=" ".join(filter(None, [option.feedback, extra.get(option.id)])))
        for option in options
    )
    return joined, frozenset(used)


def _order(
    context: Context, interaction: ET.Element, declaration: Declaration, common: dict[str, Any]
) -> Item:
    options = {
        choice.id: choice for choice in _options(context, children(interaction, "simpleChoice"))
    }
    order = [kalan_id(value) for value in declaration.right_values()]
    if sorted(order) != sorted(options):
        raise context.fail(
            _("the correct order must hold every choice once (Kalan orders all of them)")
        )
    return OrderingItem(**common, steps=tuple(options[step] for step in order))


def _matching(
    context: Context, interaction: ET.Element, declaration: Declaration, common: dict[str, Any]
) -> Item:
    pairs = []
    for value in declaration.right_values():
        sides = value.split()
        if len(sides) != 2:
            raise context.fail(_("%(value)s is not a pair of choices") % {"value": value})
        pairs.append((kalan_id(sides[0]), kalan_id(sides[1])))
    if interaction.tag == "matchInteraction":
        sets = children(interaction, "simpleMatchSet")
        if len(sets) != 2:
            raise context.fail(_("a match interaction needs two match sets"))
        sources = _options(context, children(sets[0], "simpleAssociableChoice"))
        targets = _options(context, children(sets[1], "simpleAssociableChoice"))
    else:
        everything = _options(context, children(interaction, "simpleAssociableChoice"))
        firsts = {source for source, _target in pairs}
        sources = tuple(c for c in everything if c.id in firsts)
        targets = tuple(c for c in everything if c.id not in firsts)
    if len({source for source, _target in pairs}) != len(pairs):
        raise context.fail(
            _("a choice is matched twice in the correct response; in Kalan each has one match")
        )
    return MatchingItem(
        **common,
        sources=sources,
        targets=targets,
        pairs=tuple(pairs),
        partial_credit=context.template == "map_response",
        shuffle_choices=interaction.get("shuffle") == "true",
    )
