"""Credentials for outside tools: the admins' page, and who may store what."""

import json
import re

import pytest
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from kalan.accounts.xapi import actor_for
from kalan.lrs.models import Credential
from kalan.lrs.tests.xapi_client import Xapi, basic, statement
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"


def _signed_in(client: Client, person: object) -> Client:
    client.force_login(person)  # type: ignore[arg-type]
    return client


def test_an_admin_creates_credentials_that_open_the_lrs_once_shown(client: Client) -> None:
    school = make_school()
    admin = make_person(school=school, roles=("admin",))
    _signed_in(client, admin)
    assert client.get("/manage/xapi/").status_code == 200
    page = client.post("/manage/xapi/new/", {"name": "Ministry dashboard"})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    credential = Credential.objects.get(name="Ministry dashboard")
    text = page.content.decode()
    secret = re.search(r"<dt>Secret</dt><dd><code>([^<]+)</code>", text)
    assert secret, text
    assert credential.secret_hash not in text
    outside = Xapi(Client(), authorization=basic(credential.key, secret.group(1)))
    assert outside.get().status_code == 200
    # The list shows the key, never the secret again.
    listing = client.get("/manage/xapi/").content.decode()
    assert credential.key in listing
    assert secret.group(1) not in listing
    client.post(f"/manage/xapi/{credential.id}/revoke/")
    assert outside.get().status_code == 401


def test_credentials_pages_are_for_admins_only(client: Client) -> None:
    learner = make_person(school=make_school())
    _signed_in(client, learner)
    assert client.get("/manage/xapi/").status_code == 404
    assert client.post("/manage/xapi/new/", {"name": "mine"}).status_code == 404
    assert not Credential.objects.exists()


def test_a_blank_name_is_refused(client: Client) -> None:
    _signed_in(client, make_person(school=make_school(), roles=("admin",)))
    assert client.post("/manage/xapi/new/", {"name": "  "}).status_code == 400
    assert not Credential.objects.exists()


# ---------------------------------------------------------------- acting for one learner


def test_a_learner_reads_only_their_own_statements(client: Client) -> None:
    school = make_school()
    learner, other = make_person(school=school), make_person(school=school)
    tool = Xapi(Client())
    mine = json.loads(tool.post(statement(actor=actor_for(learner.id))).content)[0]
    theirs = json.loads(tool.post(statement(actor=actor_for(other.id))).content)[0]
    _signed_in(client, learner)
    session = Xapi(client, authorization="")
    listed = json.loads(session.get().content)["statements"]
    assert [s["id"] for s in listed] == [mine]
    assert session.get(statementId=theirs).status_code == 404
    assert session.get(statementId=mine).status_code == 200


def test_session_writes_need_the_csrf_token() -> None:
    learner = make_person(school=make_school())
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    session = Xapi(client, authorization="")
    assert session.post(statement(actor=actor_for(learner.id))).status_code == 403
    page = RequestFactory().get("/")
    token = get_token(page)  # what a page of Kalan's carries for its scripts
    client.cookies["csrftoken"] = page.META["CSRF_COOKIE"]
    response = session.request(
        "POST",
        "statements",
        body=statement(actor=actor_for(learner.id)),
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.content


def test_a_learner_may_not_grade_a_statement(client: Client) -> None:
    school = make_school()
    learner, other = make_person(school=school), make_person(school=school)
    answer = json.loads(Xapi(Client()).post(statement(actor=actor_for(other.id))).content)[0]
    _signed_in(client, learner)
    session = Xapi(client, authorization="")
    grade = statement(actor=actor_for(learner.id))
    grade["verb"] = {"id": "http://adlnet.gov/expapi/verbs/scored"}
    grade["object"] = {"objectType": "StatementRef", "id": answer}
    grade["result"] = {"success": True, "score": {"scaled": 1}}
    refused = session.post(grade)
    assert refused.status_code == 403
    assert b"may not grade" in refused.content
    scored_an_activity = statement(actor=actor_for(learner.id))
    scored_an_activity["verb"] = {"id": "http://adlnet.gov/expapi/verbs/scored"}
    assert session.post(scored_an_activity).status_code == 200  # an activity, not a grade
    assert Xapi(Client()).post(grade).status_code == 200  # an outside tool may
