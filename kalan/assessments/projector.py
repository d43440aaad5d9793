"""Answers as a projection of "answered" statements (see models.Answer).

Registered with the LRS (apps.py): each answered statement about an exercise
item of a Kalan learner becomes one row; a voided one is taken out. Rows are
keyed by statement id, so the order statements arrive in changes nothing.
"""

from collections.abc import Sequence
from typing import Any, Final

from kalan.assessments.activities import item_of
from kalan.assessments.models import Answer
from kalan.core.bulk import insert_rows
from kalan.lrs.projections import StoredStatement

ANSWERED: Final = "http://adlnet.gov/expapi/verbs/answered"


def _outcome(result: dict[str, Any]) -> tuple[str, float | None]:
    score = (result.get("score") or {}).get("scaled")
    scaled = (
        float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None
    )
    success = result.get("success")
    if success is True:
        return Answer.Outcome.CORRECT, scaled
    if success is False:
        return (Answer.Outcome.PARTLY if scaled else Answer.Outcome.INCORRECT), scaled
    return Answer.Outcome.NEEDS_TEACHER, None


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
    )


class AnswersProjector:
    name = "answers"

    def reset(self) -> None:
        Answer.objects.all().delete()

    def apply(
        self, statements: Sequence[StoredStatement], voided: Sequence[StoredStatement]
    ) -> None:
        rows = [row for row in map(answer_row, statements) if row is not None]
        insert_rows(rows, ignore_conflicts=True)
        gone = [stored.id for stored in voided]
        if gone:
            Answer.objects.filter(statement_id__in=gone).delete()
