"""The teacher's grading page through HTTP: who may grade whom, the statement, bad input."""

import json
import re
import uuid
from typing import Any

import pytest
from django.test import Client

from kalan.accounts.models import User
from kalan.accounts.xapi import actor_for
from kalan.assessments.models import Answer, Outcome, TeacherGrade
from kalan.assessments.services import COMMENT_LENGTH
from kalan.assessments.tests.factories import (
    POEM,
    STARS,
    STORY,
    SUM,
    answer,
    make_exercise_node,
)
from kalan.content.models import ContentNode
from kalan.lrs.models import Statement
from kalan.lrs.statements import SCORED
from kalan.lrs.validation import validate_statement
from kalan.progress.models import ResourceProgress, Status
from kalan.schools.tests.factories import World, world_fixture

__all__ = ["world_fixture"]

pytestmark = pytest.mark.django_db

GRADING = "/practice/grading/"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
MASTERED = "http://adlnet.gov/expapi/verbs/mastered"
# Session, person, roles (3), the page of answers and its count, then for the whole page:
# statements, titles, exercise files, names, classes.
PAGE_QUERIES = 12


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def free_response(learner: User, node: ContentNode, text: str, item: str = "story") -> Answer:
    """The learner writes a free response through the exercise page; its Answer row."""
    answer(signed_in(learner), node, item, answer=text)
    return Answer.objects.filter(user_id=learner.id, item_id=item).latest("answered_at")


def grade(client: Client, target: Answer, verdict: str = "correct", **fields: Any) -> Any:
    data = {"verdict": verdict, "comment": "", "grade_id": str(uuid.uuid4()), **fields}
    return client.post(f"{GRADING}{target.statement_id}/", data)


def scored() -> list[dict[str, Any]]:
    bodies = Statement.objects.filter(verb_id=SCORED).values_list("body", flat=True)
    return [json.loads(body) for body in bodies]


def state() -> tuple[Any, ...]:
    """Everything grading may change: statements, answers, grades, progress."""
    return (
        sorted(Statement.objects.values_list("id", flat=True)),
        sorted(Answer.objects.values_list("statement_id", "outcome", "grade_id")),
        sorted(TeacherGrade.objects.values_list("statement_id", flat=True)),
        sorted(ResourceProgress.objects.values_list("id", "status", "progress")),
    )


@pytest.fixture
def story() -> ContentNode:
    return make_exercise_node([STORY, POEM, STARS])


# ---------------------------------------------------------------- who sees what


def test_a_teacher_lists_the_free_responses_of_their_classes_only(
    world: World, story: ContentNode
) -> None:
    a = world.a
    free_response(a.learners[0], story, "J'ai mangé.\n<script>alert(1)</script>")
    free_response(a.other_learner, story, "Pas dans la classe du maître.")
    free_response(world.b.learner, story, "Une autre école.")
    answer(signed_in(a.learners[1]), story, "stars", choice="three")  # graded automatically
    response = signed_in(a.teacher).get(GRADING)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<li class="card"') == 1
    assert a.learners[0].full_name in html
    assert a.classroom.name in html
    assert "Écrire" in html  # the exercise
    assert "<p>Raconte ta journée.</p>" in html  # the item's prompt
    assert "<p>Trois phrases complètes.</p>" in html  # the guidance, for the teacher only
    assert "J&#x27;ai mangé.\n&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "Pas dans la classe" not in html
    assert "Une autre école" not in html
    assert "1 answer waits for a grade." in html


def test_a_school_admin_sees_every_learner_of_their_school(
    world: World, story: ContentNode
) -> None:
    free_response(world.a.learners[0], story, "Dans la classe.")
    free_response(world.a.other_learner, story, "Dans une autre classe.")
    free_response(world.b.learner, story, "Une autre école.")
    html = signed_in(world.a.admin).get(GRADING).content.decode()
    assert "Dans la classe." in html
    assert "Dans une autre classe." in html
    assert "Une autre école." not in html


@pytest.mark.parametrize("who", ["learner", "parent", "viewer"])
def test_people_who_grade_nothing_are_refused(world: World, story: ContentNode, who: str) -> None:
    target = free_response(world.a.learners[0], story, "Mon texte.")
    person = {"learner": world.a.learners[0], "parent": world.a.parent, "viewer": world.viewer}[who]
    client = signed_in(person)
    assert client.get(GRADING).status_code == 403
    before = state()
    assert grade(client, target).status_code == 403
    assert state() == before


def test_signing_in_comes_first(world: World) -> None:
    response = Client().get(GRADING)
    assert response.status_code == 302
    assert "/signin/" in response["Location"]


