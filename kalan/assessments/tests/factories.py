"""Exercises installed in the hub's library, and answers to them, for the assessments tests."""

import json
from typing import Any

from django.test import Client

from kalan.content.kinds import FileRole, Kind
from kalan.content.models import ContentNode, NodeFile
from kalan.content.store import hub_library
from kalan.content.tests.factories import make_resource

STORY: dict[str, Any] = {
    "id": "story",
    "type": "free_response",
    "prompt": "<p>Raconte ta journée.</p>",
    "guidance": "<p>Trois phrases complètes.</p>",
}
POEM: dict[str, Any] = {
    "id": "poem",
    "type": "free_response",
    "prompt": "<p>Écris un poème sur <em>la pluie</em>.</p>",
}
STARS: dict[str, Any] = {
    "id": "stars",
    "type": "single_choice",
    "prompt": "<p>Combien d'étoiles ? ★ ★ ★</p>",
    "choices": [{"id": "two", "text": "2"}, {"id": "three", "text": "3"}],
    "correct": "three",
}
SUM: dict[str, Any] = {
    "id": "sum",
    "type": "true_false",
    "prompt": "<p>5 + 5 = 10</p>",
    "correct": True,
}


def make_exercise_node(items: list[dict[str, Any]], **extra: Any) -> ContentNode:
    """An exercise resource whose file is in the hub's content store."""
    exercise = {"title": "Écrire", "language": "fr", "items": items, **extra}
    stored = hub_library().install_bytes(json.dumps(exercise).encode())
    node = make_resource(Kind.EXERCISE, title="Écrire", language="fr")
    NodeFile.objects.create(
        node=node, sha256=stored.sha256, size=stored.size, role=FileRole.MAIN, ext="json"
    )
    return node


def answer(client: Client, node: ContentNode, item: str, **fields: Any) -> Any:
    """Answer an item through the exercise page, as the client's learner."""
    response = client.post(f"/practice/{node.id}/", {"item": item, "shown_at": "0", **fields})
    assert response.status_code == 200, response.content.decode()[:2000]
    return response
