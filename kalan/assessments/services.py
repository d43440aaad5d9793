"""Answering an exercise item, and a teacher grading a free response.

`answer_item` grades a response, then records, in one call to the LRS (one
transaction): the "answered" statement about the item, with its interaction
definition and the learner's response; a "progressed" statement about the
exercise when the learner moved closer to mastery; and a "mastered" statement
the first time the exercise's mastery rule holds. Progress and mastery then
follow from those statements like any other (progress and answers
projections).

`grade_response` records a teacher's verdict on an answer that waits for one:
a "scored" statement by the teacher whose object is the answer's statement
(docs/architecture/grading.md), with, in the same call, the learner's
"progressed" or "mastered" statement when the grade moves them on.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kalan.accounts.xapi import actor_for
from kalan.assessments.activities import item_activity_id
from kalan.assessments.grading import Grade, GradeStatus, grade
from kalan.assessments.mastery import MasteryStatus, assess_mastery
from kalan.assessments.models import Answer, Outcome
from kalan.assessments.responses import response_text
from kalan.content.activities import resource_activity_id
from kalan.content.exercises.model import Exercise, FreeResponseItem, Item
from kalan.content.exercises.xapi import interaction_definition
from kalan.core.errors import KalanError, ValidationFailed
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.models import Statement
from kalan.lrs.statements import SCORED, StatementConflict, iso, store_statements
from kalan.progress.models import ResourceProgress, Status

ADL: Final = "http://adlnet.gov/expapi/verbs/"
ASSESSMENT: Final = "http://adlnet.gov/expapi/activities/assessment"
HINTS_USED: Final = "https://kalan.invalid/xapi/extensions/hints-used"
PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"
COMMENT_LENGTH: Final = 1000  # characters a teacher may write about one answer


@dataclass(frozen=True)
class AnswerResult:
    grade: Grade
    before: MasteryStatus
    after: MasteryStatus

    @property
    def newly_mastered(self) -> bool:
        return self.after.mastered and not self.before.mastered


def _right(outcome: str) -> bool | None:
    return None if outcome == Outcome.NEEDS_TEACHER else outcome == Outcome.CORRECT


def answers_of(user_id: uuid.UUID, node_id: uuid.UUID) -> list[Answer]:
    """The learner's answers to an exercise with their grade in effect, oldest first."""
    rows = Answer.objects.filter(user_id=user_id, node_id=node_id).select_related("grade")
    return list(rows.order_by("answered_at", "statement_id"))


def as_past(answers: list[Answer]) -> list[tuple[str, bool | None]]:
    """(item id, right? or None while waiting) of each answer, in the same order.

    An answer a teacher graded counts as the latest grade says, in the place of
    the answer (its time), not of the grade.
    """
    return [(answer.item_id, _right(answer.outcome)) for answer in answers]


def past_answers(user_id: uuid.UUID, node_id: uuid.UUID) -> list[tuple[str, bool | None]]:
    """The learner's answers to an exercise, oldest first: (item id, right? or None if waiting)."""
    rows = Answer.objects.filter(user_id=user_id, node_id=node_id).order_by(
        "answered_at", "statement_id"
    )
    return [
        (item_id, _right(outcome)) for item_id, outcome in rows.values_list("item_id", "outcome")
    ]


def mastery_of(exercise: Exercise, answers: list[tuple[str, bool | None]]) -> MasteryStatus:
    return assess_mastery(
        exercise.mastery, [right for _item, right in answers if right is not None]
    )


KEPT = MasteryStatus(mastered=True, progress=1.0)


def current_mastery(
    user_id: uuid.UUID,
    node_id: uuid.UUID,
    exercise: Exercise,
    answers: list[tuple[str, bool | None]],
) -> MasteryStatus:
    """Mastery from the answers, or kept: once a "mastered" statement is recorded, it stays.

    (A teacher may later change a grade that counted toward it; the progress
    projection keeps "mastered", and so does the exercise page.)
    """
    found = mastery_of(exercise, answers)
    if found.mastered:
        return found
    kept = ResourceProgress.objects.filter(
        user_id=user_id, node_id=node_id, status=Status.MASTERED
    ).exists()
    return KEPT if kept else found


