"""The document resources through HTTP: state, activity profile and agent profile, both versions.

Rules come from xAPI 1.0.3 Communication 2.2-2.7 and 3.1, xAPI 2.0
(IEEE 9274.1.1) 4.1.4 and 4.1.6.2-4.1.6.6, and the ADL conformance suite
(test/v1_0_3/H.Communication2.3/2.6/2.7/3.1, test/v2_0/4.1.4, 4.1.6.2,
4.1.6.5, 4.1.6.6, H.Communication2.2 and 2.6).
"""

import base64
import datetime as dt
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kalan.accounts.xapi import actor_for
from kalan.lrs import documents
from kalan.lrs.auth import new_credentials
from kalan.lrs.models import Document
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

VERSIONS = ["1.0.3", "2.0.0"]
ACTIVITY = "http://www.example.com/activityId/hashset"
AGENT = {
    "objectType": "Agent",
    "account": {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"},
}
OTHER_AGENT = {"objectType": "Agent", "mbox": "mailto:other@example.org"}
STATE = "activities/state"
ACTIVITY_PROFILE = "activities/profile"
AGENT_PROFILE = "agents/profile"
JSON_TYPE = "application/json"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class Lrs:
    """A client of /xapi/ speaking one xAPI version with one set of credentials."""

    client: Client
    version: str = "2.0.0"
    authorization: str | None = None

    def call(
        self,
        method: str,
        resource: str,
        params: dict[str, Any],
        *,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str = JSON_TYPE,
        headers: dict[str, str] | None = None,
    ) -> Any:
        query = urlencode(
            {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
        )
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        sent = {"X-Experience-API-Version": self.version, **(headers or {})}
        if self.authorization:
            sent["Authorization"] = self.authorization
        return self.client.generic(
            method, f"/xapi/{resource}?{query}", data=data, content_type=content_type, headers=sent
        )

    def put(
        self,
        resource: str,
        params: dict[str, Any],
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self.call("PUT", resource, params, body=body, headers=headers)

    def post(
        self,
        resource: str,
        params: dict[str, Any],
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self.call("POST", resource, params, body=body, headers=headers)

    def get(
        self, resource: str, params: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Any:
        return self.call("GET", resource, params, headers=headers)

    def delete(
        self, resource: str, params: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Any:
        return self.call("DELETE", resource, params, headers=headers)


def tool(version: str = "2.0.0") -> Lrs:
    credential, secret = new_credentials(name="conformance")
    return Lrs(Client(), version=version, authorization=_basic(credential.key, secret))


@pytest.fixture(params=VERSIONS)
def lrs(request: pytest.FixtureRequest) -> Lrs:
    return tool(request.param)


def state(**extra: Any) -> dict[str, Any]:
    return {"activityId": ACTIVITY, "agent": AGENT, "stateId": str(uuid.uuid4()), **extra}


def activity_profile(**extra: Any) -> dict[str, Any]:
    return {"activityId": ACTIVITY, "profileId": str(uuid.uuid4()), **extra}


def agent_profile(**extra: Any) -> dict[str, Any]:
    return {"agent": AGENT, "profileId": str(uuid.uuid4()), **extra}


RESOURCES = {STATE: state, ACTIVITY_PROFILE: activity_profile, AGENT_PROFILE: agent_profile}
ID_PARAM = {STATE: "stateId", ACTIVITY_PROFILE: "profileId", AGENT_PROFILE: "profileId"}
CREATE = {"If-None-Match": "*"}


def document() -> dict[str, Any]:
    return {"name": str(uuid.uuid4()), "location": {"name": str(uuid.uuid4())}}


def without(params: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != name}


def body_of(response: Any) -> Any:
    return json.loads(response.content)


def etag(response: Any) -> str:
    tag: str = response["ETag"]
    return tag


def sha1_tag(content: bytes) -> str:
    return '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'


def create(lrs: Lrs, resource: str, params: dict[str, Any], body: Any) -> None:
    response = lrs.put(resource, params, body, headers=CREATE)
    assert response.status_code == 204, response.content


# ---------------------------------------------------------------- storing and reading one document


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_document_is_returned_as_stored_with_its_etag_and_time(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    raw = b'{"b": 1,  "a": "\xc3\xa9"}'
    response = lrs.call("PUT", resource, params, raw=raw, headers=CREATE)
    assert response.status_code == 204, response.content
    assert response["ETag"] == sha1_tag(raw)

    response = lrs.get(resource, params)
    assert response.status_code == 200
    assert response.content == raw
    assert response["Content-Type"] == JSON_TYPE
    assert response["ETag"] == sha1_tag(raw)
    row = Document.objects.get(document_id=params[ID_PARAM[resource]])
    last_modified = parsedate_to_datetime(response["Last-Modified"])
    assert last_modified == row.modified.replace(microsecond=0)
    assert response["X-Experience-API-Version"] == lrs.version


@pytest.mark.parametrize("resource", RESOURCES)
def test_head_answers_the_headers_of_get_without_the_document(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    create(lrs, resource, params, document())
    response = lrs.call("HEAD", resource, params)
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == lrs.get(resource, params)["ETag"]


def test_any_content_type_is_kept_with_the_exact_bytes(lrs: Lrs) -> None:
    params = state()
    raw = b"\x00\xffbinary / asdf / undefined"
    response = lrs.call("PUT", STATE, params, raw=raw, content_type="application/octet-stream")
    assert response.status_code == 204
    response = lrs.get(STATE, params)
    assert response.content == raw
    assert response["Content-Type"] == "application/octet-stream"


def test_a_document_without_content_type_is_octet_stream(lrs: Lrs) -> None:
    params = state()
    assert lrs.call("PUT", STATE, params, raw=b"plain", content_type="").status_code == 204
    assert lrs.get(STATE, params)["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_missing_document_is_404(lrs: Lrs, resource: str) -> None:
    response = lrs.get(resource, RESOURCES[resource]())
    assert response.status_code == 404
    assert body_of(response)["error"]


def test_a_body_declared_json_that_is_not_json_is_refused(lrs: Lrs) -> None:
    params = state()
    response = lrs.call("PUT", STATE, params, raw=b'{"a": 1')
    assert response.status_code == 400
    assert "not JSON" in body_of(response)["error"]
    assert lrs.get(STATE, params).status_code == 404


def test_registration_keeps_states_apart(lrs: Lrs) -> None:
    registration = str(uuid.uuid4())
    plain = state()
    registered = {**plain, "registration": registration}
    create(lrs, STATE, plain, {"which": "plain"})
    create(lrs, STATE, registered, {"which": "registered"})
    assert body_of(lrs.get(STATE, plain)) == {"which": "plain"}
    assert body_of(lrs.get(STATE, registered)) == {"which": "registered"}
    upper = {**plain, "registration": registration.upper()}
    assert body_of(lrs.get(STATE, upper)) == {"which": "registered"}


def test_one_agent_written_two_ways_is_one_agent(lrs: Lrs) -> None:
    params = agent_profile(agent={"mbox": "mailto:Ama@Example.ORG"})
    create(lrs, AGENT_PROFILE, params, {"a": 1})
    same = {**params, "agent": {"objectType": "Agent", "mbox": "mailto:Ama@example.org"}}
    assert body_of(lrs.get(AGENT_PROFILE, same)) == {"a": 1}


def test_an_identified_group_can_own_state(lrs: Lrs) -> None:
    group = {"objectType": "Group", "mbox": "mailto:team@example.org"}
    params = state(agent=group)
    create(lrs, STATE, params, {"team": True})
    assert body_of(lrs.get(STATE, params)) == {"team": True}


# ---------------------------------------------------------------- POST: store or merge


@pytest.mark.parametrize("resource", RESOURCES)
def test_post_of_a_new_document_stores_it(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    sent = document()
    assert lrs.post(resource, params, sent).status_code == 204
    assert body_of(lrs.get(resource, params)) == sent


@pytest.mark.parametrize("content", [b"1", b"true", b"abc"])
def test_post_of_a_new_document_that_is_not_json_is_stored_as_sent(
    lrs: Lrs, content: bytes
) -> None:
    params = state()
    form = "application/x-www-form-urlencoded"
    assert lrs.call("POST", STATE, params, raw=content, content_type=form).status_code == 204
    response = lrs.get(STATE, params)
    assert (response.content, response["Content-Type"]) == (content, form)


@pytest.mark.parametrize("resource", RESOURCES)
def test_post_merges_top_level_properties(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    first = {"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale", "kept": 1}
    second = {"car": {"make": "Dodge"}, "driver": "Jeff", "series": {"nascar": "nextel"}}
    assert lrs.post(resource, params, first).status_code == 204
    assert lrs.post(resource, params, second).status_code == 204
    merged = body_of(lrs.get(resource, params))
    assert merged == {
        "car": {"make": "Dodge"},
        "driver": "Jeff",
        "kept": 1,
        "series": {"nascar": "nextel"},
    }


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"abcdefg", "not/json"),
        (b"abcdefg", "application/octet-stream"),
        (b'{"car": "Honda"}{', JSON_TYPE),
        (b"[1, 2]", JSON_TYPE),
        (b"abc", JSON_TYPE),
    ],
)
@pytest.mark.parametrize("resource", RESOURCES)
def test_post_over_a_json_document_needs_a_json_object(
    lrs: Lrs, resource: str, raw: bytes, content_type: str
) -> None:
    params = RESOURCES[resource]()
    stored = document()
    assert lrs.post(resource, params, stored).status_code == 204
    response = lrs.call("POST", resource, params, raw=raw, content_type=content_type)
    assert response.status_code == 400
    assert body_of(response)["error"]
    assert body_of(lrs.get(resource, params)) == stored


@pytest.mark.parametrize("resource", RESOURCES)
def test_post_of_json_over_a_document_that_is_not_json_is_refused(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    raw = b"/ asdf / undefined"
    kept = lrs.call(
        "PUT", resource, params, raw=raw, content_type="application/octet-stream", headers=CREATE
    )
    assert kept.status_code == 204
    response = lrs.post(resource, params, document())
    assert response.status_code == 400
    assert "not application/json" in body_of(response)["error"]
    assert lrs.get(resource, params).content == raw


def test_post_over_stored_json_that_is_not_an_object_is_refused(lrs: Lrs) -> None:
    params = state()
    assert lrs.put(STATE, params, [1, 2]).status_code == 204
    response = lrs.post(STATE, params, {"a": 1})
    assert response.status_code == 400
    assert "not a JSON object" in body_of(response)["error"]


def test_a_new_json_post_must_be_an_object(lrs: Lrs) -> None:
    params = state()
    assert lrs.post(STATE, params, [1, 2]).status_code == 400
    assert lrs.get(STATE, params).status_code == 404


# ---------------------------------------------------------------- many documents


@pytest.mark.parametrize("resource", RESOURCES)
def test_get_without_an_id_lists_the_ids_of_the_context(lrs: Lrs, resource: str) -> None:
    id_param = ID_PARAM[resource]
    activity = ACTIVITY + "/" + str(uuid.uuid4())
    agent = {"mbox": f"mailto:{uuid.uuid4()}@example.org"}
    builder = RESOURCES[resource]
    first, second = builder(), builder()
    for params in (first, second):
        params.update(
            {k: v for k, v in (("activityId", activity), ("agent", agent)) if k in params}
        )
    create(lrs, resource, first, {"n": 1})
    create(lrs, resource, second, {"n": 2})
    response = lrs.get(resource, without(first, id_param))
    assert response.status_code == 200
    assert sorted(body_of(response)) == sorted([first[id_param], second[id_param]])
    assert response["ETag"] == sha1_tag(response.content)
    newest = Document.objects.filter(document_id=second[id_param]).get().modified
    assert parsedate_to_datetime(response["Last-Modified"]) == newest.replace(microsecond=0)


def test_an_empty_context_lists_nothing(lrs: Lrs) -> None:
    response = lrs.get(ACTIVITY_PROFILE, {"activityId": ACTIVITY + "/empty"})
    assert response.status_code == 200
    assert body_of(response) == []
    assert "Last-Modified" not in response


def test_since_lists_only_documents_changed_after_it(lrs: Lrs) -> None:
    params = agent_profile(agent=OTHER_AGENT)
    older = agent_profile(agent=OTHER_AGENT)
    create(lrs, AGENT_PROFILE, older, {"n": 0})
    create(lrs, AGENT_PROFILE, params, {"n": 1})
    cut = Document.objects.get(document_id=older["profileId"]).modified
    listing = {"agent": OTHER_AGENT}
    exclusive = lrs.get(AGENT_PROFILE, {**listing, "since": cut.isoformat()})
    assert body_of(exclusive) == [params["profileId"]]
    before = (cut - dt.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert len(body_of(lrs.get(AGENT_PROFILE, {**listing, "since": before}))) == 2
    after = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
    assert body_of(lrs.get(AGENT_PROFILE, {**listing, "since": after})) == []


def test_since_is_checked_but_ignored_with_a_document_id(lrs: Lrs) -> None:
    params = state()
    create(lrs, STATE, params, {"a": 1})
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    assert body_of(lrs.get(STATE, {**params, "since": future})) == {"a": 1}
    assert lrs.get(STATE, {**params, "since": "not a timestamp"}).status_code == 400


def test_listing_states_without_registration_spans_registrations(lrs: Lrs) -> None:
    activity = ACTIVITY + "/" + str(uuid.uuid4())
    registration = str(uuid.uuid4())
    plain = state(activityId=activity)
    registered = state(activityId=activity, registration=registration)
    create(lrs, STATE, plain, {})
    create(lrs, STATE, registered, {})
    context = {"activityId": activity, "agent": AGENT}
    assert sorted(body_of(lrs.get(STATE, context))) == sorted(
        [plain["stateId"], registered["stateId"]]
    )
    narrowed = lrs.get(STATE, {**context, "registration": registration})
    assert body_of(narrowed) == [registered["stateId"]]


def test_deleting_states_without_an_id_deletes_the_context(lrs: Lrs) -> None:
    activity = ACTIVITY + "/" + str(uuid.uuid4())
    registration = str(uuid.uuid4())
    plain = state(activityId=activity)
    registered = state(activityId=activity, registration=registration)
    elsewhere = state()
    for params in (plain, registered, elsewhere):
        create(lrs, STATE, params, {})
    context = {"activityId": activity, "agent": AGENT}
    response = lrs.delete(STATE, {**context, "registration": registration})
    assert response.status_code == 204
    assert body_of(lrs.get(STATE, context)) == [plain["stateId"]]
    assert lrs.delete(STATE, context).status_code == 204
    assert body_of(lrs.get(STATE, context)) == []
    assert lrs.get(STATE, elsewhere).status_code == 200


@pytest.mark.parametrize("resource", RESOURCES)
def test_delete_removes_one_document_and_a_missing_one_is_fine(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    create(lrs, resource, params, document())
    assert lrs.delete(resource, params).status_code == 204
    assert lrs.get(resource, params).status_code == 404
    assert lrs.delete(resource, params).status_code == 204


def test_listing_costs_the_same_for_one_document_or_many(lrs: Lrs) -> None:
    def queries_to_list(activity: str) -> int:
        lrs.get(ACTIVITY_PROFILE, {"activityId": activity})  # credentials' last use recorded
        with CaptureQueriesContext(connection) as captured:
            response = lrs.get(ACTIVITY_PROFILE, {"activityId": activity})
        assert response.status_code == 200
        return len(captured)

    few, many = ACTIVITY + "/few", ACTIVITY + "/many"
    create(lrs, ACTIVITY_PROFILE, activity_profile(activityId=few), {})
    for _ in range(15):
        create(lrs, ACTIVITY_PROFILE, activity_profile(activityId=many), {})
    assert queries_to_list(few) == queries_to_list(many) <= 2


# ---------------------------------------------------------------- parameters


def _requests() -> list[tuple[str, str]]:
    return [
        (resource, method) for resource in RESOURCES for method in ("PUT", "POST", "GET", "DELETE")
    ]


@pytest.mark.parametrize(("resource", "method"), _requests())
def test_each_required_parameter_is_required(lrs: Lrs, resource: str, method: str) -> None:
    params = RESOURCES[resource]()
    required = [name for name in params if name != "registration"]
    if method == "GET" or (method == "DELETE" and resource == STATE):
        required.remove(ID_PARAM[resource])
    for name in required:
        response = lrs.call(method, resource, without(params, name), body={"a": 1}, headers=CREATE)
        assert response.status_code == 400, (name, response.content)
        assert name in body_of(response)["error"]


@pytest.mark.parametrize(("resource", "method"), _requests())
def test_unknown_and_miscased_parameters_are_refused(lrs: Lrs, resource: str, method: str) -> None:
    params = RESOURCES[resource]()
    for extra in ({"foo": "bar"}, {ID_PARAM[resource].capitalize(): "x"}):
        response = lrs.call(method, resource, {**params, **extra}, body={"a": 1}, headers=CREATE)
        assert response.status_code == 400
        assert "unexpected parameter" in body_of(response)["error"]


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_since_belongs_to_get_only(lrs: Lrs, method: str) -> None:
    params = state(since="2024-01-01T00:00:00Z")
    assert lrs.call(method, STATE, params, body={}).status_code == 400


def test_agent_is_not_a_parameter_of_activity_profiles(lrs: Lrs) -> None:
    params = activity_profile(agent=AGENT)
    assert lrs.put(ACTIVITY_PROFILE, params, {}, headers=CREATE).status_code == 400


@pytest.mark.parametrize(
    "agent",
    [
        "not JSON",
        "1",
        "true",
        "undefined",
        '"mailto:a@example.org"',
        json.dumps({"key": "value"}),
        json.dumps({"not_actor": "yup"}),
        json.dumps({"mbox": "a@example.org"}),
        json.dumps({"mbox": "mailto:a@example.org", "openid": "http://example.org/a"}),
        json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}),
        json.dumps({"objectType": "Person", "mbox": "mailto:a@example.org"}),
    ],
)
@pytest.mark.parametrize("resource", [STATE, AGENT_PROFILE])
@pytest.mark.parametrize("method", ["PUT", "POST", "GET", "DELETE"])
def test_an_agent_that_is_not_an_agent_is_refused(
    lrs: Lrs, resource: str, method: str, agent: str
) -> None:
    params = {**RESOURCES[resource](), "agent": agent}
    response = lrs.call(method, resource, params, body={"a": 1}, headers=CREATE)
    assert response.status_code == 400
    assert "agent" in body_of(response)["error"]


def test_a_broken_agent_encoding_is_refused(lrs: Lrs) -> None:
    broken = json.dumps(AGENT).replace(":", '"', 1)
    query = urlencode({"activityId": ACTIVITY, "stateId": "s", "agent": broken})
    response = lrs.client.post(
        f"/xapi/{STATE}?{query}",
        data=b'{"a": 1}',
        content_type=JSON_TYPE,
        headers={"X-Experience-API-Version": lrs.version, "Authorization": lrs.authorization},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "activity_id", ["1", "true", "undefined", json.dumps({"key": "value"}), "no scheme", ""]
)
@pytest.mark.parametrize("resource", [STATE, ACTIVITY_PROFILE])
@pytest.mark.parametrize("method", ["PUT", "POST", "GET", "DELETE"])
def test_an_activity_id_that_is_not_an_iri_is_refused(
    lrs: Lrs, resource: str, method: str, activity_id: str
) -> None:
    params = {**RESOURCES[resource](), "activityId": activity_id}
    response = lrs.call(method, resource, params, body={"a": 1}, headers=CREATE)
    assert response.status_code == 400
    assert "activityId" in body_of(response)["error"]


@pytest.mark.parametrize(
    "registration", ["1", "true", "not UUID", "", "0c6d3e2a-6a4e-4f0e-9d3c-2b1f0e6a7c5"]
)
@pytest.mark.parametrize("method", ["PUT", "POST", "GET", "DELETE"])
def test_a_registration_that_is_not_a_uuid_is_refused(
    lrs: Lrs, method: str, registration: str
) -> None:
    response = lrs.call(method, STATE, state(registration=registration), body={"a": 1})
    assert response.status_code == 400
    assert "registration" in body_of(response)["error"]


@pytest.mark.parametrize("since", ["true", "1", "not a timestamp", "2024-13-01T00:00:00Z"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_a_since_that_is_not_a_timestamp_is_refused(lrs: Lrs, resource: str, since: str) -> None:
    params = without(RESOURCES[resource](), ID_PARAM[resource])
    response = lrs.get(resource, {**params, "since": since})
    assert response.status_code == 400
    assert "since" in body_of(response)["error"]


def test_ids_longer_than_the_table_keeps_are_refused(lrs: Lrs) -> None:
    response = lrs.put(STATE, state(stateId="s" * 2049), {})
    assert response.status_code == 400
    assert "stateId" in body_of(response)["error"]
    long_activity = ACTIVITY + "/" + "a" * 2048
    response = lrs.put(
        ACTIVITY_PROFILE, activity_profile(activityId=long_activity), {}, headers=CREATE
    )
    assert response.status_code == 400


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("method", ["PATCH", "TRACE"])
def test_other_methods_are_not_allowed(lrs: Lrs, resource: str, method: str) -> None:
    response = lrs.call(method, resource, RESOURCES[resource]())
    assert response.status_code == 405
    assert response["Allow"] == "HEAD, GET, PUT, POST, DELETE"


@pytest.mark.parametrize("method", ["PUT", "POST", "GET", "DELETE"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_an_empty_document_id_is_refused(lrs: Lrs, resource: str, method: str) -> None:
    params = {**RESOURCES[resource](), ID_PARAM[resource]: ""}
    response = lrs.call(method, resource, params, body={}, headers=CREATE)
    assert response.status_code == 400
    assert ID_PARAM[resource] in body_of(response)["error"]


def test_a_profile_delete_needs_its_profile_id(lrs: Lrs) -> None:
    response = lrs.delete(AGENT_PROFILE, {"agent": AGENT})
    assert response.status_code == 400
    assert "profileId" in body_of(response)["error"]


# ---------------------------------------------------------------- concurrency


@pytest.mark.parametrize("resource", RESOURCES)
def test_put_with_the_current_etag_replaces_and_a_stale_one_fails(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    first = document()
    create(lrs, resource, params, first)
    current = etag(lrs.get(resource, params))
    for stale in ("1234", '"1111111111111111111111111111111111111111"', "W/" + current, "*x"):
        response = lrs.put(resource, params, document(), headers={"If-Match": stale})
        assert response.status_code == 412, stale
        assert body_of(lrs.get(resource, params)) == first
    second = document()
    assert lrs.put(resource, params, second, headers={"If-Match": current}).status_code == 204
    assert body_of(lrs.get(resource, params)) == second
    assert lrs.put(resource, params, document(), headers={"If-Match": current}).status_code == 412


@pytest.mark.parametrize("resource", RESOURCES)
def test_if_match_accepts_a_list_any_and_an_unquoted_tag(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    create(lrs, resource, params, document())
    current = etag(lrs.get(resource, params))
    forms = (
        lambda tag: f'"abc", {tag}',
        lambda _tag: "*",
        lambda tag: tag.strip('"').upper(),
    )
    for form in forms:
        header = form(current)
        response = lrs.put(resource, params, {"h": header}, headers={"If-Match": header})
        assert response.status_code == 204, header
        current = etag(response)


@pytest.mark.parametrize("resource", RESOURCES)
def test_if_match_on_a_missing_document_fails(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    for method in ("PUT", "POST", "DELETE"):
        response = lrs.call(method, resource, params, body={}, headers={"If-Match": "*"})
        assert response.status_code == 412, method
    assert lrs.get(resource, params).status_code == 404


@pytest.mark.parametrize("resource", RESOURCES)
def test_if_none_match_star_creates_only(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    first = document()
    create(lrs, resource, params, first)
    for method in ("PUT", "POST", "DELETE"):
        response = lrs.call(method, resource, params, body=document(), headers=CREATE)
        assert response.status_code == 412, method
    current = etag(lrs.get(resource, params))
    response = lrs.put(resource, params, document(), headers={"If-None-Match": current})
    assert response.status_code == 412
    assert body_of(lrs.get(resource, params)) == first


@pytest.mark.parametrize("resource", RESOURCES)
def test_post_and_delete_honour_if_match(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    first = {"a": 1}
    create(lrs, resource, params, first)
    current = etag(lrs.get(resource, params))
    assert lrs.post(resource, params, {"b": 2}, headers={"If-Match": "1234"}).status_code == 412
    assert lrs.delete(resource, params, headers={"If-Match": "1234"}).status_code == 412
    assert body_of(lrs.get(resource, params)) == first
    assert lrs.post(resource, params, {"b": 2}, headers={"If-Match": current}).status_code == 204
    merged = lrs.get(resource, params)
    assert body_of(merged) == {"a": 1, "b": 2}
    assert lrs.delete(resource, params, headers={"If-Match": etag(merged)}).status_code == 204
    assert lrs.get(resource, params).status_code == 404


@pytest.mark.parametrize("resource", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_a_profile_put_without_a_precondition_is_refused(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    response = lrs.put(resource, params, document())
    assert response.status_code == 400
    assert "If-None-Match" in body_of(response)["error"]
    assert lrs.get(resource, params).status_code == 404
    first = document()
    create(lrs, resource, params, first)
    response = lrs.put(resource, params, document())
    assert response.status_code == 409
    assert "If-Match" in body_of(response)["error"]
    assert body_of(lrs.get(resource, params)) == first


@pytest.mark.parametrize("resource", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_a_profile_post_or_delete_needs_no_precondition(lrs: Lrs, resource: str) -> None:
    params = RESOURCES[resource]()
    assert lrs.post(resource, params, {"a": 1}).status_code == 204
    assert lrs.post(resource, params, {"b": 2}).status_code == 204
    assert body_of(lrs.get(resource, params)) == {"a": 1, "b": 2}
    assert lrs.delete(resource, params).status_code == 204


def test_a_1_0_3_state_put_without_a_precondition_replaces() -> None:
    lrs = tool("1.0.3")
    params = state()
    assert lrs.put(STATE, params, {"a": 1}).status_code == 204
    assert lrs.put(STATE, params, {"b": 2}).status_code == 204
    assert body_of(lrs.get(STATE, params)) == {"b": 2}


def test_a_2_0_state_put_without_a_precondition_creates_only() -> None:
    lrs = tool("2.0.0")
    params = state()
    assert lrs.put(STATE, params, {"a": 1}).status_code == 204
    response = lrs.put(STATE, params, {"b": 2})
    assert response.status_code == 409
    assert "If-Match" in body_of(response)["error"]
    assert body_of(lrs.get(STATE, params)) == {"a": 1}
    current = etag(lrs.get(STATE, params))
    assert lrs.put(STATE, params, {"b": 2}, headers={"If-Match": current}).status_code == 204
    assert lrs.post(STATE, params, {"c": 3}).status_code == 204
    assert lrs.delete(STATE, params).status_code == 204


def test_every_write_moves_the_modified_time_forward(lrs: Lrs) -> None:
    params = state()
    create(lrs, STATE, params, {"a": 1})
    first = Document.objects.get(document_id=params["stateId"]).modified
    assert lrs.post(STATE, params, {"b": 2}).status_code == 204
    second = Document.objects.get(document_id=params["stateId"]).modified
    assert second > first
    assert parsedate_to_datetime(lrs.get(STATE, params)["Last-Modified"]) == second.replace(
        microsecond=0
    )


def test_the_alternate_syntax_reaches_documents_in_1_0_3() -> None:
    lrs = tool("1.0.3")
    params = agent_profile()
    form = urlencode(
        {
            **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()},
            "content": json.dumps({"via": "form"}),
            "If-None-Match": "*",
            "X-Experience-API-Version": "1.0.3",
            "Authorization": lrs.authorization or "",
        }
    )
    response = lrs.client.post(
        f"/xapi/{AGENT_PROFILE}?method=PUT",
        data=form,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 204, response.content
    assert body_of(lrs.get(AGENT_PROFILE, params)) == {"via": "form"}


# ---------------------------------------------------------------- two writers


def _lose_the_first_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's first read misses the row another writer has just committed."""
    real = documents._locked
    looks = 0

    def locked(ref: documents.DocumentRef) -> Document | None:
        nonlocal looks
        looks += 1
        return None if looks == 1 else real(ref)

    monkeypatch.setattr(documents, "_locked", locked)


@pytest.mark.parametrize(
    ("version", "resource", "headers", "status"),
    [
        ("2.0.0", AGENT_PROFILE, CREATE, 412),
        ("1.0.3", ACTIVITY_PROFILE, CREATE, 412),
        ("2.0.0", STATE, {}, 409),
        ("1.0.3", STATE, {}, 204),
    ],
)
def test_a_writer_that_loses_the_insert_race_is_decided_again(
    monkeypatch: pytest.MonkeyPatch,
    version: str,
    resource: str,
    headers: dict[str, str],
    status: int,
) -> None:
    lrs = tool(version)
    params = RESOURCES[resource]()
    create(lrs, resource, params, {"first": True})
    _lose_the_first_look(monkeypatch)
    response = lrs.put(resource, params, {"second": True}, headers=headers)
    assert response.status_code == status, response.content
    assert Document.objects.filter(document_id=params[ID_PARAM[resource]]).count() == 1
    expected = {"second": True} if status == 204 else {"first": True}
    assert body_of(lrs.get(resource, params)) == expected


def test_a_post_that_loses_the_insert_race_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    lrs = tool()
    params = state()
    assert lrs.post(STATE, params, {"a": 1}).status_code == 204
    _lose_the_first_look(monkeypatch)
    assert lrs.post(STATE, params, {"b": 2}).status_code == 204
    assert body_of(lrs.get(STATE, params)) == {"a": 1, "b": 2}


# The suite's SQLite database lives in memory with a shared cache, whose table locks make a
# second writer fail at once instead of waiting: real concurrent writers are tried on PostgreSQL
# (the tests above decide the same races deterministically on both databases).
threaded = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="an in-memory SQLite database cannot wait for a lock"
)


@threaded
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_creations_make_one_document() -> None:
    lrs = tool()
    params = agent_profile()
    start = threading.Barrier(2)
    statuses: list[int] = []

    def write(n: int) -> None:
        try:
            writer = Lrs(Client(), version=lrs.version, authorization=lrs.authorization)
            start.wait(timeout=10)
            statuses.append(
                writer.put(AGENT_PROFILE, params, {"writer": n}, headers=CREATE).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [204, 412]
    assert Document.objects.filter(document_id=params["profileId"]).count() == 1


@threaded
@pytest.mark.django_db(transaction=True)
def test_simultaneous_merges_keep_every_property() -> None:
    lrs = tool()
    params = state()
    writers = 4
    start = threading.Barrier(writers)
    statuses: list[int] = []

    def write(n: int) -> None:
        try:
            writer = Lrs(Client(), version=lrs.version, authorization=lrs.authorization)
            start.wait(timeout=10)
            statuses.append(writer.post(STATE, params, {f"p{n}": n}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [204] * writers
    assert body_of(lrs.get(STATE, params)) == {f"p{n}": n for n in range(writers)}


# ---------------------------------------------------------------- a caller acting for one learner


@pytest.fixture
def learner_lrs() -> tuple[Lrs, Any]:
    school = make_school()
    learner = make_person(school=school)
    client = Client()
    client.force_login(learner)
    return Lrs(client, version="2.0.0"), learner


def test_a_learner_uses_their_own_state_and_agent_profile(learner_lrs: tuple[Lrs, Any]) -> None:
    lrs, learner = learner_lrs
    own = actor_for(learner.id)
    params = state(agent=own)
    assert lrs.put(STATE, params, {"bookmark": 3}).status_code == 204
    assert body_of(lrs.get(STATE, params)) == {"bookmark": 3}
    assert lrs.get(STATE, without(params, "stateId")).status_code == 200
    row = Document.objects.get(document_id=params["stateId"])
    assert row.school_id == learner.school_id
    profile = agent_profile(agent=own)
    assert lrs.put(AGENT_PROFILE, profile, {"lang": "fr"}, headers=CREATE).status_code == 204
    assert lrs.delete(AGENT_PROFILE, profile).status_code == 204
    assert lrs.delete(STATE, without(params, "stateId")).status_code == 204


@pytest.mark.parametrize("resource", [STATE, AGENT_PROFILE])
@pytest.mark.parametrize("method", ["PUT", "POST", "GET", "DELETE"])
def test_a_learner_cannot_touch_anyone_elses_documents(
    learner_lrs: tuple[Lrs, Any], resource: str, method: str
) -> None:
    lrs, _learner = learner_lrs
    other = tool()
    params = RESOURCES[resource](agent=OTHER_AGENT)
    create(other, resource, params, {"theirs": True})
    response = lrs.call(method, resource, params, body={"mine": True}, headers={"If-Match": "*"})
    assert response.status_code == 403
    assert body_of(other.get(resource, params)) == {"theirs": True}


def test_a_learner_reads_activity_profiles_but_does_not_change_them(
    learner_lrs: tuple[Lrs, Any],
) -> None:
    lrs, _learner = learner_lrs
    other = tool()
    params = activity_profile()
    create(other, ACTIVITY_PROFILE, params, {"shared": True})
    assert body_of(lrs.get(ACTIVITY_PROFILE, params)) == {"shared": True}
    assert lrs.get(ACTIVITY_PROFILE, without(params, "profileId")).status_code == 200
    for method in ("PUT", "POST", "DELETE"):
        response = lrs.call(method, ACTIVITY_PROFILE, params, body={}, headers={"If-Match": "*"})
        assert response.status_code == 403, method
    assert body_of(other.get(ACTIVITY_PROFILE, params)) == {"shared": True}


def test_documents_of_outside_agents_have_no_school(lrs: Lrs) -> None:
    params = state()
    create(lrs, STATE, params, {})
    assert Document.objects.get(document_id=params["stateId"]).school_id is None


def test_an_unauthenticated_request_is_refused() -> None:
    lrs = Lrs(Client(), version="2.0.0")
    assert lrs.get(STATE, state()).status_code == 401
