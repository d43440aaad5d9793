"""Forty learners answering at once lose nothing (issue: robustness of the LRS).

A real `kalan start` (SQLite or PostgreSQL, as the suite runs) receives, from 40
threads at once, every learner's statements in small batches, some sent twice
as a tablet does after a lost answer. Afterwards each statement is stored once,
and the progress rows are exactly what the statements say and what a rebuild
from scratch gives.
"""

import base64
import json
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support import direct_opener, own_database, run_kalan, server_env, serving_kalan

LEARNERS = 40
BATCHES = 6  # per learner
PER_BATCH = 5
PEOPLE = "https://kalan.invalid/people"
RESOURCE = "https://kalan.invalid/resources/"
VIDEO = "https://w3id.org/xapi/video/extensions/"


def _statement(learner: str, resource: str, number: int) -> dict[str, Any]:
    start = number * 10
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": PEOPLE, "name": learner}},
        "verb": {"id": "https://w3id.org/xapi/video/verbs/paused"},
        "object": {"objectType": "Activity", "id": RESOURCE + resource},
        "timestamp": f"2026-11-02T08:{number:02d}:00Z",
        "result": {
            "duration": "PT10S",
            "extensions": {
                VIDEO + "played-segments": f"{start}[.]{start + 10}",
                VIDEO + "time": start + 10,
            },
        },
        "context": {"extensions": {VIDEO + "length": 1000}},
    }


def _shell(home: Path, env: dict[str, str], code: str) -> str:
    result = run_kalan(["manage", "shell", "-v", "0", "-c", code], home, **_database(env))
    assert result.returncode == 0, result.stderr
    return result.stdout


def _database(env: dict[str, str]) -> dict[str, str]:
    return {"KALAN_DATABASE_URL": env["KALAN_DATABASE_URL"]} if "KALAN_DATABASE_URL" in env else {}


PROGRESS_ROWS = (
    "import json; from kalan.progress.models import ResourceProgress as P;"
    "print(json.dumps(sorted([[str(r.user_id), str(r.node_id), r.status, r.progress,"
    " r.time_spent_ms, r.resume, r.detail] for r in P.objects.all()])))"
)
LEARNER_IDS = (
    "import json; from kalan.accounts.models import User;"
    "print(json.dumps([str(u) for u in User.objects.filter(username__startswith='learner')"
    ".order_by('username').values_list('id', flat=True)]))"
)


@pytest.mark.usefixtures("isolated_cli_database")
def test_forty_learners_at_once_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with own_database("kalan_lrs_c40") as database_url:
        env = server_env(home, database_url)
        setup = run_kalan(["demo"], home, **_database(env))
        assert setup.returncode == 0, setup.stderr
        key, secret = run_kalan(
            ["lrs", "credentials", "create", "load"], home, **_database(env)
        ).stdout.split()
        learners = json.loads(_shell(home, env, LEARNER_IDS))[:LEARNERS]
        assert len(learners) == LEARNERS
        resources = [str(uuid.uuid4()), str(uuid.uuid4())]
        batches = {
            learner: [
                [_statement(learner, resources[b % 2], b * PER_BATCH + i) for i in range(PER_BATCH)]
                for b in range(BATCHES)
            ]
            for learner in learners
        }
        authorization = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        with serving_kalan(home, env) as url:
            failures = _post_all(url, authorization, batches)
            assert failures == []
            stored = _all_statement_ids(url, authorization)
        sent = {s["id"] for per in batches.values() for batch in per for s in batch}
        assert len(stored) == len(sent)  # each once: resent batches were not stored again
        assert set(stored) == sent
        incremental = json.loads(_shell(home, env, PROGRESS_ROWS))
        assert len(incremental) == LEARNERS * 2
        for _user, _node, status, progress, time_spent, resume, _detail in incremental:
            assert status == 1
            assert progress == 0.15  # 15 segments of 10 s over 1000 s, for each resource
            assert time_spent == 15 * 10_000
            assert resume["time"] in {250, 300}  # the last of each resource's statements
        rebuild = run_kalan(["manage", "rebuild_progress"], home, **_database(env))
        assert rebuild.returncode == 0, rebuild.stderr
        assert json.loads(_shell(home, env, PROGRESS_ROWS)) == incremental


def _post(url: str, authorization: str, body: bytes) -> int:
    request = urllib.request.Request(  # noqa: S310  (the loopback address)
        f"{url}/xapi/statements",
        data=body,
        method="POST",
        headers={
            "Authorization": authorization,
            "X-Experience-API-Version": "2.0.0",
            "Content-Type": "application/json",
        },
    )
    try:
        with direct_opener().open(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _post_all(
    url: str, authorization: str, batches: dict[str, list[list[dict[str, Any]]]]
) -> list[str]:
    failures: list[str] = []
    start = threading.Barrier(len(batches))

    def learner_sends(learner: str) -> None:
        start.wait()
        for number, batch in enumerate(batches[learner]):
            body = json.dumps(batch).encode()
            status = _post(url, authorization, body)
            if number % 2 == 0:  # the answer was "lost": the tablet sends the batch again
                status = _post(url, authorization, body)
            if status != 200:
                failures.append(f"{learner} batch {number}: {status}")

    threads = [threading.Thread(target=learner_sends, args=(learner,)) for learner in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _all_statement_ids(url: str, authorization: str) -> list[str]:
    ids: list[str] = []
    path = "/xapi/statements?limit=500"
    while path:
        request = urllib.request.Request(  # noqa: S310  (the loopback address)
            url + path,
            headers={"Authorization": authorization, "X-Experience-API-Version": "2.0.0"},
        )
        with direct_opener().open(request, timeout=60) as response:
            page = json.loads(response.read())
        ids.extend(statement["id"] for statement in page["statements"])
        path = page["more"]
    return ids
