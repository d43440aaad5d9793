"""Teachers' grades in the answers projection: latest wins, any arrival order, rebuild, mastery."""

import datetime as dt
import io
import itertools
import random
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalan.accounts.xapi import actor_for
from kalan.assessments import services
from kalan.assessments.activities import item_activity_id
from kalan.assessments.models import Answer, Outcome, TeacherGrade
from kalan.assessments.tests.factories import STARS, STORY, make_exercise_node
from kalan.content.activities import resource_activity_id
from kalan.content.exercises import parse_exercise
from kalan.content.exercises.model import Exercise
from kalan.lrs import projections
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.models import Statement
from kalan.lrs.selectors import StatementQuery, statement_page
from kalan.lrs.statements import SCORED, store_statements
from kalan.lrs.validation import agent_key
from kalan.progress.models import ResourceProgress
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
NODE = uuid.UUID("6f1f7d2e-3c1a-4c1e-9d2b-2b7c1d0e4a11")


def _at(minute: int) -> str:
    return (START + dt.timedelta(minutes=minute)).isoformat()


def answered(
    learner: Any, item: str, minute: int, *, success: bool | None = None, node: uuid.UUID = NODE
) -> dict[str, Any]:
    result: dict[str, Any] = {"response": f"{item} at {minute}"}
    if success is not None:
        result["success"] = success
        result["score"] = {"scaled": float(success)}
    return {
        "id": str(uuid.uuid4()),
        "actor": actor_for(learner.id),
        "verb": {"id": ANSWERED},
        "object": {"objectType": "Activity", "id": item_activity_id(node, item)},
        "result": result,
        "context": {
            "contextActivities": {"parent": [{"id": resource_activity_id(node)}]},
        },
        "timestamp": _at(minute),
    }


def scored(
    grader: Any,
    target: dict[str, Any],
    minute: int,
    success: bool,
    comment: str = "",
    statement_id: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"success": success, "score": {"scaled": float(success)}}
    if comment:
        result["response"] = comment
    return {
        "id": statement_id or str(uuid.uuid4()),
        "actor": actor_for(grader.id),
        "verb": {"id": SCORED},
        "object": {"objectType": "StatementRef", "id": target["id"]},
        "result": result,
        "timestamp": _at(minute),
    }


def voiding(actor: Any, target: dict[str, Any], minute: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": actor_for(actor.id),
        "verb": {"id": VOIDED},
        "object": {"objectType": "StatementRef", "id": target["id"]},
        "timestamp": _at(minute),
    }


def store(*statements: dict[str, Any]) -> None:
    store_statements(list(statements), version="2.0.0", authority=KALAN_AUTHORITY)


def outcome_of(statement: dict[str, Any]) -> str:
    return str(Answer.objects.get(statement_id=statement["id"]).outcome)


def snapshot() -> tuple[list[Any], list[Any], list[Any]]:
    return (
        sorted(Answer.objects.values_list(*[f.attname for f in Answer._meta.concrete_fields])),
        sorted(
            TeacherGrade.objects.values_list(
                *[f.attname for f in TeacherGrade._meta.concrete_fields]
            )
        ),
        sorted(
            ResourceProgress.objects.values_list(
                "id", "status", "progress", "time_spent_ms", "completed_at", "detail"
            )
        ),
    )


@pytest.fixture
def people() -> tuple[Any, Any, Any]:
    school = make_school()
    return (
        make_person(school=school),
        make_person(school=school),
        make_person(school=school, roles=("teacher",)),
    )


# ---------------------------------------------------------------- the rules


def test_a_grade_gives_the_answer_its_outcome(people: tuple[Any, Any, Any]) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    store(story)
    assert outcome_of(story) == Outcome.NEEDS_TEACHER
    store(scored(teacher, story, 5, True, "Bien."))
    row = Answer.objects.select_related("grade").get(statement_id=story["id"])
    assert row.outcome == Outcome.CORRECT
    assert row.score == 1.0
    assert row.grade is not None
    assert row.grade.comment == "Bien."
    assert row.answered_at == START + dt.timedelta(minutes=1)  # still the answer's time
    # The teacher's statement is about the answer, not the resource: no progress of theirs.
    assert not ResourceProgress.objects.filter(user_id=teacher.id).exists()


