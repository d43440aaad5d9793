"""The statement resource through HTTP: storing, reading, filters, voiding, paging, versions."""

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kalan.content.tests.corpus import corpus_root
from kalan.lrs.models import Statement
from kalan.lrs.tests.xapi_client import Xapi, agent, basic, new_id, statement
from kalan.lrs.validation import normalize_statement

CORPUS = corpus_root() / "xapi" / "spec-1.0.3-examples"

pytestmark = pytest.mark.django_db


@pytest.fixture
def xapi(client: Client) -> Xapi:
    return Xapi(client)


def _stored(xapi: Xapi, statement_id: str) -> dict[str, Any]:
    response = xapi.get(statementId=statement_id)
    assert response.status_code == 200, response.content
    found: dict[str, Any] = json.loads(response.content)
    return found


def _without_lrs_properties(found: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in found.items()
        if k not in {"stored", "authority", "version", "id", "timestamp"}
    }


# ---------------------------------------------------------------- the specification's examples


def _corpus_statements() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.glob("A*.json"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/xapi is absent")
@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
@pytest.mark.parametrize("path", _corpus_statements(), ids=lambda p: p.stem)
def test_the_specification_examples_are_stored_and_returned_as_sent(
    client: Client, path: Path, version: str
) -> None:
    xapi = Xapi(client, version=version)
    example = json.loads(path.read_text())
    example.pop("stored", None)
    example.pop("authority", None)
    example.pop("version", None)
    example["id"] = new_id()  # the examples share ids across files
    response = xapi.post(example)
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == [example["id"]]
    assert response["X-Experience-API-Version"] == version
    found = _stored(xapi, example["id"])
    assert found["id"] == example["id"]
    # Returned as sent, in the normal form the LRS keeps (e.g. objectType filled in).
    expected = normalize_statement(example, version=version)  # type: ignore[arg-type]
    assert _without_lrs_properties(found) == _without_lrs_properties(expected)
    assert found["object"].get("objectType", "Activity") == example["object"].get(
        "objectType", "Activity"
    )
    assert found["authority"]["account"]["name"] == xapi.credential.key
    assert found["stored"].endswith("Z")
    if "timestamp" in example:
        assert found["timestamp"] == example["timestamp"]


# ---------------------------------------------------------------- ids, duplicates, conflicts


def test_post_assigns_ids_in_order(xapi: Xapi) -> None:
    first, second = statement(), statement(verb="http://adlnet.gov/expapi/verbs/attempted")
    response = xapi.post([first, second])
    assert response.status_code == 200
    ids = json.loads(response.content)
    assert len(ids) == 2
    assert _stored(xapi, ids[1])["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attempted"


def test_the_same_statement_twice_is_stored_once(xapi: Xapi) -> None:
    sent = statement(statement_id=new_id())
    assert xapi.post(sent).status_code == 200
    again = xapi.post(sent)
    assert again.status_code == 200
    assert json.loads(again.content) == [sent["id"]]
    assert xapi.put(sent, sent["id"]).status_code == 204
    assert Statement.objects.filter(id=sent["id"]).count() == 1


def test_an_id_stored_with_other_content_is_a_conflict(xapi: Xapi) -> None:
    sent = statement(statement_id=new_id())
    assert xapi.post(sent).status_code == 200
    other = statement(statement_id=sent["id"], activity="http://example.org/activities/two")
    response = xapi.post([statement(), other])
    assert response.status_code == 409
    assert sent["id"] in json.loads(response.content)["error"]
    assert Statement.objects.count() == 1  # nothing of the batch was written


def test_a_batch_naming_one_id_twice_is_refused(xapi: Xapi) -> None:
    statement_id = new_id()
    response = xapi.post(
        [statement(statement_id=statement_id), statement(statement_id=statement_id)]
    )
    assert response.status_code == 400
    assert "statements[1].id" in json.loads(response.content)["error"]
    assert not Statement.objects.exists()


def test_put_needs_a_matching_statement_id(xapi: Xapi) -> None:
    assert xapi.request("PUT", "statements", body=statement()).status_code == 400
    assert xapi.put(statement(statement_id=new_id()), new_id()).status_code == 400
    assert xapi.put(statement(), "not-a-uuid").status_code == 400
    statement_id = new_id()
    assert xapi.put(statement(), statement_id).status_code == 204
    assert _stored(xapi, statement_id)["id"] == statement_id


def test_a_malformed_statement_is_refused_with_its_reason(xapi: Xapi) -> None:
    bad = statement()
    bad["actor"] = {"mbox": "ama@example.org"}
    response = xapi.post([statement(), bad])
    assert response.status_code == 400
    assert "statements[1].actor.mbox" in json.loads(response.content)["error"]
    assert not Statement.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"[]", "application/json"), (b"{}", "text/plain")],
)
def test_bodies_that_are_not_statements_are_refused(
    xapi: Xapi, body: bytes, content_type: str
) -> None:
    response = xapi.request("POST", "statements", raw=body, content_type=content_type)
    assert response.status_code == 400
    assert json.loads(response.content)["error"]


