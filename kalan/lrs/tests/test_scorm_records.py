"""A SCORM course's commits become statements, and progress."""

import uuid
from typing import Any

from kalan.content.runtime_hooks import ScormCommit
from kalan.lrs.scorm_records import session_duration, statements_for

ADL = "http://adlnet.gov/expapi/verbs/"


def _commit(
    before: dict[str, Any], after: dict[str, Any], *, version: str = "1.2", terminated: bool = False
) -> ScormCommit:
    return ScormCommit(uuid.uuid4(), uuid.uuid4(), version, before, after, terminated)


def _verbs(commit: ScormCommit) -> list[str]:
    return [s["verb"]["id"].removeprefix(ADL) for s in statements_for(commit)]


def test_scorm_1_2_passed_with_a_score() -> None:
    after = {"core": {"lesson_status": "passed", "score": {"raw": "85", "min": "0", "max": "100"}}}
    made = statements_for(_commit({}, after))
    assert [s["verb"]["id"] for s in made] == [ADL + "completed", ADL + "passed"]
    assert made[1]["result"] == {
        "success": True,
        "completion": True,
        "score": {"raw": 85.0, "min": 0.0, "max": 100.0, "scaled": 0.85},
    }
    # The same data committed again records nothing.
    assert statements_for(_commit(after, after)) == []


def test_scorm_1_2_failed_then_session_end() -> None:
    before = {"core": {"lesson_status": "incomplete"}}
    after = {
        "core": {"lesson_status": "failed", "session_time": "00:12:30.5", "score": {"raw": "40"}}
    }
    made = statements_for(_commit(before, after, terminated=True))
    assert [s["verb"]["id"] for s in made] == [ADL + "failed", ADL + "terminated"]
    assert made[0]["result"]["success"] is False
    assert made[1]["result"] == {"duration": "PT0H12M30.5S"}


def test_scorm_2004_completion_progress_and_scaled_score() -> None:
    after = {
        "completion_status": "incomplete",
        "progress_measure": "0.5",
        "session_time": "PT5M",
        "success_status": "unknown",
    }
    assert _verbs(_commit({}, after, version="2004")) == ["progressed"]
    done = {
        **after,
        "completion_status": "completed",
        "progress_measure": "1",
        "success_status": "passed",
        "score": {"scaled": "0.9"},
    }
    made = statements_for(_commit(after, done, version="2004", terminated=True))
    assert [s["verb"]["id"].removeprefix(ADL) for s in made] == [
        "completed",
        "passed",
        "progressed",
        "terminated",
    ]
    assert made[1]["result"]["score"] == {"scaled": 0.9}
    assert made[3]["result"] == {"duration": "PT5M"}


def test_unreadable_times_and_scores_are_left_out() -> None:
    assert session_duration({"core": {"session_time": "ten minutes"}}, "1.2") is None
    assert session_duration({"session_time": "5:00"}, "2004") is None
    after = {"core": {"lesson_status": "passed", "score": {"raw": "150", "max": "100"}}}
    passed = statements_for(_commit({}, after))[1]
    assert "score" not in passed["result"] or "raw" not in passed["result"]["score"]
