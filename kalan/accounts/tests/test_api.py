"""The JSON API's front door: sign-in by session or token, tokens, the schema."""

import json
import re
import uuid
from typing import Any

import pytest
from django.test import Client

from kalan.accounts import services
from kalan.accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db

API = "/api/v1"
EVERY_PATH = {
    "/api/v1/tokens",
    "/api/v1/tokens/{token_id}",
    "/api/v1/schools",
    "/api/v1/schools/{school_id}",
    "/api/v1/schools/{school_id}/close",
    "/api/v1/schools/{school_id}/reopen",
    "/api/v1/users",
    "/api/v1/users/me",
    "/api/v1/users/{user_id}",
    "/api/v1/users/{user_id}/deactivate",
    "/api/v1/users/{user_id}/reactivate",
    "/api/v1/classes",
    "/api/v1/classes/{class_id}",
    "/api/v1/classes/{class_id}/deactivate",
    "/api/v1/enrolments",
    "/api/v1/enrolments/{enrolment_id}",
    "/api/v1/roles",
    "/api/v1/roles/{role_id}",
    "/api/v1/groups",
    "/api/v1/groups/{group_id}",
    "/api/v1/groups/{group_id}/members",
    "/api/v1/groups/{group_id}/members/{user_id}",
    "/api/v1/guardian-links",
    "/api/v1/guardian-links/{link_id}",
}


@pytest.fixture
def person() -> User:
    return services.create_user(
        username="district", full_name="Awa Diarra", school_id=None, password="long-secret-1"
    )


def signed_in(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def post_json(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(
        f"{API}{path}", data=json.dumps(body), content_type="application/json", headers=headers
    )


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def schema() -> dict[str, Any]:
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    document: dict[str, Any] = json.loads(response.content)
    return document


def test_openapi_schema_lists_every_path():
    document = schema()
    assert document["info"]["title"] == "Kalan API"
    assert document["info"]["version"] == "1"
    assert set(document["paths"]) == EVERY_PATH
    schemes = document["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}


def test_no_answer_carries_a_password_or_token_hash():
    outputs = {
        name: body for name, body in schema()["components"]["schemas"].items() if "Out" in name
    }
    assert "UserOut" in outputs
    for name, body in outputs.items():
        fields = set(body.get("properties", {}))
        assert not fields & {"password", "key_hash"}, name


def test_docs_page_loads_nothing_from_outside_hosts():
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/") for source in sources), sources
    assert '"validatorUrl": null' in html


@pytest.mark.parametrize("path", sorted(EVERY_PATH))
def test_anonymous_callers_get_401_everywhere(path: str):
    operations = schema()["paths"][path]
    concrete = re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)
    client = Client(enforce_csrf_checks=True)
    for method in operations:
        response = getattr(client, method)(concrete, content_type="application/json")
        assert response.status_code == 401, (method, path)
        assert response.json() == {"detail": "Sign in or send an API token."}


def test_signed_in_person_creates_a_token_and_uses_it(person):
    response = post_json(signed_in(person), "/tokens", {"name": "laptop"})
    assert response.status_code == 201
    created = response.json()
    secret = created["secret"]
    token = ApiToken.objects.get(id=created["id"])
    assert token.user_id == person.id
    assert token.key_hash != secret
    me = Client().get(f"{API}/users/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json()["id"] == str(person.id)
    listed = Client().get(f"{API}/tokens", headers=bearer(secret)).json()
    assert listed["count"] == 1
    assert listed["items"][0]["name"] == "laptop"
    assert secret not in json.dumps(listed)
    assert "key_hash" not in json.dumps(listed)


def test_a_token_cannot_create_tokens(person):
    secret = services.create_api_token(user=person, name="script")
    response = post_json(Client(), "/tokens", {"name": "more"}, **bearer(secret))
    assert response.status_code == 401
    assert ApiToken.objects.filter(user=person).count() == 1


def test_creating_a_token_needs_the_csrf_token(person):
    client = signed_in(person, csrf=True)
    assert post_json(client, "/tokens", {"name": "laptop"}).status_code == 403
    assert not ApiToken.objects.exists()
    client.cookies["csrftoken"] = "b" * 32
    response = post_json(client, "/tokens", {"name": "laptop"}, **{"X-CSRFToken": "b" * 32})
    assert response.status_code == 201


def test_token_name_is_required(person):
    response = post_json(signed_in(person), "/tokens", {"name": ""})
    assert response.status_code == 400
    assert response.json()["detail"] == "The request is not valid."
    assert response.json()["problems"]


def test_deleting_a_token_revokes_it(person):
    secret = services.create_api_token(user=person, name="script")
    token_id = ApiToken.objects.get(user=person).id
    client = signed_in(person, csrf=True)
    response = client.delete(f"{API}/tokens/{token_id}", headers=bearer(secret))
    assert response.status_code == 204
    assert Client().get(f"{API}/users/me", headers=bearer(secret)).status_code == 401
    assert Client().delete(f"{API}/tokens/{token_id}", headers=bearer(secret)).status_code == 401
    # With a session but a dead token, the session is used and must carry its CSRF token.
    assert client.delete(f"{API}/tokens/{token_id}", headers=bearer(secret)).status_code == 403
    again = signed_in(person).delete(f"{API}/tokens/{token_id}")
    assert again.status_code == 404


def test_someone_elses_token_is_not_found(person):
    other = services.create_user(
        username="national", full_name="Rustam Nazarov", school_id=None, password="long-secret-2"
    )
    services.create_api_token(user=other, name="theirs")
    token_id = ApiToken.objects.get(user=other).id
    response = signed_in(person).delete(f"{API}/tokens/{token_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert ApiToken.objects.filter(id=token_id).exists()


def test_deactivated_person_is_refused_by_token_and_session(person):
    secret = services.create_api_token(user=person, name="script")
    client = signed_in(person)
    assert client.get(f"{API}/users/me").status_code == 200
    services.deactivate_user(user=person)
    assert Client().get(f"{API}/users/me", headers=bearer(secret)).status_code == 401
    assert client.get(f"{API}/users/me").status_code == 401


def test_wrong_or_malformed_bearer_is_refused(person):
    services.create_api_token(user=person, name="script")
    for value in ["Bearer nope", "Bearer ", "Token abc", "Basic Zm9vOmJhcg=="]:
        response = Client().get(f"{API}/users/me", headers={"Authorization": value})
        assert response.status_code == 401, value


def test_list_tokens_queries_do_not_grow(person, django_assert_max_num_queries):
    client = signed_in(person)
    counts = []
    for total in (5, 50):
        while ApiToken.objects.filter(user=person).count() < total:
            services.create_api_token(user=person, name="t")
        with django_assert_max_num_queries(6) as captured:
            body = client.get(f"{API}/tokens?limit=500").json()
        assert body["count"] == total
        counts.append(len(captured))
    assert counts[0] == counts[1]
