"""Answering an exercise item: grade it, record it, and judge mastery.

`answer_item` grades a response, then records, in one call to the LRS (one
transaction): the "answered" statement about the item, with its interaction
definition and the learner's response; a "progressed" statement about the
exercise when the learner moved closer to mastery; and a "mastered" statement
the first time the exercise's mastery rule holds. Progress and mastery then
follow from those statements like any other (progress and answers
projections).
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Final

from kalan.accounts.xapi import actor_for
from kalan.assessments.activities import item_activity_id
from kalan.assessments.grading import Grade, GradeStatus, grade
from kalan.assessments.mastery import MasteryStatus, assess_mastery
from kalan.assessments.models import Answer
from kalan.assessments.responses import response_text
from kalan.content.activities import resource_activity_id
from kalan.content.exercises.model import Exercise, Item
from kalan.content.exercises.xapi import interaction_definition
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.statements import iso, store_statements

ADL: Final = "http://adlnet.gov/expapi/verbs/"
ASSESSMENT: Final = "http://adlnet.gov/expapi/activities/assessment"
HINTS_USED: Final = "https://kalan.invalid/xapi/extensions/hints-used"
PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"


@dataclass(frozen=True)
class AnswerResult:
    grade: Grade
    before: MasteryStatus
    after: MasteryStatus

    @property
    def newly_mastered(self) -> bool:
        return self.after.mastered and not self.before.mastered


def past_answers(user_id: uuid.UUID, node_id: uuid.UUID) -> list[tuple[str, bool | None]]:
    """The learner's answers to an exercise, oldest first: (item id, right? or None if waiting)."""
    rows = Answer.objects.filter(user_id=user_id, node_id=node_id).order_by(
        "answered_at", "statement_id"
    )
    return [
        (
            item_id,
            None if outcome == Answer.Outcome.NEEDS_TEACHER else outcome == Answer.Outcome.CORRECT,
        )
        for item_id, outcome in rows.values_list("item_id", "outcome")
    ]


def mastery_of(exercise: Exercise, answers: list[tuple[str, bool | None]]) -> MasteryStatus:
    return assess_mastery(
        exercise.mastery, [right for _item, right in answers if right is not None]
    )


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
    before = mastery_of(exercise, answers)
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
    whole = _exercise_activity(node_id, exercise)
    if after.progress > before.progress and not after.mastered:
        made.append(
            _statement(
                user_id,
                "progressed",
                whole,
                result={"extensions": {PROGRESS: round(after.progress * 100)}},
            )
        )
    if after.mastered and not before.mastered:
        made.append(
            _statement(user_id, "mastered", whole, result={"success": True, "completion": True})
        )
    store_statements(made, version="2.0.0", authority=KALAN_AUTHORITY)
    return AnswerResult(graded, before, after)
