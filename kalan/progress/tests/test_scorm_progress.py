"""A SCORM course saving its run-time data through the bridge shows as the learner's progress."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from kalan.content.activities import resource_activity_id
from kalan.content.tests.factories import make_resource
from kalan.content.views.zipcontent import scorm_token
from kalan.lrs.models import Statement
from kalan.progress.models import ResourceProgress, Status
from kalan.schools.tests.factories import make_person, make_school

ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.mark.django_db
def test_a_commit_through_the_bridge_records_statements_and_progress() -> None:
    learner = make_person(school=make_school())
    node = make_resource("scorm", title="Fractions", options={"scorm_version": "1.2"})
    url = reverse("players:scorm-state", args=[scorm_token(learner.id, node.id)])
    saved = {
        "cmi": {
            "core": {
                "lesson_status": "passed",
                "session_time": "00:10:00",
                "score": {"raw": "9", "min": "0", "max": "10"},
            }
        },
        "terminated": True,
    }
    response = Client().post(url, json.dumps(saved), content_type="text/plain")
    assert response.status_code == 200
    stored = [json.loads(s.body) for s in Statement.objects.order_by("body")]
    assert {s["verb"]["id"] for s in stored} == {
        ADL + "completed",
        ADL + "passed",
        ADL + "terminated",
    }
    assert all(s["object"]["id"] == resource_activity_id(node.id) for s in stored)
    row = ResourceProgress.objects.get(user_id=learner.id, node_id=node.id)
    assert row.status == Status.COMPLETED
    assert row.time_spent_ms == 600_000
    assert row.detail["best_score"] == 0.9
    # The bridge saving the same data again adds nothing.
    Client().post(url, json.dumps(saved), content_type="text/plain")
    assert Statement.objects.count() == 3
