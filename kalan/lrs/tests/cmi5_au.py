"""Playing a cmi5 AU against Kalan in tests: courses, launches, and the statements an AU sends.

`play()` launches an AU for a learner and fetches its token from the launch's
fetch URL, as an AU in a browser does; the `Played` launch then talks to
/xapi/ with `Authorization: Basic <token>`.
"""

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.apps import apps
from django.test import Client

from kalan.accounts.models import User
from kalan.content import cmi5_launch
from kalan.content.activities import resource_activity_id
from kalan.content.models import Channel, ContentNode
from kalan.lrs import cmi5
from kalan.lrs.models import Statement
from kalan.lrs.statements import iso

HUB = "http://testserver/"
SHA = "ab" * 32
ADL = "http://adlnet.gov/expapi/verbs/"
COURSE_ID = "https://example.org/courses/geology"


def au_entry(number: int = 1, **changes: Any) -> dict[str, Any]:
    """An AU as content/inspect/cmi5.py lists it in the resource's options."""
    return {
        "id": f"{COURSE_ID}/aus/{number}",
        "title": f"Part {number}",
        "url": f"au{number}/index.html",
        "launch_method": "AnyWindow",
        "move_on": "CompletedAndPassed",
        "mastery_score": 0.8,
        "activity_type": "",
        "launch_parameters": "",
        "block": None,
        **changes,
    }


def make_course(
    aus: list[dict[str, Any]],
    *,
    blocks: tuple[dict[str, Any], ...] = (),
    course_id: str = COURSE_ID,
) -> ContentNode:
    channel = Channel.objects.create(
        id=uuid.uuid4(), version=1, title="Cours", public_key="k", manifest_sha256="0" * 64
    )
    return ContentNode.objects.create(
        id=uuid.uuid4(),
        channel=channel,
        path="0001",
        kind="cmi5",
        title="Geology",
        language="en",
        options={"course_id": course_id, "aus": aus, "blocks": list(blocks)},
    )