def _exercise_activity(node_id: uuid.UUID, exercise: Exercise) -> dict[str, Any]:
    language = exercise.language or "und"
    return {
        "objectType": "Activity",
        "id": resource_activity_id(node_id),
        "definition": {"name": {language: exercise.title}, "type": ASSESSMENT},
    }


def _statement(
    user_id: uuid.UUID, verb: str, target: dict[str, Any], **parts: Any
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": actor_for(user_id),
        "verb": {"id": ADL + verb, "display": {"en-US": verb}},
        "object": target,
        "timestamp": iso(dt.datetime.now(dt.UTC)),
        **parts,
    }


def _answered(
    user_id: uuid.UUID,
    node_id: uuid.UUID,
    exercise: Exercise,
    item: Item,
    response: object,
    graded: Grade,
    *,
    hints_used: int,
    seconds: float | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"response": response_text(item, response)}
    if graded.status is not GradeStatus.NEEDS_TEACHER:
        result["success"] = graded.correct
        result["score"] = {"scaled": round(graded.score or 0.0, 4)}
    if seconds is not None:
        result["duration"] = f"PT{max(seconds, 0):.1f}S"
    result["extensions"] = {HINTS_USED: hints_used}
    target = {
        "objectType": "Activity",
        "id": item_activity_id(node_id, item.id),
        "definition": interaction_definition(item, item.language or exercise.language),
    }
    context = {"contextActivities": {"parent": [_exercise_activity(node_id, exercise)]}}
    return _statement(user_id, "answered", target, result=result, context=context)


def _moving_on(
    user_id: uuid.UUID,
    node_id: uuid.UUID,
    exercise: Exercise,
    before: MasteryStatus,
    after: MasteryStatus,
    **parts: Any,
) -> list[dict[str, Any]]:
    """The learner's "progressed" or "mastered" statement when `after` moves them on."""
    whole = _exercise_activity(node_id, exercise)
    result: dict[str, Any]
    if after.mastered and not before.mastered:
        result = {"success": True, "completion": True}
        return [_statement(user_id, "mastered", whole, result=result, **parts)]
    if after.progress > before.progress:
        result = {"extensions": {PROGRESS: round(after.progress * 100)}}
        return [_statement(user_id, "progressed", whole, result=result, **parts)]
    return []


def answer_item(
    *,
    user_id: uuid.UUID,
    node_id: uuid.UUID,
    exercise: Exercise,
    item: Item,
    response: object,
    hints_used: int = 0,
    seconds: float | None = None,
) -> AnswerResult:
    """Grade and record one answer (raises grading.InvalidResponse for a malformed response)."""
    graded = grade(item, response)
    answers = past_answers(user_id, node_id)
    before = current_mastery(user_id, node_id, exercise, answers)
    right = None if graded.status is GradeStatus.NEEDS_TEACHER else graded.correct
    after = mastery_of(exercise, [*answers, (item.id, right)])
    if before.mastered:
        after = before  # mastery, once reached, is kept
    made = [
        _answered(
            user_id,
            node_id,
            exercise,
            item,
            response,
            graded,
            hints_used=hints_used,
            seconds=seconds,
        )
    ]
    made += _moving_on(user_id, node_id, exercise, before, after)
    store_statements(made, version="2.0.0", authority=KALAN_AUTHORITY)
    return AnswerResult(graded, before, after)


# ---------------------------------------------------------------- a teacher's grade


