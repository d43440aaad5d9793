"""Progress as a projection of statements: rules, late and voided statements, rebuild."""

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
from kalan.content.activities import resource_activity_id
from kalan.content.models import ContentNode
from kalan.content.tests.factories import make_resource
from kalan.lrs import projections
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.statements import store_statements
from kalan.progress.folding import MEDIA_LENGTH, MEDIA_TIME, PAGES, PLAYED_SEGMENTS
from kalan.progress.models import ResourceProgress, Status
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

PLAYED = "https://w3id.org/xapi/video/verbs/played"
PAUSED = "https://w3id.org/xapi/video/verbs/paused"
PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def _node(kind: str = "video", **fields: Any) -> ContentNode:
    return make_resource(kind, **fields)


def _statement(
    learner: Any,
    node: ContentNode,
    *,
    verb: str = PAUSED,
    minute: int = 0,
    result: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    activity: str | None = None,
) -> dict[str, Any]:
    made: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor_for(learner.id),
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": activity or resource_activity_id(node.id)},
        "timestamp": (START + dt.timedelta(minutes=minute)).isoformat(),
    }
    if result:
        made["result"] = result
    if context:
        made["context"] = context
    return made


def _watched(
    learner: Any, node: ContentNode, segments: str, *, minute: int, time: float
) -> dict[str, Any]:
    return _statement(
        learner,
        node,
        minute=minute,
        result={"duration": "PT30S", "extensions": {PLAYED_SEGMENTS: segments, MEDIA_TIME: time}},
        context={"extensions": {MEDIA_LENGTH: 100}},
    )


def _store(*statements: dict[str, Any]) -> None:
    store_statements(list(statements), version="2.0.0", authority=KALAN_AUTHORITY)


def _row(learner: Any, node: ContentNode) -> ResourceProgress:
    return ResourceProgress.objects.get(user_id=learner.id, node_id=node.id)


@pytest.fixture
def learner() -> Any:
    return make_person(school=make_school())


def test_a_video_watched_in_pieces(learner: Any) -> None:
    node = _node(duration=100)
    _store(_watched(learner, node, "0[.]30", minute=1, time=30.0))
    row = _row(learner, node)
    assert row.status == Status.IN_PROGRESS
    assert row.progress == 0.3
    assert row.resume == {"time": 30.0}
    assert row.time_spent_ms == 30_000
    assert row.school_id == learner.school_id
    # Watching the same part again adds time, not progress.
    _store(_watched(learner, node, "10[.]30[,]50[.]70", minute=2, time=70.0))
    row = _row(learner, node)
    assert row.progress == 0.5
    assert row.time_spent_ms == 60_000
    assert row.resume == {"time": 70.0}


def test_ninety_percent_watched_is_completed(learner: Any) -> None:
    node = _node()
    _store(_watched(learner, node, "0[.]89", minute=1, time=89.0))
    assert _row(learner, node).status == Status.IN_PROGRESS
    _store(_watched(learner, node, "85[.]91", minute=2, time=91.0))
    row = _row(learner, node)
    assert row.status == Status.COMPLETED
    assert row.progress == 1.0
    assert row.completed_at == START + dt.timedelta(minutes=2)


def test_a_completion_statement_completes_at_its_own_time(learner: Any) -> None:
    node = _node()
    _store(_statement(learner, node, verb=COMPLETED, minute=5), _statement(learner, node, minute=9))
    row = _row(learner, node)
    assert row.status == Status.COMPLETED
    assert row.completed_at == START + dt.timedelta(minutes=5)


def test_the_resume_point_is_the_latest_by_timestamp_not_by_arrival(learner: Any) -> None:
    node = _node()
    _store(_watched(learner, node, "0[.]40", minute=9, time=40.0))
    _store(_watched(learner, node, "0[.]10", minute=1, time=10.0))  # arrived late, by sync
    assert _row(learner, node).resume == {"time": 40.0}


def test_pages_of_a_document(learner: Any) -> None:
    node = _node(kind="document", page_count=10)
    location = "https://kalan.invalid/xapi/extensions/location"
    _store(
        _statement(
            learner,
            node,
            verb=PROGRESSED,
            minute=1,
            result={"extensions": {PAGES: [1, 2, 3], location: "page=3"}},
        ),
        _statement(
            learner,
            node,
            verb=PROGRESSED,
            minute=2,
            result={"extensions": {PAGES: [3, 4], location: "page=4"}},
        ),
    )
    row = _row(learner, node)
    assert row.progress == 0.4
    assert row.resume == {"location": "page=4"}