# ---------------------------------------------------------------- versions, credentials, methods


def test_the_version_header_is_required_and_checked(client: Client) -> None:
    xapi = Xapi(client)
    assert (
        xapi.request("GET", "statements", headers={"X-Experience-API-Version": ""}).status_code
        == 400
    )
    assert (
        xapi.request("GET", "statements", headers={"X-Experience-API-Version": "0.95"}).status_code
        == 400
    )
    old = xapi.request("GET", "statements", headers={"X-Experience-API-Version": "1.0.1"})
    assert old.status_code == 200
    assert old["X-Experience-API-Version"] == "1.0.3"
    # A request that names no version this LRS speaks is answered in the oldest one.
    missing = xapi.request("POST", "statements", headers={"X-Experience-API-Version": ""})
    assert (missing.status_code, missing["X-Experience-API-Version"]) == (400, "1.0.3")


def test_every_answer_of_the_statements_resource_says_how_consistent_it_is(
    client: Client,
) -> None:
    """Refusals and misses too (X-Experience-API-Consistent-Through, XAPI-00161)."""
    xapi = Xapi(client)
    refused = xapi.get(statementId=new_id(), verb="http://adlnet.gov/expapi/verbs/x")
    missing = xapi.get(statementId=new_id())
    assert (refused.status_code, missing.status_code) == (400, 404)
    for response in (refused, missing):
        through = response["X-Experience-API-Consistent-Through"]
        assert dt.datetime.fromisoformat(through) <= dt.datetime.now(dt.UTC)


def test_about_needs_no_credentials(client: Client) -> None:
    response = client.get("/xapi/about")
    assert response.status_code == 200
    assert set(json.loads(response.content)["version"]) == {"2.0.0", "1.0.3"}
    # A 1.0.x client hears of 1.0.x only (Communication 2.8 of 1.0.3 allows no other value).
    old = client.get("/xapi/about", HTTP_X_EXPERIENCE_API_VERSION="1.0.3")
    assert json.loads(old.content)["version"] == ["1.0.3"]


@pytest.mark.parametrize(
    "path", ["statements", "activities", "agents", "about", "activities/state"]
)
def test_a_method_a_resource_lacks_is_refused_before_credentials(client: Client, path: str) -> None:
    response = client.generic(
        "PATCH" if path == "activities/state" else "DELETE",
        f"/xapi/{path}",
        HTTP_X_EXPERIENCE_API_VERSION="1.0.3",
    )
    assert response.status_code == 405
    assert response["Allow"]
    assert response["X-Experience-API-Version"] == "1.0.3"


def test_credentials_are_required_and_checked(client: Client) -> None:
    good = Xapi(client)
    assert Xapi(client, authorization="").get().status_code == 401
    wrong = basic(good.credential.key, "not the secret")
    assert Xapi(client, authorization=wrong).get().status_code == 401
    assert Xapi(client, authorization="Basic !!!").get().status_code == 401
    assert good.get().status_code == 200
    good.credential.is_active = False
    good.credential.save()
    assert good.get().status_code == 401


def test_other_methods_are_not_allowed(xapi: Xapi) -> None:
    response = xapi.request("DELETE", "statements")
    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_head_answers_like_get_without_a_body(xapi: Xapi) -> None:
    xapi.post(statement())
    get, head = xapi.request("GET", "statements"), xapi.request("HEAD", "statements")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head["Content-Length"]) == len(get.content)
    assert "X-Experience-API-Consistent-Through" in head