def test_a_teacher_cannot_grade_a_learner_outside_their_classes(
    world: World, story: ContentNode
) -> None:
    elsewhere = [
        free_response(world.a.other_learner, story, "Autre classe."),
        free_response(world.b.learner, story, "Autre école."),
    ]
    before = state()
    for target in elsewhere:
        response = grade(signed_in(world.a.teacher), target)
        assert response.status_code == 404
        assert "not one of your learners" in response.content.decode()
    assert state() == before


def test_nobody_grades_their_own_answer(world: World, story: ContentNode) -> None:
    own = free_response(world.a.admin, story, "Ma propre réponse.")
    client = signed_in(world.a.admin)
    assert "Ma propre réponse." not in client.get(GRADING).content.decode()
    before = state()
    assert grade(client, own).status_code == 404
    assert state() == before


# ---------------------------------------------------------------- the statement


def test_a_grade_is_one_scored_statement_about_the_answer(world: World, story: ContentNode) -> None:
    a = world.a
    target = free_response(a.learners[0], story, "Je suis allé au marché.")
    grade_id = str(uuid.uuid4())
    response = grade(
        signed_in(a.teacher),
        target,
        verdict="correct",
        comment="Très bien, trois phrases.",
        grade_id=grade_id,
    )
    assert response.status_code == 302
    assert response["Location"] == GRADING
    [statement] = scored()
    assert statement["id"] == grade_id
    assert statement["actor"] == actor_for(a.teacher.id)
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/scored"
    assert statement["object"] == {"objectType": "StatementRef", "id": str(target.statement_id)}
    assert statement["result"] == {
        "success": True,
        "score": {"scaled": 1.0},
        "response": "Très bien, trois phrases.",
    }
    validate_statement(
        {k: v for k, v in statement.items() if k not in {"stored", "authority"}},
        version="2.0.0",
    )
    answered = Statement.objects.get(id=target.statement_id)
    assert answered.verb_id == ANSWERED
    target.refresh_from_db()
    assert target.outcome == Outcome.CORRECT
    assert str(target.grade_id) == grade_id
    # Graded: no longer waiting, listed with the graded ones.
    client = signed_in(a.teacher)
    assert "No answer waits for a grade." in client.get(GRADING).content.decode()
    graded = client.get(f"{GRADING}?show=graded").content.decode()
    assert "Je suis allé au marché." in graded
    assert re.search(r'value="correct" checked', graded)
    assert "Très bien, trois phrases." in graded


def test_a_wrong_verdict_without_a_comment(world: World, story: ContentNode) -> None:
    target = free_response(world.a.learners[0], story, "Bof.")
    assert grade(signed_in(world.a.teacher), target, verdict="incorrect").status_code == 302
    [statement] = scored()
    assert statement["result"] == {"success": False, "score": {"scaled": 0.0}}
    target.refresh_from_db()
    assert target.outcome == Outcome.INCORRECT


def test_the_learner_sees_the_grade_and_the_comment(world: World, story: ContentNode) -> None:
    learner = world.a.learners[0]
    target = free_response(learner, story, "Il a plu <beaucoup>.")
    page = signed_in(learner).get(f"/practice/{story.id}/?item=stars").content.decode()
    assert "Your teacher has not read it yet." in page
    assert "Il a plu &lt;beaucoup&gt;." in page
    grade(signed_in(world.a.teacher), target, verdict="incorrect", comment="Encore une phrase.")
    page = signed_in(learner).get(f"/practice/{story.id}/?item=stars").content.decode()
    assert "Your teacher says: not right yet." in page
    assert "Encore une phrase." in page
    assert "Your teacher has not read it yet." not in page


def test_regrading_is_a_newer_statement_and_the_latest_wins(
    world: World, story: ContentNode
) -> None:
    learner, teacher = world.a.learners[0], signed_in(world.a.teacher)
    target = free_response(learner, story, "Version un.")
    assert grade(teacher, target, verdict="incorrect", comment="Non.").status_code == 302
    response = grade(teacher, target, verdict="correct", comment="Oui, relu.", show="graded")
    assert response.status_code == 302
    assert response["Location"] == f"{GRADING}?show=graded&page=1"
    assert len(scored()) == 2
    target.refresh_from_db()
    assert target.outcome == Outcome.CORRECT
    assert target.grade is not None
    assert target.grade.comment == "Oui, relu."
    page = signed_in(learner).get(f"/practice/{story.id}/?item=stars").content.decode()
    assert "Your teacher says: right." in page
    assert "Oui, relu." in page
    assert "Non." not in page


