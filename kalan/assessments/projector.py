"""Answers and teachers' grades as a projection of statements (see models.py).

Registered with the LRS (apps.py). Each "answered" statement about an exercise
item of a Kalan learner becomes one `Answer`; each "scored" statement whose
object is a StatementRef (a teacher's grade of an answer, see
docs/architecture/grading.md) becomes one `TeacherGrade`; a voided one is taken
out. Then every answer the batch touched takes the outcome of its latest grade,
by timestamp then statement id, or waits for the teacher while it has none.

The rows are a function of the set of statements alone: a grade that arrives
before its answer (sync) is kept and applied when the answer comes, and any
arrival order, any batching and a rebuild give the same rows.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Final

from kalan.accounts.xapi import user_id_of
from kalan.assessments.activities import item_of
from kalan.assessments.models import Answer, Outcome, TeacherGrade
from kalan.core.bulk import insert_rows
from kalan.lrs.projections import StoredStatement
from kalan.lrs.statements import SCORED

ANSWERED: Final = "http://adlnet.gov/expapi/verbs/answered"
COMMENT_MAX: Final = 2000  # characters of a grade's comment kept in the projection


def _scaled(result: dict[str, Any]) -> float | None:
    score = (result.get("score") or {}).get("scaled")
    if isinstance(score, int | float) and not isinstance(score, bool):
        return float(score)
    return None


def _outcome(result: dict[str, Any]) -> tuple[str, float | None]:
    scaled = _scaled(result)
    success = result.get("success")
    if success is True:
        return Outcome.CORRECT, scaled
    if success is False:
        return (Outcome.PARTLY if scaled else Outcome.INCORRECT), scaled
    return Outcome.NEEDS_TEACHER, None


def answer_row(stored: StoredStatement) -> Answer | None:
    statement = stored.statement
    if stored.user_id is None or statement["verb"]["id"] != ANSWERED:
        return None
    found = item_of(str(statement["object"].get("id", "")))
    if found is None:
        return None
    outcome, score = _outcome(statement.get("result") or {})
    return Answer(
        statement_id=stored.id,
        user_id=stored.user_id,
        node_id=found[0],
        item_id=found[1][:64],
        answered_at=stored.timestamp,
        outcome=outcome,
        score=score,
        for_teacher=outcome == Outcome.NEEDS_TEACHER,
    )


def graded_answer_id(statement: dict[str, Any]) -> uuid.UUID | None:
    """The answer a "scored" statement grades (its StatementRef), or None if it is not a grade."""
    target = statement["object"]
    if statement["verb"]["id"] != SCORED or target.get("objectType") != "StatementRef":
        return None
    try:
        return uuid.UUID(str(target.get("id")))
    except ValueError:
        return None


def grade_row(stored: StoredStatement) -> TeacherGrade | None:
    """A Kalan person's verdict (result.success) on an answer; None for anything else."""
    statement = stored.statement
    answer_id = graded_answer_id(statement)
    teacher_id = user_id_of(statement["actor"])
    result = statement.get("result") or {}
    if answer_id is None or teacher_id is None or not isinstance(result.get("success"), bool):
        return None
    outcome, scaled = _outcome(result)
    comment = result.get("response")
    return TeacherGrade(
        statement_id=stored.id,
        answer_id=answer_id,
        teacher_id=teacher_id,
        graded_at=stored.timestamp,
        outcome=outcome,
        score=scaled if scaled is not None else float(outcome == Outcome.CORRECT),
        comment=comment[:COMMENT_MAX] if isinstance(comment, str) else "",
    )


def _latest(
    grades: Iterable[TeacherGrade], answers: dict[uuid.UUID, Answer]
) -> dict[uuid.UUID, TeacherGrade]:
    """Each answer's grade in effect: the latest by (timestamp, statement id).

    A grade by the learner who answered is no grade: nobody marks their own work.
    """
    latest: dict[uuid.UUID, TeacherGrade] = {}
    for grade in grades:
        answer = answers[grade.answer_id]
        if grade.teacher_id == answer.user_id:
            continue
        best = latest.get(grade.answer_id)
        if best is None or (grade.graded_at, grade.statement_id) > (
            best.graded_at,
            best.statement_id,
        ):
            latest[grade.answer_id] = grade
    return latest


def settle(answer_ids: Iterable[uuid.UUID]) -> None:
    """Give each of these answers (that wait for a teacher) the outcome of its latest grade."""
    answers = {
        answer.statement_id: answer
        for answer in Answer.objects.filter(statement_id__in=set(answer_ids), for_teacher=True)
    }
    if not answers:
        return
    latest = _latest(TeacherGrade.objects.filter(answer_id__in=list(answers)), answers)
    changed = []
    for answer_id, answer in answers.items():
        grade = latest.get(answer_id)
        wanted = (
            (grade.outcome, grade.score, grade.statement_id)
            if grade
            else (Outcome.NEEDS_TEACHER, None, None)
        )
        if (answer.outcome, answer.score, answer.grade_id) != wanted:
            answer.outcome, answer.score, answer.grade_id = wanted
            changed.append(answer)
    if changed:
        Answer.objects.bulk_update(changed, ["outcome", "score", "grade"])


class AnswersProjector:
    name = "answers"

    def reset(self) -> None:
        Answer.objects.all().delete()
        TeacherGrade.objects.all().delete()

    def apply(
        self, statements: Sequence[StoredStatement], voided: Sequence[StoredStatement]
    ) -> None:
        answers = [row for row in map(answer_row, statements) if row is not None]
        grades = [row for row in map(grade_row, statements) if row is not None]
        insert_rows(answers, ignore_conflicts=True)
        insert_rows(grades, ignore_conflicts=True)
        touched = {row.statement_id for row in answers if row.for_teacher}
        touched |= {row.answer_id for row in grades}
        gone = [stored.id for stored in voided]
        if gone:
            Answer.objects.filter(statement_id__in=gone).delete()
            ungraded = {
                answer_id
                for stored in voided
                if (answer_id := graded_answer_id(stored.statement)) is not None
            }
            TeacherGrade.objects.filter(statement_id__in=gone).delete()
            touched |= ungraded
        if touched:
            settle(touched)
