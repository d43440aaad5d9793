"""The exercise page through HTTP: every item type answered, feedback, statements, mastery."""

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from kalan.assessments.models import Answer
from kalan.assessments.services import HINTS_USED
from kalan.content.activities import resource_activity_id
from kalan.content.kinds import FileRole, Kind
from kalan.content.models import ContentNode, NodeFile
from kalan.content.store import hub_library
from kalan.content.tests.factories import make_resource
from kalan.lrs.models import Statement
from kalan.progress.models import ResourceProgress, Status
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

ITEMS: list[dict[str, Any]] = [
    {
        "id": "stars",
        "type": "single_choice",
        "prompt": "<p>Combien d'étoiles ? ★ ★ ★</p>",
        "choices": [
            {"id": "two", "text": "2", "feedback": "<p>Compte encore.</p>"},
            {"id": "three", "text": "3"},
        ],
        "correct": "three",
        "hints": ["<p>Montre chaque étoile du doigt.</p>", "<p>Il y en a plus de deux.</p>"],
        "feedback": {"correct": "<p>Bravo !</p>"},
    },
    {
        "id": "even",
        "type": "multiple_choice",
        "prompt": "<p>Les nombres pairs ?</p>",
        "choices": [{"id": "a", "text": "2"}, {"id": "b", "text": "3"}, {"id": "c", "text": "4"}],
        "correct": ["a", "c"],
    },
    {"id": "sum", "type": "true_false", "prompt": "<p>5 + 5 = 10</p>", "correct": True},
    {
        "id": "half",
        "type": "numeric",
        "prompt": "<p>La moitié de 7 ?</p>",
        "answers": [{"value": 3.5, "tolerance": 0.01}],
    },
    {
        "id": "capital",
        "type": "short_text",
        "prompt": "<p>La capitale du Tadjikistan ?</p>",
        "answers": ["Douchanbé"],
        "ignore_diacritics": True,
    },
    {
        "id": "order",
        "type": "ordering",
        "prompt": "<p>Du plus petit au plus grand.</p>",
        "steps": [{"id": "n1", "text": "1"}, {"id": "n5", "text": "5"}, {"id": "n9", "text": "9"}],
    },
    {
        "id": "pairs",
        "type": "matching",
        "prompt": "<p>Associe.</p>",
        "sources": [{"id": "un", "text": "un"}, {"id": "deux", "text": "deux"}],
        "targets": [{"id": "t1", "text": "1"}, {"id": "t2", "text": "2"}],
        "pairs": [["un", "t1"], ["deux", "t2"]],
    },
    {
        "id": "gaps",
        "type": "fill_blanks",
        "prompt": "<p>1, 2, {{a}}, 4, {{b}}</p>",
        "blanks": [
            {"id": "a", "type": "numeric", "answers": [{"value": 3}]},
            {"id": "b", "type": "numeric", "answers": [{"value": 5}]},
        ],
    },
    {"id": "story", "type": "free_response", "prompt": "<p>Raconte ta journée.</p>"},
]
RIGHT: dict[str, dict[str, Any]] = {
    "stars": {"choice": "three"},
    "even": {"choice": ["a", "c"]},
    "sum": {"answer": "true"},
    "half": {"answer": "3,5"},
    "capital": {"answer": "douchanbe"},
    "order": {"position-n1": "1", "position-n5": "2", "position-n9": "3"},
    "pairs": {"match-un": "t1", "match-deux": "t2"},
    "gaps": {"blank-a": "3", "blank-b": "5"},
}


def _exercise_node(items: list[dict[str, Any]], **extra: Any) -> ContentNode:
    exercise = {"title": "Calcul", "language": "fr", "items": items, **extra}
    stored = hub_library().install_bytes(json.dumps(exercise).encode())
    node = make_resource(Kind.EXERCISE, title="Calcul", language="fr")
    NodeFile.objects.create(
        node=node, sha256=stored.sha256, size=stored.size, role=FileRole.MAIN, ext="json"
    )
    return node


@pytest.fixture
def learner_client() -> tuple[Any, Client]:
    learner = make_person(school=make_school())
    client = Client()
    client.force_login(learner)
    return learner, client


def _answer(client: Client, node: ContentNode, item: str, fields: dict[str, Any]) -> Any:
    return client.post(f"/practice/{node.id}/", {"item": item, "shown_at": "0", **fields})


@pytest.mark.parametrize("item_id", list(RIGHT))
def test_every_item_type_is_graded_right_and_recorded(
    learner_client: tuple[Any, Client], item_id: str
) -> None:
    learner, client = learner_client
    node = _exercise_node(ITEMS)
    page = client.get(f"/practice/{node.id}/?item={item_id}")
    assert page.status_code == 200
    response = _answer(client, node, item_id, RIGHT[item_id])
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    assert "Right!" in html
    answered = json.loads(
        Statement.objects.get(verb_id="http://adlnet.gov/expapi/verbs/answered").body
    )
    assert answered["object"]["id"] == f"{resource_activity_id(node.id)}/items/{item_id}"
    assert (
        answered["object"]["definition"]["type"]
        == "http://adlnet.gov/expapi/activities/cmi.interaction"
    )
    assert answered["result"]["success"] is True
    assert answered["result"]["extensions"][HINTS_USED] == 0
    assert answered["context"]["contextActivities"]["parent"][0]["id"] == resource_activity_id(
        node.id
    )
    assert Answer.objects.get(user_id=learner.id).outcome == Answer.Outcome.CORRECT


