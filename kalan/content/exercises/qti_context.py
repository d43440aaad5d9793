"""What converting one QTI item needs to know, and the parts every converted item has.

The item's response declarations, its response processing template, and the
writer of its text; the id, prompt, media, hints and feedback every Kalan item
has, with feedback sorted by what its identifier says (correct, incorrect, hint).
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

from django.utils.translation import gettext as _

from kalan.content.exercises.errors import ExerciseError, in_item
from kalan.content.exercises.fields import ID_PATTERN
from kalan.content.exercises.model import Feedback
from kalan.content.exercises.qti_body import BodyWriter, Fragment, child, children, qti_name, words


@dataclass
class Entry:
    """One mapEntry of a response's mapping."""

    key: str
    value: Decimal
    case_sensitive: bool


@dataclass
class Declaration:
    """One responseDeclaration: its correct values and its mapping."""

    identifier: str
    cardinality: str
    base_type: str
    correct: list[str]
    mapping: list[Entry]

    def right_values(self) -> list[str]:
        """The correct response, or else the mapping's keys worth more than nothing."""
        return self.correct or [entry.key for entry in self.mapping if entry.value > 0]

    def accepted_values(self) -> list[str]:
        """The correct response and every mapping key worth more than nothing, once each."""
        positive = [entry.key for entry in self.mapping if entry.value > 0]
        return list(dict.fromkeys(value for value in [*self.correct, *positive] if value))


@dataclass
class Context:
    """The item being converted: its Kalan id, QTI version, XML, declarations and notes."""

    item_id: str
    version: int
    root: ET.Element
    writer: BodyWriter
    declarations: dict[str, Declaration]
    template: str
    notes: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> ExerciseError:
        return ExerciseError(in_item(self.item_id, problem))

    def declaration(self, interaction: ET.Element) -> Declaration:
        name = interaction.get("responseIdentifier", "")
        found = self.declarations.get(name)
        if found is None:
            raise self.fail(
                _("<%(tag)s> answers %(response)s, which no response declaration declares")
                % {"tag": qti_name(interaction.tag, self.version), "response": name or '""'}
            )
        return found


def kalan_id(identifier: str) -> str:
    """A QTI identifier as a Kalan id (letters, digits, ".", "-", "_"; at most 64)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", identifier.strip())[:64]
    if ID_PATTERN.match(cleaned) is None:
        cleaned = ("x" + cleaned)[:64]
    return cleaned


def read_declarations(root: ET.Element) -> dict[str, Declaration]:
    found = {}
    for node in children(root, "responseDeclaration"):
        correct = child(node, "correctResponse")
        mapping = child(node, "mapping")
        entries = []
        for entry in children(mapping, "mapEntry") if mapping is not None else []:
            try:
                value = Decimal(entry.get("mappedValue", "0").strip())
            except InvalidOperation:
                value = Decimal(0)
            entries.append(
                Entry(
                    key=entry.get("mapKey", "").strip(),
                    value=value,
                    case_sensitive=entry.get("caseSensitive", "true").strip() != "false",
                )
            )
        identifier = node.get("identifier", "")
        found[identifier] = Declaration(
            identifier=identifier,
            cardinality=node.get("cardinality", "single"),
            base_type=node.get("baseType", ""),
            correct=[words(value) for value in children(correct, "value")] if correct else [],
            mapping=entries,
        )
    return found


def common_fields(
    context: Context, fragment: Fragment, exclude: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """The fields every item has; feedback elements in `exclude` (by id()) are already used."""
    title = context.root.get("title", "")
    nodes = [*fragment.feedback, *children(context.root, "modalFeedback")]
    correct, incorrect, hints = _feedback(context, [n for n in nodes if id(n) not in exclude])
    return {
        "id": context.item_id,
        "prompt": fragment.text or (f"<p>{escape(title)}</p>" if title.strip() else ""),
        "media": tuple(fragment.media),
        "hints": tuple(hints),
        "feedback": Feedback(correct=correct, incorrect=incorrect),
    }


def _feedback(context: Context, nodes: list[ET.Element]) -> tuple[str, str, list[str]]:
    """Feedback on a correct and an incorrect answer, and hints, from identifiers that say so."""
    correct: list[str] = []
    incorrect: list[str] = []
    hints: list[str] = []
    for node in nodes:
        identifier = node.get("identifier", "").lower()
        shown = node.get("showHide", "show") != "hide"
        written = context.writer.write(node, _("feedback"))
        text = written.text
        if written.media:
            context.notes.append(
                _('the pictures and sounds in feedback of item "%(item)s" were left out')
                % {"item": context.item_id}
            )
        if "hint" in identifier and shown:
            hints.append(text)
        elif identifier.endswith("incorrect") or "wrong" in identifier:
            (incorrect if shown else correct).append(text)
        elif identifier.endswith("correct"):
            (correct if shown else incorrect).append(text)
        else:
            message = _(
                'feedback "%(identifier)s" of item "%(item)s" was left out: it depends on rules'
                " Kalan does not run"
            )
            context.notes.append(
                message % {"identifier": node.get("identifier", ""), "item": context.item_id}
            )
    return " ".join(correct), " ".join(incorrect), hints