def test_every_answer_allows_cross_origin_content(xapi: Xapi, client: Client) -> None:
    preflight = client.options("/xapi/statements")
    assert preflight.status_code == 200
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    assert xapi.get()["Access-Control-Allow-Origin"] == "*"


# ---------------------------------------------------------------- the alternate request syntax


def test_the_alternate_request_syntax_works_in_1_0_3(client: Client) -> None:
    from urllib.parse import urlencode

    xapi = Xapi(client, version="1.0.3")
    statement_id = new_id()
    form = urlencode(
        {
            "statementId": statement_id,
            "content": json.dumps(statement()),
            "X-Experience-API-Version": "1.0.3",
            "Authorization": xapi.authorization,
            "Content-Type": "application/json",
        }
    )
    response = client.post(
        "/xapi/statements?method=PUT", data=form, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 204, response.content
    assert Statement.objects.filter(id=statement_id).exists()


def test_the_alternate_syntax_takes_real_headers_and_the_form_wins(client: Client) -> None:
    """Clients send credentials and the version as headers; a form field overrides them."""
    from urllib.parse import urlencode

    xapi = Xapi(client, version="1.0.3")
    headers: dict[str, Any] = {
        "HTTP_AUTHORIZATION": xapi.authorization,
        "HTTP_X_EXPERIENCE_API_VERSION": "1.0.3",
    }
    query = client.post(
        "/xapi/statements?method=GET",
        data=urlencode({"limit": "1"}),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )
    assert query.status_code == 200, query.content
    assert set(json.loads(query.content)) == {"statements", "more"}
    refused = client.post(
        "/xapi/statements?method=PUT",
        data=urlencode(
            {
                "statementId": new_id(),
                "content": json.dumps(statement()),
                "X-Experience-API-Version": "0.8",
            }
        ),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )
    assert refused.status_code == 400


def test_the_alternate_request_syntax_is_refused_in_2_0(xapi: Xapi) -> None:
    response = xapi.request(
        "POST", "statements?method=GET", raw=b"", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


# ---------------------------------------------------------------- voiding


def _void(xapi: Xapi, target: str, **extra: Any) -> Any:
    return xapi.post(
        statement(
            verb="http://adlnet.gov/expapi/verbs/voided",
            object={"objectType": "StatementRef", "id": target},
            **extra,
        )
    )


def _void_statement(target: str) -> dict[str, Any]:
    made = statement(verb="http://adlnet.gov/expapi/verbs/voided")
    made["object"] = {"objectType": "StatementRef", "id": target}
    return made


def test_a_voided_statement_leaves_queries_but_can_be_fetched_as_voided(xapi: Xapi) -> None:
    target = json.loads(xapi.post(statement()).content)[0]
    voiding = json.loads(xapi.post(_void_statement(target)).content)[0]
    assert xapi.get(statementId=target).status_code == 404
    assert json.loads(xapi.get(voidedStatementId=target).content)["id"] == target
    listed = [s["id"] for s in json.loads(xapi.get().content)["statements"]]
    assert listed == [voiding]


def test_a_voiding_statement_that_arrives_first_voids_its_target_on_arrival(xapi: Xapi) -> None:
    target = new_id()
    xapi.post(_void_statement(target))
    xapi.post(statement(statement_id=target))
    assert xapi.get(statementId=target).status_code == 404
    assert xapi.get(voidedStatementId=target).status_code == 200


def test_a_voiding_statement_cannot_void_another(xapi: Xapi) -> None:
    target = json.loads(xapi.post(statement()).content)[0]
    voiding = json.loads(xapi.post(_void_statement(target)).content)[0]
    xapi.post(_void_statement(voiding))
    assert xapi.get(statementId=voiding).status_code == 200


# ---------------------------------------------------------------- filters


@pytest.fixture
def history(xapi: Xapi) -> dict[str, str]:
    """Five statements of two people about two activities, stored in this order."""
    registration = new_id()
    sent = {
        "ama_one": statement(actor=agent("ama")),
        "ama_two": statement(actor=agent("ama"), activity="http://example.org/activities/two"),
        "ben_one": statement(
            actor=agent("ben"),
            verb="http://adlnet.gov/expapi/verbs/completed",
            context={
                "registration": registration,
                "instructor": agent("teacher"),
                "contextActivities": {"parent": [{"id": "http://example.org/course"}]},
            },
        ),
        "ben_ama": statement(actor=agent("ben"), object=agent("ama")),
        "sub": statement(
            actor=agent("ben"),
            object={
                "objectType": "SubStatement",
                "actor": agent("cara"),
                "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                "object": {"id": "http://example.org/activities/three"},
            },
        ),
    }
    ids = {}
    for name, made in sent.items():
        ids[name] = json.loads(xapi.post(made).content)[0]
    ids["registration"] = registration
    return ids


def _listed(xapi: Xapi, **params: Any) -> list[str]:
    response = xapi.get(**params)
    assert response.status_code == 200, response.content
    return [s["id"] for s in json.loads(response.content)["statements"]]


def test_statements_come_newest_first_or_ascending(xapi: Xapi, history: dict[str, str]) -> None:
    order = ["ama_one", "ama_two", "ben_one", "ben_ama", "sub"]
    assert _listed(xapi) == [history[n] for n in reversed(order)]
    assert _listed(xapi, ascending="true") == [history[n] for n in order]


def test_the_agent_filter_matches_actor_or_object(xapi: Xapi, history: dict[str, str]) -> None:
    assert set(_listed(xapi, agent=agent("ama"))) == {
        history["ama_one"],
        history["ama_two"],
        history["ben_ama"],
    }
    # The same agent spelt with other properties is the same agent.
    assert set(_listed(xapi, agent={"mbox": "mailto:ama@example.org"})) == {
        history["ama_one"],
        history["ama_two"],
        history["ben_ama"],
    }


def test_related_agents_include_context_and_substatements(
    xapi: Xapi, history: dict[str, str]
) -> None:
    assert _listed(xapi, agent=agent("teacher")) == []
    assert _listed(xapi, agent=agent("teacher"), related_agents="true") == [history["ben_one"]]
    assert _listed(xapi, agent=agent("cara"), related_agents="true") == [history["sub"]]


def test_the_activity_verb_and_registration_filters(xapi: Xapi, history: dict[str, str]) -> None:
    assert _listed(xapi, activity="http://example.org/activities/two") == [history["ama_two"]]
    assert _listed(xapi, activity="http://example.org/course") == []
    assert _listed(xapi, activity="http://example.org/course", related_activities="true") == [
        history["ben_one"]
    ]
    assert _listed(
        xapi, activity="http://example.org/activities/three", related_activities="true"
    ) == [history["sub"]]
    assert _listed(xapi, verb="http://adlnet.gov/expapi/verbs/completed") == [history["ben_one"]]
    assert _listed(xapi, registration=history["registration"]) == [history["ben_one"]]


def test_filters_combine(xapi: Xapi, history: dict[str, str]) -> None:
    assert _listed(xapi, agent=agent("ama"), activity="http://example.org/activities/one") == [
        history["ama_one"]
    ]
    assert _listed(
        xapi,
        agent=agent("ben"),
        verb="http://adlnet.gov/expapi/verbs/completed",
        registration=history["registration"],
    ) == [history["ben_one"]]


def test_since_and_until_read_the_stored_time(xapi: Xapi) -> None:
    first = json.loads(xapi.post(statement()).content)[0]
    time.sleep(0.01)
    stored = _stored(xapi, first)["stored"]
    second = json.loads(xapi.post(statement()).content)[0]
    assert _listed(xapi, since=stored) == [second]
    assert _listed(xapi, until=stored) == [first]


def test_a_statement_ref_matches_through_its_target(xapi: Xapi) -> None:
    """Communication 2.1.3: filters match statements targeting a matching statement."""
    early_ref = new_id()
    late_target = new_id()
    # A reference stored before its target (as sync may deliver them).
    xapi.post(
        statement(
            statement_id=early_ref,
            actor=agent("ben"),
            object={"objectType": "StatementRef", "id": late_target},
        )
    )
    xapi.post(statement(statement_id=late_target, activity="http://example.org/activities/nine"))
    chained = json.loads(
        xapi.post(
            statement(actor=agent("cara"), object={"objectType": "StatementRef", "id": early_ref})
        ).content
    )[0]
    assert set(_listed(xapi, activity="http://example.org/activities/nine")) == {
        late_target,
        early_ref,
        chained,
    }
    # Time filters still apply to the referring statement itself.
    assert _listed(xapi, activity="http://example.org/activities/nine", limit=1) == [chained]


def test_unknown_or_malformed_parameters_are_refused(xapi: Xapi) -> None:
    assert xapi.get(colour="blue").status_code == 400
    assert xapi.get(agent="not json").status_code == 400
    assert xapi.get(agent={"mbox": "ama@example.org"}).status_code == 400
    assert xapi.get(registration="nope").status_code == 400
    assert xapi.get(since="yesterday").status_code == 400
    assert xapi.get(limit="-1").status_code == 400
    assert xapi.get(format="full").status_code == 400
    assert xapi.get(statementId=new_id(), agent=agent("ama")).status_code == 400


def test_pages_follow_more_until_the_end(xapi: Xapi) -> None:
    sent = [json.loads(xapi.post(statement()).content)[0] for _ in range(7)]
    seen: list[str] = []
    response = xapi.get(limit=3)
    while True:
        page = json.loads(response.content)
        seen.extend(s["id"] for s in page["statements"])
        if not page["more"]:
            break
        # Statements stored after the first page do not slip into later ones.
        xapi.post(statement())
        response = xapi.client.get(page["more"], headers=xapi.headers())
        assert response.status_code == 200
    assert seen == list(reversed(sent))


def test_a_page_of_statements_costs_a_fixed_number_of_queries(
    xapi: Xapi, history: dict[str, str], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        assert (
            len(_listed(xapi, agent=agent("ama"), activity="http://example.org/activities/one"))
            == 1
        )


def test_formats_ids_and_canonical(xapi: Xapi) -> None:
    made = statement()
    made["verb"]["display"] = {"en-US": "experienced", "fr-FR": "a vécu"}
    made["object"]["definition"] = {"name": {"en-US": "One", "fr-FR": "Un"}}
    statement_id = json.loads(xapi.post(made).content)[0]
    ids = json.loads(xapi.get(statementId=statement_id, format="ids").content)
    assert ids["verb"] == {"id": made["verb"]["id"]}
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:ama@example.org"}
    assert ids["object"] == {"id": made["object"]["id"]}  # an activity: its id alone
    response = xapi.request(
        "GET",
        "statements",
        params={"statementId": statement_id, "format": "canonical"},
        headers={"Accept-Language": "fr-FR, en;q=0.5"},
    )
    canonical = json.loads(response.content)
    assert canonical["verb"]["display"] == {"fr-FR": "a vécu"}
    assert canonical["object"]["definition"]["name"] == {"fr-FR": "Un"}


def test_the_activities_resource_keeps_the_latest_definition(xapi: Xapi) -> None:
    made = statement()
    made["object"]["definition"] = {"name": {"en-US": "One"}}
    xapi.post(made)
    made["object"]["definition"] = {
        "name": {"fr-FR": "Un"},
        "type": "http://adlnet.gov/expapi/activities/lesson",
    }
    xapi.post(made)
    response = xapi.request("GET", "activities", params={"activityId": made["object"]["id"]})
    assert json.loads(response.content)["definition"] == {
        "name": {"en-US": "One", "fr-FR": "Un"},
        "type": "http://adlnet.gov/expapi/activities/lesson",
    }
    assert xapi.request("GET", "activities").status_code == 400


def test_the_agents_resource_describes_a_person(xapi: Xapi) -> None:
    response = xapi.request("GET", "agents", params={"agent": agent("ama")})
    assert json.loads(response.content) == {
        "objectType": "Person",
        "name": ["ama"],
        "mbox": ["mailto:ama@example.org"],
    }


def test_a_body_over_the_size_limit_is_refused_with_413(xapi: Xapi, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = statement(result={"response": "x" * 2000})
    response = xapi.post(big)
    assert response.status_code == 413
    assert "larger than 1000 bytes" in json.loads(response.content)["error"]
    assert not Statement.objects.exists()