def test_a_grade_moves_the_learner_to_mastery(world: World) -> None:
    learner = world.a.learners[0]
    node = make_exercise_node([STARS, STORY], mastery={"model": "m_of_n", "m": 2, "n": 2})
    client = signed_in(learner)
    answer(client, node, "stars", choice="three")
    target = free_response(learner, node, "Ma journée.")
    assert ResourceProgress.objects.get(user_id=learner.id).status == Status.IN_PROGRESS
    assert "You have mastered" not in client.get(f"/practice/{node.id}/").content.decode()
    assert grade(signed_in(world.a.teacher), target).status_code == 302
    mastered = Statement.objects.get(verb_id=MASTERED)
    body = json.loads(mastered.body)
    assert body["actor"] == actor_for(learner.id)
    assert body["context"]["statement"] == {"objectType": "StatementRef", "id": scored()[0]["id"]}
    assert ResourceProgress.objects.get(user_id=learner.id).status == Status.MASTERED
    assert (
        "You have mastered this exercise." in client.get(f"/practice/{node.id}/").content.decode()
    )
    # A later change of the grade does not take mastery back, nor record it twice.
    assert grade(signed_in(world.a.teacher), target, verdict="incorrect").status_code == 302
    assert grade(signed_in(world.a.teacher), target, verdict="correct").status_code == 302
    assert Statement.objects.filter(verb_id=MASTERED).count() == 1
    assert (
        "You have mastered this exercise." in client.get(f"/practice/{node.id}/").content.decode()
    )


# ---------------------------------------------------------------- bad input


def _refused_once(response: Any, status: int, words: str) -> None:
    html = response.content.decode()
    assert response.status_code == status, html[:2000]
    assert html.count('role="alert"') == 1
    assert words in html
    assert "Traceback" not in html


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"verdict": "150"}, "Choose right or not right."),
        ({"verdict": ""}, "Choose right or not right."),
        ({"verdict": "partly"}, "Choose right or not right."),
        ({"comment": "x" * (COMMENT_LENGTH + 1)}, f"at most {COMMENT_LENGTH} characters"),
        ({"grade_id": "not-an-id"}, "This form is out of date"),
    ],
)
def test_bad_input_is_refused_with_one_message_and_changes_nothing(
    world: World, story: ContentNode, fields: dict[str, str], words: str
) -> None:
    target = free_response(world.a.learners[0], story, "Mon texte.")
    before = state()
    _refused_once(grade(signed_in(world.a.teacher), target, **fields), 400, words)
    assert state() == before


def test_an_unknown_answer_is_refused(world: World, story: ContentNode) -> None:
    free_response(world.a.learners[0], story, "Mon texte.")
    before = state()
    response = signed_in(world.a.teacher).post(
        f"{GRADING}{uuid.uuid4()}/",
        {"verdict": "correct", "grade_id": str(uuid.uuid4())},
    )
    _refused_once(response, 404, "not one of your learners")
    assert state() == before


def test_an_answer_graded_automatically_is_not_the_teachers(
    world: World, story: ContentNode
) -> None:
    learner = world.a.learners[0]
    answer(signed_in(learner), story, "stars", choice="two")
    target = Answer.objects.get(user_id=learner.id)
    before = state()
    _refused_once(grade(signed_in(world.a.teacher), target), 400, "graded automatically")
    assert state() == before


def test_the_same_form_sent_twice_stores_one_grade(world: World, story: ContentNode) -> None:
    target = free_response(world.a.learners[0], story, "Mon texte.")
    teacher = signed_in(world.a.teacher)
    grade_id = str(uuid.uuid4())
    assert grade(teacher, target, grade_id=grade_id).status_code == 302
    before = state()
    again = grade(teacher, target, verdict="incorrect", grade_id=grade_id)
    _refused_once(again, 409, "This grade has already been saved.")
    assert state() == before
    assert len(scored()) == 1


def test_only_post_records_a_grade(world: World, story: ContentNode) -> None:
    target = free_response(world.a.learners[0], story, "Mon texte.")
    teacher = signed_in(world.a.teacher)
    assert teacher.get(f"{GRADING}{target.statement_id}/").status_code == 405
    assert teacher.post(GRADING, {}).status_code == 405
    assert not scored()


# ---------------------------------------------------------------- cost


def test_the_page_costs_the_same_queries_for_one_answer_or_many(
    world: World, django_assert_num_queries: Any
) -> None:
    first, second = make_exercise_node([STORY]), make_exercise_node([POEM, SUM])
    free_response(world.a.learners[0], first, "Un.")
    teacher = signed_in(world.a.teacher)
    teacher.get(GRADING)
    with django_assert_num_queries(PAGE_QUERIES):
        assert teacher.get(GRADING).status_code == 200
    for learner in world.a.learners:
        free_response(learner, first, "Encore.")
        free_response(learner, second, "Un poème.", item="poem")
    with django_assert_num_queries(PAGE_QUERIES):
        html = teacher.get(GRADING).content.decode()
    assert html.count('<li class="card"') == 5