def test_the_learners_statements_include_the_grade_of_their_answer(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    grade = scored(teacher, story, 5, True)
    store(grade)  # before its answer, too
    store(story)
    for query in (
        StatementQuery(agent=agent_key(actor_for(learner.id))),
        StatementQuery(activity=item_activity_id(NODE, "story")),
    ):
        found = {row[0] for row in statement_page(query).rows}
        assert found == {story["id"], grade["id"]}


def test_a_grade_that_arrives_before_its_answer_still_counts(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    store(scored(teacher, story, 5, True))  # by sync, before the answer
    assert not Answer.objects.exists()
    assert TeacherGrade.objects.count() == 1
    store(story)
    assert outcome_of(story) == Outcome.CORRECT


def test_the_latest_grade_by_timestamp_wins_whatever_the_arrival(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    store(story, scored(teacher, story, 9, False, "Relu : non."))
    store(scored(teacher, story, 5, True, "Oui."))  # older, arrives later
    row = Answer.objects.select_related("grade").get(statement_id=story["id"])
    assert row.outcome == Outcome.INCORRECT
    assert row.grade is not None
    assert row.grade.comment == "Relu : non."


def test_grades_at_the_same_time_are_settled_by_statement_id(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    low, high = str(uuid.UUID(int=1)), str(uuid.UUID(int=2**128 - 1))
    store(story, scored(teacher, story, 5, False, statement_id=high))
    store(scored(teacher, story, 5, True, statement_id=low))
    assert outcome_of(story) == Outcome.INCORRECT  # the larger id, whichever came first


def test_voiding_a_grade_brings_back_the_one_before(people: tuple[Any, Any, Any]) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    first, second = scored(teacher, story, 5, True), scored(teacher, story, 6, False)
    store(story, first, second)
    assert outcome_of(story) == Outcome.INCORRECT
    store(voiding(teacher, second, 7))
    assert outcome_of(story) == Outcome.CORRECT
    store(voiding(teacher, first, 8))
    assert outcome_of(story) == Outcome.NEEDS_TEACHER
    assert Answer.objects.get(statement_id=story["id"]).grade_id is None


def test_no_one_grades_their_own_answer_and_automatic_grades_stand(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    story, stars = answered(learner, "story", 1), answered(learner, "stars", 2, success=False)
    store(story, stars, scored(learner, story, 5, True), scored(teacher, stars, 6, True))
    assert outcome_of(story) == Outcome.NEEDS_TEACHER
    assert outcome_of(stars) == Outcome.INCORRECT


def test_a_scored_statement_that_is_no_grade_is_left_alone(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    no_verdict = scored(teacher, story, 5, True)
    del no_verdict["result"]["success"]
    about_an_activity = scored(teacher, story, 6, True)
    about_an_activity["object"] = {"objectType": "Activity", "id": item_activity_id(NODE, "story")}
    store(story, no_verdict, about_an_activity)
    assert not TeacherGrade.objects.exists()
    assert outcome_of(story) == Outcome.NEEDS_TEACHER


# ---------------------------------------------------------------- mastery


def _exercise(mastery: dict[str, Any]) -> Exercise:
    return parse_exercise({"title": "Écrire", "items": [STARS, STORY], "mastery": mastery})


@pytest.mark.parametrize(
    ("mastery", "right", "wrong"),
    [
        # stars wrong, story, stars right: the last two decide.
        ({"model": "m_of_n", "m": 2, "n": 2}, (True, 1.0), (False, 0.5)),
        # stars right, story, stars right: three in a row only if the story is right.
        ({"model": "n_in_a_row", "n": 3}, (True, 1.0), (False, 1 / 3)),
        # stars right, story, stars wrong: 2 of 3 is 66 %, 1 of 3 is 33 %.
        ({"model": "percentage", "percent": 60, "minimum": 3}, (True, 1.0), (False, 5 / 9)),
    ],
)
def test_a_graded_answer_counts_for_mastery_in_its_own_place(
    people: tuple[Any, Any, Any],
    mastery: dict[str, Any],
    right: tuple[bool, float],
    wrong: tuple[bool, float],
) -> None:
    learner, _other, teacher = people
    exercise = _exercise(mastery)
    first = {"m_of_n": False, "n_in_a_row": True, "percentage": True}[mastery["model"]]
    last = mastery["model"] != "percentage"
    story = answered(learner, "story", 2)
    store(answered(learner, "stars", 1, success=first), story)
    store(answered(learner, "stars", 3, success=last))
    waiting = services.mastery_of(exercise, services.past_answers(learner.id, NODE))
    assert not waiting.mastered
    for minute, (success, (mastered, progress)) in enumerate(((True, right), (False, wrong))):
        store(scored(teacher, story, 10 + minute, success))  # then a regrade
        graded = services.mastery_of(exercise, services.past_answers(learner.id, NODE))
        assert (graded.mastered, graded.progress) == pytest.approx((mastered, progress))


def test_the_grade_counts_at_the_answers_time_not_the_grades(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    exercise = _exercise({"model": "n_in_a_row", "n": 2})
    story = answered(learner, "story", 1)
    store(story, answered(learner, "stars", 2, success=False))
    store(answered(learner, "stars", 3, success=True), scored(teacher, story, 10, True))
    # right, wrong, right: one in a row (counted at grading time it would be two).
    assert services.past_answers(learner.id, NODE) == [
        ("story", True),
        ("stars", False),
        ("stars", True),
    ]
    assert not services.mastery_of(exercise, services.past_answers(learner.id, NODE)).mastered


def test_grading_without_the_exercise_records_the_grade_only(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    story = answered(learner, "story", 1)
    store(story)
    graded = services.grade_response(
        teacher_id=teacher.id,
        answer=Answer.objects.get(statement_id=story["id"]),
        exercise=None,
        correct=True,
        grade_id=uuid.uuid4(),
    )
    assert graded.before is None
    assert list(Statement.objects.values_list("verb_id", flat=True).order_by("stored_us")) == [
        ANSWERED,
        SCORED,
    ]
    assert outcome_of(story) == Outcome.CORRECT


def test_a_service_grade_of_an_installed_non_free_response_is_refused(
    people: tuple[Any, Any, Any],
) -> None:
    learner, _other, teacher = people
    stars = answered(learner, "stars", 1)  # without a verdict, as an outside tool may send it
    store(stars)
    answer = Answer.objects.get(statement_id=stars["id"])
    assert answer.for_teacher
    with pytest.raises(services.GradeRefused):
        services.grade_response(
            teacher_id=teacher.id,
            answer=answer,
            exercise=_exercise({"model": "m_of_n"}),
            correct=True,
            grade_id=uuid.uuid4(),
        )
    assert Statement.objects.count() == 1


# ---------------------------------------------------------------- rebuild


def test_the_rebuild_command_gives_the_same_rows(people: tuple[Any, Any, Any]) -> None:
    learner, other, teacher = people
    node = make_exercise_node([STARS, STORY], mastery={"model": "m_of_n", "m": 2, "n": 2})
    story, late = (
        answered(learner, "story", 1, node=node.id),
        answered(other, "story", 2, node=node.id),
    )
    regrade = scored(teacher, story, 7, False, "Relu.")
    store(scored(teacher, late, 3, True))  # before its answer
    store(story, answered(learner, "stars", 2, success=True, node=node.id))
    store(scored(teacher, story, 5, True, "Bien."), regrade, late)
    store(voiding(teacher, regrade, 8))
    before = snapshot()
    assert len(before[0]) == 3
    assert len(before[1]) == 2  # the voided grade is gone
    assert outcome_of(story) == Outcome.CORRECT
    assert outcome_of(late) == Outcome.CORRECT
    Answer.objects.all().delete()
    TeacherGrade.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_progress", stdout=out)
    assert out.getvalue().strip() == "Projected 6 statements."
    assert snapshot() == before


def _expected(statements: list[dict[str, Any]], learners: dict[str, uuid.UUID]) -> dict[str, str]:
    """Each free response's outcome, worked out from the rules without the projection."""
    voided = {s["object"]["id"] for s in statements if s["verb"]["id"] == VOIDED}
    grades: dict[str, list[tuple[str, uuid.UUID, bool]]] = {}
    for s in statements:
        if s["verb"]["id"] == SCORED and s["id"] not in voided:
            if learners.get(s["object"]["id"]) == uuid.UUID(s["actor"]["account"]["name"]):
                continue  # the learner's own
            grades.setdefault(s["object"]["id"], []).append(
                (s["timestamp"], uuid.UUID(s["id"]), s["result"]["success"])
            )
    expected: dict[str, str] = {}
    for answer_id in learners:
        found = sorted(grades.get(answer_id, []))
        if not found:
            expected[answer_id] = Outcome.NEEDS_TEACHER
        else:
            expected[answer_id] = Outcome.CORRECT if found[-1][2] else Outcome.INCORRECT
    return expected


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    cuts=st.lists(st.integers(1, 15), max_size=5),
    verdicts=st.lists(st.tuples(st.integers(0, 2), st.integers(5, 9), st.booleans()), max_size=8),
)
def test_any_arrival_order_and_batching_gives_the_rows_of_a_rebuild(
    people: tuple[Any, Any, Any],
    seed: int,
    cuts: list[int],
    verdicts: list[tuple[int, int, bool]],
) -> None:
    """Answers, grades, regrades, self-grades and voids, in any order and batches (as sync
    delivers them), give the outcomes the rules say, and the rows of a rebuild."""
    Statement.objects.all().delete()
    projections.rebuild()
    learner, other, teacher = people
    answers = [
        answered(learner, "story", 1),
        answered(other, "story", 2),
        answered(learner, "story", 3),
    ]
    made = [*answers, answered(learner, "stars", 4, success=True)]
    # Minutes 5..9 for every grade: equal timestamps are common and settled by id.
    grades = [scored(teacher, answers[which], minute, ok) for which, minute, ok in verdicts]
    made += grades
    made.append(scored(learner, answers[0], 9, True))  # a self-grade: no grade
    if grades:
        made.append(voiding(teacher, grades[seed % len(grades)], 10))
    learners = {answers[0]["id"]: learner.id, answers[1]["id"]: other.id}
    learners[answers[2]["id"]] = learner.id
    random.Random(seed).shuffle(made)
    edges = sorted({0, len(made), *[c for c in cuts if c < len(made)]})
    for start, end in itertools.pairwise(edges):
        store(*made[start:end])
    incremental = snapshot()
    assert {a["id"]: outcome_of(a) for a in answers} == _expected(made, learners)
    projections.rebuild()
    assert snapshot() == incremental
