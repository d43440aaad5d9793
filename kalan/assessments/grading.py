"""Grading one response to one item: right, wrong, partly right, or for a teacher to read.

`grade(item, response)` is pure: the same item and response always give the
same Grade. What a response is depends on the item type:

| item | response |
|---|---|
| single choice | the chosen choice id |
| multiple choice | the chosen ids (any collection of strings) |
| true/false | True or False (or the strings "true" / "false" a form sends) |
| numeric | the learner's text ("3,5", "-0.25", "1 200") or a number |
| short text, free response | the learner's text |
| ordering | the step ids in the learner's order |
| matching | {source id: target id}, or (source id, target id) pairs |
| fill in the blanks | {blank id: the learner's text, or the chosen choice id} |

A response of the wrong shape raises InvalidResponse; unknown ids in a
response of the right shape are simply wrong.
"""

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Any

from django.utils.translation import gettext as _

from kalan.content.exercises.fields import as_decimal
from kalan.content.exercises.model import (
    Blank,
    Choice,
    ChoiceBlank,
    FillBlanksItem,
    FreeResponseItem,
    Item,
    MatchingItem,
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
from kalan.core.errors import ValidationFailed

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
SPACES = "[ \u00a0\u202f\u2009]"
NUMBER = re.compile(
    rf"^(?P<sign>[+-]?)(?P<whole>\d{{1,3}}(?:{SPACES}\d{{3}})+|\d*)"
    r"(?:[.,](?P<fraction>\d*))?$",
    re.ASCII,
)


class GradeStatus(StrEnum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    PARTLY = "partly"
    NEEDS_TEACHER = "needs_teacher"


@dataclass(frozen=True)
class Grade:
    """The outcome of one response.

    `score` is from 0 to 1 (None while a teacher has not graded it); `feedback`
    is the item text to show, in order: the feedback of each choice picked,
    then the item's feedback on a correct or an incorrect (or partly correct)
    answer. `parts` says, for multiple choice, ordering, matching and
    fill-in-the-blanks items, which parts were right: (choice, step, source or
    blank id, right?).
    """

    status: GradeStatus
    score: float | None
    feedback: tuple[str, ...] = ()
    parts: tuple[tuple[str, bool], ...] = ()

    @property
    def correct(self) -> bool:
        return self.status is GradeStatus.CORRECT


class InvalidResponse(ValidationFailed):
    """The response does not have the shape the item type takes."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [message])


def grade(item: Item, response: object) -> Grade:
    """Grade `response` to `item`; raises InvalidResponse for a response of the wrong shape."""
    grader: Callable[[Any, object], Grade] = GRADERS[type(item)]
    return grader(item, response)


def _graded(
    item: Item,
    score: Fraction,
    feedback: Sequence[str] = (),
    parts: Sequence[tuple[str, bool]] = (),
) -> Grade:
    if score == 1:
        status, closing = GradeStatus.CORRECT, item.feedback.correct
    else:
        status = GradeStatus.INCORRECT if score == 0 else GradeStatus.PARTLY
        closing = item.feedback.incorrect
    shown = tuple(text for text in (*feedback, closing) if text)
    return Grade(status=status, score=float(score), feedback=shown, parts=tuple(parts))


def _choice_feedback(choices: Sequence[Choice], picked: Collection[str]) -> list[str]:
    return [choice.feedback for choice in choices if choice.id in picked]


# ---------------------------------------------------------------- item types


def _grade_free_response(item: FreeResponseItem, response: object) -> Grade:
    _text(item.id, response)
    return Grade(status=GradeStatus.NEEDS_TEACHER, score=None)


def _grade_single(item: SingleChoiceItem, response: object) -> Grade:
    chosen = _text(item.id, response)
    score = Fraction(chosen == item.correct)
    return _graded(item, score, _choice_feedback(item.choices, [chosen]))


def _grade_true_false(item: TrueFalseItem, response: object) -> Grade:
    return _graded(item, Fraction(_boolean(item.id, response) == item.correct))


def _grade_numeric(item: NumericItem, response: object) -> Grade:
    number = parse_number(response) if isinstance(response, str) else _number(item.id, response)
    return _graded(item, Fraction(_number_accepted(number, item.answers)))


def _grade_short_text(item: ShortTextItem, response: object) -> Grade:
    text = _text(item.id, response)
    accepted = text_accepted(text, item.answers, item.case_sensitive, item.ignore_diacritics)
    return _graded(item, Fraction(accepted))


def _grade_multiple(item: MultipleChoiceItem, response: object) -> Grade:
    picked = _ids(item.id, response)
    right = len(picked & item.correct)
    wrong = len(picked - item.correct)
    if item.partial_credit:
        score = max(Fraction(0), Fraction(right - wrong, len(item.correct)))
    else:
        score = Fraction(picked == item.correct)
    parts = [(c.id, (c.id in picked) == (c.id in item.correct)) for c in item.choices]
    return _graded(item, score, _choice_feedback(item.choices, picked), parts)


def _grade_ordering(item: OrderingItem, response: object) -> Grade:
    order = _sequence(item.id, response)
    correct = tuple(step.id for step in item.steps)
    if order == correct or not item.partial_credit:
        score = Fraction(order == correct)
    else:
        given = set(pairwise(order))
        wanted = list(pairwise(correct))
        score = Fraction(sum(pair in given for pair in wanted), len(wanted))
    parts = [
        (step, index < len(order) and order[index] == step) for index, step in enumerate(correct)
    ]
    return _graded(item, score, parts=parts)


def _grade_matching(item: MatchingItem, response: object) -> Grade:
    given = _pairs(item.id, response)
    wanted = dict(item.pairs)
    right = sum(given.get(source) == target for source, target in wanted.items())
    exact = given == wanted
    partial = item.partial_credit and not exact
    score = Fraction(right, max(len(wanted), len(given))) if partial else Fraction(exact)
    parts = [(s.id, given.get(s.id) == wanted.get(s.id)) for s in item.sources]
    return _graded(item, score, parts=parts)


def _grade_blanks(item: FillBlanksItem, response: object) -> Grade:
    answers = _mapping(item.id, response)
    parts = [(blank.id, blank_accepted(blank, answers.get(blank.id, ""))) for blank in item.blanks]
    score = Fraction(sum(right for _id, right in parts), len(parts))
    return _graded(item, score, parts=parts)


GRADERS: dict[type, Callable[[Any, object], Grade]] = {
    SingleChoiceItem: _grade_single,
    MultipleChoiceItem: _grade_multiple,
    TrueFalseItem: _grade_true_false,
    NumericItem: _grade_numeric,
    ShortTextItem: _grade_short_text,
    OrderingItem: _grade_ordering,
    MatchingItem: _grade_matching,
    FillBlanksItem: _grade_blanks,
    FreeResponseItem: _grade_free_response,
}


def blank_accepted(blank: Blank, answer: str) -> bool:
    """True when `answer` fills `blank` rightly."""
    if isinstance(blank, TextBlank):
        return text_accepted(answer, blank.answers, blank.case_sensitive, blank.ignore_diacritics)
    if isinstance(blank, NumericBlank):
        return _number_accepted(parse_number(answer), blank.answers)
    assert isinstance(blank, ChoiceBlank)
    return answer == blank.correct


# ---------------------------------------------------------------- numbers and words


def parse_number(text: str) -> Decimal | None:
    """The number a learner wrote, or None when it is not one.

    "." and "," are both decimal separators ("3,5" and "3.5" are the same); a
    space (also a no-break or thin space) may group thousands ("1 200"); a
    minus sign may be "-" or "−". Text with both "." and "," is refused as
    ambiguous.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    match = NUMBER.match(cleaned)
    if match is None or not (match["whole"] or match["fraction"]):
        return None
    whole = re.sub(SPACES, "", match["whole"]) or "0"
    try:
        return Decimal(f"{match['sign']}{whole}.{match['fraction'] or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None


def _number_accepted(number: Decimal | None, answers: Sequence[NumericAnswer]) -> bool:
    if number is None:
        return False
    for answer in answers:
        low, high = answer.bounds()
        if low <= number <= high:
            return True
    return False


def normalise_text(text: str, *, case_sensitive: bool, ignore_diacritics: bool) -> str:
    """`text` as answers are compared: NFC, runs of spaces folded, typographic apostrophes
    made plain, and, as asked, without case (casefold) and without diacritics (the
    combining marks NFKD separates: é → e, ӣ → и; ɛ, ɲ, ҳ and ҷ are letters and stay).
    """
    text = unicodedata.normalize("NFC", text).translate(APOSTROPHES)
    if ignore_diacritics:
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    if not case_sensitive:
        text = text.casefold()
    return " ".join(unicodedata.normalize("NFC", text).split())


def text_accepted(
    text: str, answers: Sequence[str], case_sensitive: bool, ignore_diacritics: bool
) -> bool:
    """True when `text` is one of `answers` once both are normalised the same way."""
    options = {"case_sensitive": case_sensitive, "ignore_diacritics": ignore_diacritics}
    given = normalise_text(text, **options)
    return bool(given) and any(given == normalise_text(answer, **options) for answer in answers)


# ---------------------------------------------------------------- response shapes


def _refuse(item_id: str, expected: str) -> InvalidResponse:
    return InvalidResponse(
        _('the response to item "%(item)s" must be %(expected)s')
        % {"item": item_id, "expected": expected}
    )


def _text(item_id: str, response: object) -> str:
    if not isinstance(response, str):
        raise _refuse(item_id, _("text"))
    return response


def _boolean(item_id: str, response: object) -> bool:
    if isinstance(response, bool):
        return response
    if response in {"true", "false"}:
        return response == "true"
    raise _refuse(item_id, _("true or false"))


def _number(item_id: str, response: object) -> Decimal | None:
    number = as_decimal(response)
    if number is None:
        raise _refuse(item_id, _("a number or the text the learner wrote"))
    return number


def _ids(item_id: str, response: object) -> frozenset[str]:
    if isinstance(response, str | bytes | Mapping) or not isinstance(response, Collection):
        raise _refuse(item_id, _("a list of choice ids"))
    if not all(isinstance(value, str) for value in response):
        raise _refuse(item_id, _("a list of choice ids"))
    return frozenset(response)


def _sequence(item_id: str, response: object) -> tuple[str, ...]:
    if isinstance(response, str | bytes) or not isinstance(response, Sequence):
        raise _refuse(item_id, _("the step ids in order"))
    if not all(isinstance(value, str) for value in response):
        raise _refuse(item_id, _("the step ids in order"))
    return tuple(response)


def _pairs(item_id: str, response: object) -> dict[str, str]:
    pairs = list(response.items()) if isinstance(response, Mapping) else response
    if isinstance(pairs, str | bytes) or not isinstance(pairs, Collection):
        raise _refuse(item_id, _("source and target id pairs"))
    matched: dict[str, str] = {}
    for pair in pairs:
        if (
            not (
                isinstance(pair, Sequence)
                and len(pair) == 2
                and all(isinstance(side, str) for side in pair)
            )
            or pair[0] in matched
        ):
            raise _refuse(item_id, _("source and target id pairs, each source once"))
        matched[pair[0]] = pair[1]
    return matched


def _mapping(item_id: str, response: object) -> Mapping[str, str]:
    if not isinstance(response, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in response.items()
    ):
        raise _refuse(item_id, _("the answer of each blank, by blank id"))
    return response