@dataclass
class Played:
    """One launch of an AU, as the AU sees it: its launch parameters and its token."""

    launch: cmi5_launch.Launch
    token: str
    node: ContentNode
    au: dict[str, Any]
    client: Client = field(default_factory=Client)

    @property
    def session(self) -> str:
        return str(self.launch.session)

    @property
    def registration(self) -> str:
        return str(self.launch.registration)

    @property
    def activity_id(self) -> str:
        return self.launch.activity_id

    @property
    def actor(self) -> dict[str, Any]:
        return dict(self.launch.actor)

    def request(
        self,
        method: str,
        resource: str,
        params: dict[str, Any],
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Any:
        """A request with the launch token; `body` is a JSON value or the bytes to send."""
        query = urlencode(
            {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
        )
        if isinstance(body, bytes):
            data = body
        else:
            data = b"" if body is None else json.dumps(body).encode()
        return self.client.generic(
            method,
            f"/xapi/{resource}?{query}" if query else f"/xapi/{resource}",
            data=data,
            content_type=content_type,
            headers={
                "Authorization": f"Basic {self.token}",
                "X-Experience-API-Version": "1.0.3",
                **(headers or {}),
            },
        )

    def state_params(self, state_id: str = cmi5.LAUNCH_DATA) -> dict[str, Any]:
        """The parameters of one of the launch's state documents (LMS.LaunchData by default)."""
        return {
            "activityId": self.activity_id,
            "agent": self.actor,
            "registration": self.registration,
            "stateId": state_id,
        }

    def preferences_params(self) -> dict[str, Any]:
        return {"agent": self.actor, "profileId": cmi5.LEARNER_PREFERENCES}

    def post(self, statements: Any) -> Any:
        """POST statements (a JSON value, or the bytes of a body)."""
        return self.request("POST", "statements", {}, statements)

    def launch_data(self) -> dict[str, Any]:
        response = self.request("GET", "activities/state", self.state_params())
        assert response.status_code == 200, response.content
        data: dict[str, Any] = json.loads(response.content)
        return data

    def preferences(self) -> dict[str, Any]:
        response = self.request("GET", "agents/profile", self.preferences_params())
        assert response.status_code == 200, response.content
        data: dict[str, Any] = json.loads(response.content)
        return data


def play(learner: User, node: ContentNode, index: int = 0) -> Played:
    """Launch the node's AU `index` for the learner and fetch its token, as the AU does."""
    au = node.options["aus"][index]
    launch = cmi5_launch.build_launch(
        hub_url=HUB, user_id=learner.id, node_id=node.id, sha256=SHA, au=au
    )
    answer = Client().post(urlsplit(launch.fetch_url).path).json()
    assert "auth-token" in answer, answer
    return Played(launch, answer["auth-token"], node, au)


def lms_statements(registration: str, verb: str) -> list[dict[str, Any]]:
    rows = Statement.objects.filter(registration=registration, verb_id=verb).order_by("stored_us")
    return [json.loads(row.body) for row in rows]


def progress_status(learner: User, node: ContentNode) -> int | None:
    model = apps.get_model("progress", "ResourceProgress")
    row = model.objects.filter(user_id=learner.id, node_id=node.id).first()
    return None if row is None else int(row.status)


# ---------------------------------------------------------------- statements an AU sends

Builder = Callable[[Played], dict[str, Any]]


def statement(
    played: Played,
    verb: str,
    *,
    result: dict[str, Any] | None = None,
    defined: bool = True,
    move_on: bool = False,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    category = [{"id": cmi5.CMI5_CATEGORY}] if defined else []
    if move_on:
        category.append({"id": cmi5.MOVE_ON_CATEGORY})
    made: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": played.actor,
        "verb": {"id": verb if ":" in verb else ADL + verb},
        "object": {"objectType": "Activity", "id": played.activity_id},
        "context": {
            "registration": played.registration,
            "contextActivities": {
                "grouping": [
                    {"id": played.au["id"]},
                    {"id": resource_activity_id(played.node.id)},
                ],
                "category": category,
            },
            "extensions": {cmi5.SESSION_ID: played.session, **(extensions or {})},
        },
        "timestamp": iso(dt.datetime.now(dt.UTC)),
    }
    if not category:
        del made["context"]["contextActivities"]["category"]
    if result is not None:
        made["result"] = result
    return made


def initialized(played: Played) -> dict[str, Any]:
    return statement(played, "initialized")


def completed(played: Played) -> dict[str, Any]:
    return statement(
        played, "completed", result={"completion": True, "duration": "PT1M"}, move_on=True
    )


def passed(played: Played, scaled: float = 0.9) -> dict[str, Any]:
    return statement(
        played,
        "passed",
        result={"success": True, "duration": "PT2M", "score": {"scaled": scaled}},
        move_on=True,
        extensions={cmi5.MASTERY_SCORE: 0.8},
    )


def failed(played: Played, scaled: float = 0.5) -> dict[str, Any]:
    return statement(
        played,
        "failed",
        result={"success": False, "duration": "PT2M", "score": {"scaled": scaled}},
        move_on=True,
        extensions={cmi5.MASTERY_SCORE: 0.8},
    )


def terminated(played: Played) -> dict[str, Any]:
    return statement(played, "terminated", result={"duration": "PT3M"})


def experienced(played: Played) -> dict[str, Any]:
    return statement(played, "experienced", defined=False)


def edited(builder: Builder, change: Callable[[dict[str, Any]], object]) -> Builder:
    def build(played: Played) -> dict[str, Any]:
        made = builder(played)
        change(made)
        return made

    return build


def accepted(played: Played, *builders: Builder) -> None:
    for builder in builders:
        response = played.post([builder(played)])
        assert response.status_code == 200, response.content