class GradeRefused(ValidationFailed):
    """The grade cannot be given: bad input, or an answer that is not the teacher's to grade."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [message])


class GradeAlreadySaved(KalanError):
    """The same grade was sent twice (the form's statement id is already stored)."""


@dataclass(frozen=True)
class GradedAnswer:
    statement_id: uuid.UUID  # the teacher's "scored" statement
    before: MasteryStatus | None  # the learner's mastery (None when the exercise is not here)
    after: MasteryStatus | None


def _scored(
    teacher_id: uuid.UUID, answer_id: uuid.UUID, grade_id: uuid.UUID, correct: bool, comment: str
) -> dict[str, Any]:
    result: dict[str, Any] = {"success": correct, "score": {"scaled": 1.0 if correct else 0.0}}
    if comment:
        result["response"] = comment
    return {
        "id": str(grade_id),
        "actor": actor_for(teacher_id),
        "verb": {"id": SCORED, "display": {"en-US": "scored"}},
        "object": {"objectType": "StatementRef", "id": str(answer_id)},
        "result": result,
        "timestamp": iso(dt.datetime.now(dt.UTC)),
    }


def _check_gradable(answer: Answer, item: Item | None, comment: str) -> None:
    if not answer.for_teacher or (item is not None and not isinstance(item, FreeResponseItem)):
        raise GradeRefused(_("This answer was graded automatically: it needs no teacher's grade."))
    if len(comment) > COMMENT_LENGTH:
        raise GradeRefused(
            _("The comment is too long: write at most %(limit_value)d characters.")
            % {"limit_value": COMMENT_LENGTH}
        )


def _mastery_after_grade(
    answer: Answer, exercise: Exercise, correct: bool
) -> tuple[MasteryStatus, MasteryStatus]:
    rows = Answer.objects.filter(user_id=answer.user_id, node_id=answer.node_id).order_by(
        "answered_at", "statement_id"
    )
    found = list(rows.values_list("statement_id", "item_id", "outcome"))
    answers = [(item_id, _right(outcome)) for _id, item_id, outcome in found]
    before = current_mastery(answer.user_id, answer.node_id, exercise, answers)
    regraded = [
        (item_id, correct if statement_id == answer.statement_id else _right(outcome))
        for statement_id, item_id, outcome in found
    ]
    after = before if before.mastered else mastery_of(exercise, regraded)
    return before, after


def grade_response(
    *,
    teacher_id: uuid.UUID,
    answer: Answer,
    exercise: Exercise | None,
    correct: bool,
    comment: str = "",
    grade_id: uuid.UUID,
) -> GradedAnswer:
    """Record a teacher's grade of an answer that waits for one; the latest grade wins.

    `answer` must be one the teacher may grade (permissions.access_answer_by_id);
    `exercise` is the answer's exercise when this hub's library has it (its item
    must then be a free response, and the learner's progress toward mastery is
    recorded too); `grade_id` is the id the grading form was given, so the same
    form sent twice stores one grade. Raises GradeRefused (nothing recorded) and
    GradeAlreadySaved (the grade with that id is stored already).
    """
    comment = comment.strip()
    item = None
    if exercise is not None:
        try:
            item = exercise.item(answer.item_id)
        except KeyError:
            item = None
    _check_gradable(answer, item, comment)
    made = [_scored(teacher_id, answer.statement_id, grade_id, correct, comment)]
    before = after = None
    saved_twice = GradeAlreadySaved(_("This grade has already been saved."))
    try:
        with transaction.atomic():
            if Statement.objects.filter(id=grade_id).exists():
                raise saved_twice
            if exercise is not None:
                before, after = _mastery_after_grade(answer, exercise, correct)
                reason = {"statement": {"objectType": "StatementRef", "id": str(grade_id)}}
                made += _moving_on(
                    answer.user_id, answer.node_id, exercise, before, after, context=reason
                )
            store_statements(made, version="2.0.0", authority=KALAN_AUTHORITY)
    except (StatementConflict, IntegrityError) as error:
        # The same form sent twice at once: the other request stored the grade first.
        raise saved_twice from error
    return GradedAnswer(grade_id, before, after)