def test_a_wrong_answer_gets_its_feedback_and_counts_as_wrong(
    learner_client: tuple[Any, Client],
) -> None:
    _learner, client = learner_client
    node = _exercise_node(ITEMS)
    html = _answer(client, node, "stars", {"choice": "two", "hints": "1"}).content.decode()
    assert "Not quite." in html
    assert "Compte encore." in html
    answered = json.loads(Statement.objects.get().body)
    assert answered["result"]["success"] is False
    assert answered["result"]["response"] == "two"
    assert answered["result"]["extensions"][HINTS_USED] == 1


def test_a_free_response_waits_for_the_teacher(learner_client: tuple[Any, Client]) -> None:
    _learner, client = learner_client
    node = _exercise_node(ITEMS)
    html = _answer(client, node, "story", {"answer": "Je suis allé au marché."}).content.decode()
    assert "your teacher will read your answer" in html
    assert Answer.objects.get().outcome == Answer.Outcome.NEEDS_TEACHER
    assert "success" not in json.loads(Statement.objects.get().body)["result"]


@pytest.mark.parametrize(
    ("item_id", "fields"),
    [
        ("stars", {}),
        ("half", {"answer": "  "}),
        ("order", {"position-n1": "1", "position-n5": "1"}),
    ],
)
def test_an_unusable_answer_is_refused_with_one_reason_and_nothing_recorded(
    learner_client: tuple[Any, Client], item_id: str, fields: dict[str, str]
) -> None:
    _learner, client = learner_client
    node = _exercise_node(ITEMS)
    response = _answer(client, node, item_id, fields)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Statement.objects.exists()


def test_hints_come_one_at_a_time_without_a_script(learner_client: tuple[Any, Client]) -> None:
    _learner, client = learner_client
    node = _exercise_node(ITEMS)
    first = client.get(f"/practice/{node.id}/?item=stars").content.decode()
    assert "Montre chaque étoile" not in first
    assert 'href="?item=stars&amp;hints=1#hints"' in first
    second = client.get(f"/practice/{node.id}/?item=stars&hints=1").content.decode()
    assert "Montre chaque étoile" in second
    assert "Il y en a plus de deux" not in second


def test_mastery_four_of_the_last_five(learner_client: tuple[Any, Client]) -> None:
    learner, client = learner_client
    node = _exercise_node(ITEMS[:5])
    answers: list[tuple[str, dict[str, Any]]] = [
        ("stars", {"choice": "three"}),
        ("even", {"choice": ["a"]}),
        ("sum", {"answer": "true"}),
        ("half", {"answer": "3.5"}),
        ("capital", {"answer": "Douchanbé"}),
    ]
    for item_id, fields in answers[:4]:
        assert "mastered" not in _answer(client, node, item_id, fields).content.decode().lower()
    row = ResourceProgress.objects.get(user_id=learner.id, node_id=node.id)
    assert row.status == Status.IN_PROGRESS
    assert row.progress == 0.75  # 3 right of the 4 needed
    html = _answer(client, node, *answers[4]).content.decode()
    assert "you have mastered this exercise!" in html.lower()
    assert (
        ResourceProgress.objects.get(user_id=learner.id, node_id=node.id).status == Status.MASTERED
    )
    verbs = list(Statement.objects.values_list("verb_id", flat=True))
    assert verbs.count("http://adlnet.gov/expapi/verbs/mastered") == 1
    # Mastery is kept: a wrong answer afterwards changes nothing.
    _answer(client, node, "even", {"choice": ["b"]})
    assert (
        ResourceProgress.objects.get(user_id=learner.id, node_id=node.id).status == Status.MASTERED
    )
    assert (
        "You have mastered this exercise." in client.get(f"/practice/{node.id}/").content.decode()
    )


def test_the_next_question_skips_what_was_answered_right(
    learner_client: tuple[Any, Client],
) -> None:
    _learner, client = learner_client
    node = _exercise_node(ITEMS[:2], shuffle_items=False)
    _answer(client, node, "stars", {"choice": "three"})
    page = client.get(f"/practice/{node.id}/?after=stars").content.decode()
    assert 'name="item" value="even"' in page
    _answer(client, node, "even", {"choice": ["a", "c"]})
    # Every item answered right: the round starts again, never the same item twice in a row.
    assert (
        'name="item" value="stars"'
        in client.get(f"/practice/{node.id}/?after=even").content.decode()
    )


def test_only_exercises_the_learner_may_see(learner_client: tuple[Any, Client]) -> None:
    _learner, client = learner_client
    assert client.get(f"/practice/{uuid.uuid4()}/").status_code == 404
    node = _exercise_node(ITEMS)
    node.kind = Kind.VIDEO
    node.save(update_fields=["kind"])
    assert client.get(f"/practice/{node.id}/").status_code == 404
    assert Client().get(f"/practice/{node.id}/").status_code == 302  # sign in first


def test_the_page_costs_a_fixed_number_of_queries(
    learner_client: tuple[Any, Client], django_assert_max_num_queries: Any
) -> None:
    _learner, client = learner_client
    node = _exercise_node(ITEMS)
    client.get(f"/practice/{node.id}/")
    with django_assert_max_num_queries(6):
        assert client.get(f"/practice/{node.id}/").status_code == 200