def test_a_part_of_a_resource_does_not_complete_it(learner: Any) -> None:
    node = _node(kind="h5p")
    part = resource_activity_id(node.id) + "?subContentId=42"
    _store(_statement(learner, node, verb=COMPLETED, activity=part, result={"duration": "PT1M"}))
    row = _row(learner, node)
    assert row.status == Status.IN_PROGRESS
    assert row.time_spent_ms == 60_000


def test_statements_of_people_who_are_not_ours_make_no_rows() -> None:
    node = _node()
    outsider = {"objectType": "Agent", "mbox": "mailto:someone@example.org"}
    made = _statement(make_person(school=make_school()), node, verb=COMPLETED)
    made["actor"] = outsider
    _store(made)
    assert not ResourceProgress.objects.exists()


def test_voiding_the_completion_takes_it_back(learner: Any) -> None:
    node = _node()
    completion = _statement(learner, node, verb=COMPLETED, minute=3)
    _store(_watched(learner, node, "0[.]20", minute=1, time=20.0), completion)
    assert _row(learner, node).status == Status.COMPLETED
    voiding = _statement(learner, node, verb=VOIDED, minute=4)
    voiding["object"] = {"objectType": "StatementRef", "id": completion["id"]}
    _store(voiding)
    row = _row(learner, node)
    assert row.status == Status.IN_PROGRESS
    assert row.progress == 0.2
    assert row.completed_at is None


def _snapshot() -> list[tuple[Any, ...]]:
    return sorted(
        ResourceProgress.objects.values_list(
            "id",
            "user_id",
            "node_id",
            "school_id",
            "status",
            "progress",
            "time_spent_ms",
            "first_at",
            "last_at",
            "completed_at",
            "resume",
            "detail",
        )
    )


def test_the_rebuild_command_gives_the_same_rows(learner: Any) -> None:
    video, document = _node(), _node(kind="document", page_count=4)
    other = make_person(school=make_school())
    completion = _statement(other, video, verb=COMPLETED, minute=7)
    _store(
        _watched(learner, video, "0[.]50", minute=1, time=50.0),
        _statement(
            learner, document, verb=PROGRESSED, minute=2, result={"extensions": {PAGES: [1, 2]}}
        ),
        completion,
    )
    voiding = _statement(other, video, verb=VOIDED, minute=8)
    voiding["object"] = {"objectType": "StatementRef", "id": completion["id"]}
    _store(_watched(other, video, "0[.]95", minute=6, time=95.0), voiding)
    before = _snapshot()
    assert len(before) == 3
    ResourceProgress.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_progress", stdout=out)
    assert out.getvalue().strip() == "Projected 4 statements."
    assert _snapshot() == before


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    cuts=st.lists(st.integers(1, 11), max_size=4),
)
def test_any_arrival_order_and_batching_gives_the_rows_of_a_rebuild(
    learner: Any, seed: int, cuts: list[int]
) -> None:
    """Statements delivered in any order and any batches (as sync may) project the same rows."""
    ResourceProgress.objects.all().delete()
    from kalan.lrs.models import Statement

    Statement.objects.all().delete()
    video, document = _node(duration=100), _node(kind="document", page_count=5)
    made = [
        _watched(learner, video, f"{m * 10}[.]{m * 10 + 15}", minute=m, time=float(m * 10 + 15))
        for m in range(8)
    ]
    made += [
        _statement(
            learner, document, verb=PROGRESSED, minute=m, result={"extensions": {PAGES: [m, m + 1]}}
        )
        for m in range(1, 4)
    ]
    made.append(_statement(learner, document, verb=COMPLETED, minute=20))
    random.Random(seed).shuffle(made)
    edges = sorted({0, len(made), *[c for c in cuts if c < len(made)]})
    for start, end in itertools.pairwise(edges):
        _store(*made[start:end])
    incremental = _snapshot()
    assert projections.rebuild() == len(made)
    assert _snapshot() == incremental
    video_row = _row(learner, video)
    assert video_row.status == Status.IN_PROGRESS  # 0 to 85 s of 100 watched
    assert video_row.progress == 0.85
    assert _row(learner, document).status == Status.COMPLETED


def test_a_cmi5_session_counts_its_time_once(learner: Any) -> None:
    """cmi5 durations run from the session's start: only its end adds to the time spent."""
    node = _node(kind="cmi5")
    cmi5 = {
        "contextActivities": {
            "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]
        }
    }
    _store(
        _statement(
            learner,
            node,
            verb=COMPLETED,
            minute=5,
            result={"duration": "PT5M", "completion": True},
            context=cmi5,
        ),
        _statement(
            learner,
            node,
            verb="http://adlnet.gov/expapi/verbs/terminated",
            minute=6,
            result={"duration": "PT6M"},
            context=cmi5,
        ),
    )
    assert _row(learner, node).time_spent_ms == 6 * 60_000
