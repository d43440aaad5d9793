"""The JSON API of schools, people, classes and memberships, over HTTP.

Who may read and change what: every endpoint is tried by every kind of caller
against the other school, and the database is compared before and after.
"""

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from kalan.accounts import directory
from kalan.accounts import services as accounts
from kalan.accounts.models import ApiToken, User
from kalan.schools import services
from kalan.schools.models import (
    Classroom,
    Enrolment,
    GroupMembership,
    GuardianLink,
    LearnerGroup,
    School,
    SchoolRole,
)
from kalan.schools.tests import factories
from kalan.schools.tests.factories import World, world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

API = "/api/v1"


def call(
    client: Client,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    if data is None:
        return getattr(client, method)(f"{API}{path}", headers=headers)
    return getattr(client, method)(
        f"{API}{path}", data=data, content_type="application/json", headers=headers
    )


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the API writes, with its clock stamp (changes on every save)."""
    tables: dict[str, list[tuple[Any, ...]]] = {
        model.__name__: sorted(model.objects.values_list("id", "hlc"))
        for model in (
            User,
            School,
            Classroom,
            Enrolment,
            SchoolRole,
            LearnerGroup,
            GroupMembership,
            GuardianLink,
        )
    }
    tables["ApiToken"] = sorted(ApiToken.objects.values_list("id", "name"))
    return tables


def fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


def ids_of(side: factories.SchoolSide) -> dict[str, str]:
    return {
        "school": str(side.school.id),
        "learner": str(side.learners[0].id),
        "learner2": str(side.learners[1].id),
        "other_learner": str(side.other_learner.id),
        "parent": str(side.parent.id),
        "teacher": str(side.teacher.id),
        "classroom": str(side.classroom.id),
        "group": str(side.group.id),
        "enrolment": str(side.enrolment.id),
        "role": str(side.learner_role.id),
        "link": str(side.link.id),
    }


# (name, method, path, body, status when a school admin of that school does it)
WRITES = [
    ("user-create", "post", "/users", {
        "school_id": "{school}", "username": "newcomer", "full_name": "New Comer",
        "roles": ["learner"],
    }, 201),
    ("user-patch", "patch", "/users/{learner}", {"full_name": "Renamed"}, 200),
    ("user-deactivate", "post", "/users/{learner}/deactivate", None, 200),
    ("user-reactivate", "post", "/users/{learner}/reactivate", None, 200),
    ("user-delete", "delete", "/users/{learner2}", None, 204),
    ("school-patch", "patch", "/schools/{school}", {"name": "Renamed"}, 200),
    ("school-close", "post", "/schools/{school}/close", {"reason": "Flood"}, 200),
    ("school-reopen", "post", "/schools/{school}/reopen", None, 200),
    ("class-create", "post", "/classes", {"school_id": "{school}", "name": "New class"}, 201),
    ("class-patch", "patch", "/classes/{classroom}", {"grade": "3"}, 200),
    ("class-deactivate", "post", "/classes/{classroom}/deactivate", None, 200),
    ("enrolment-create", "post", "/enrolments", {
        "class_id": "{classroom}", "user_id": "{other_learner}", "kind": "learner",
    }, 201),
    ("enrolment-delete", "delete", "/enrolments/{enrolment}", None, 204),
    ("role-create", "post", "/roles", {
        "school_id": "{school}", "user_id": "{learner}", "kind": "teacher",
    }, 201),
    ("role-delete", "delete", "/roles/{role}", None, 204),
    ("group-create", "post", "/groups", {"class_id": "{classroom}", "name": "New group"}, 201),
    ("group-rename", "patch", "/groups/{group}", {"name": "Renamed"}, 200),
    ("group-delete", "delete", "/groups/{group}", None, 204),
    ("member-add", "post", "/groups/{group}/members", {"user_id": "{learner2}"}, 201),
    ("member-remove", "delete", "/groups/{group}/members/{learner}", None, 204),
    ("link-create", "post", "/guardian-links", {
        "school_id": "{school}", "guardian_id": "{parent}", "child_id": "{learner2}",
    }, 201),
    ("link-delete", "delete", "/guardian-links/{link}", None, 204),
]  # fmt: skip
READS = [
    "/users/{learner}",
    "/users/{teacher}",
    "/schools/{school}",
    "/classes/{classroom}",
    "/groups/{group}/members",
]
LISTS = ["/users", "/schools", "/classes", "/enrolments", "/roles", "/groups", "/guardian-links"]
ROLE_NAMES = ["admin", "teacher", "learner", "parent"]


def items(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    return list(body["items"])


def all_ids(rows: list[dict[str, Any]]) -> set[str]:
    """Every id-like value in the rows (ids of the rows and of what they point to)."""
    return {str(v) for row in rows for k, v in row.items() if k == "id" or k.endswith("_id")}


def side_ids(side: factories.SchoolSide) -> set[str]:
    people = [side.admin, side.teacher, *side.learners, side.other_learner, side.parent]
    things = [side.school, side.classroom, side.other_classroom, side.group, side.enrolment]
    return {str(x.id) for x in [*people, *things, side.link, side.learner_role]}


# ---------------------------------------------------------------- another school


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize(("name", "method", "path", "body", "ok"), WRITES)
def test_nobody_of_school_b_changes_anything_of_school_a(
    world: World, role: str, name: str, method: str, path: str, body: Any, ok: int
):
    client = as_user(getattr(world.b, role))
    before = snapshot()
    response = call(client, method, fill(path, ids_of(world.a)), fill(body, ids_of(world.a)))
    assert response.status_code == 404, (name, response.content)
    assert snapshot() == before


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("path", READS)
def test_nobody_of_school_b_reads_anything_of_school_a(world: World, role: str, path: str):
    response = call(as_user(getattr(world.b, role)), "get", fill(path, ids_of(world.a)))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("path", LISTS)
def test_lists_of_school_b_people_show_nothing_of_school_a(world: World, role: str, path: str):
    client = as_user(getattr(world.b, role))
    rows = items(call(client, "get", f"{path}?limit=500"))
    assert not all_ids(rows) & (side_ids(world.a) - {str(world.a.school.id)})
    assert str(world.a.school.id) not in all_ids(rows)
    if path != "/schools":
        assert items(call(client, "get", f"{path}?school={world.a.school.id}")) == []


def test_users_filtered_by_another_schools_class_find_nobody(world: World):
    client = as_user(world.b.admin)
    assert items(call(client, "get", f"/users?class={world.a.classroom.id}")) == []


# ---------------------------------------------------------------- the school's admin


@pytest.mark.parametrize(("name", "method", "path", "body", "ok"), WRITES)
def test_school_admin_can_do_every_write_in_their_school(
    world: World, name: str, method: str, path: str, body: Any, ok: int
):
    admin = as_user(world.a.admin)
    before = snapshot()
    response = call(admin, method, fill(path, ids_of(world.a)), fill(body, ids_of(world.a)))
    assert response.status_code == ok, (name, response.content)
    assert snapshot() != before


def test_school_admin_sees_everyone_of_their_school_and_nobody_else(world: World):
    rows = items(call(as_user(world.a.admin), "get", "/users?limit=500"))
    people = [world.a.admin, world.a.teacher, *world.a.learners, world.a.other_learner]
    assert {row["id"] for row in rows} == {str(p.id) for p in [*people, world.a.parent]}


def test_user_detail_never_shows_a_password_hash(world: World):
    response = call(as_user(world.a.admin), "get", f"/users/{world.a.learner.id}")
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "full_name",
        "school_id",
        "language",
        "is_active",
        "roles",
    }
    assert body["id"] == str(world.a.learner.id)
    assert body["roles"] == [{"school_id": str(world.a.school.id), "kind": "learner"}]
    assert "password" not in response.content.decode()


def test_create_user_with_password_lets_them_sign_in_by_token(world: World):
    client = as_user(world.a.admin)
    body = {
        "school_id": str(world.a.school.id),
        "username": "Moussa",
        "full_name": "Moussa Traoré",
        "roles": ["teacher", "learner"],
        "password": "a-long-enough-secret",
    }
    response = call(client, "post", "/users", body)
    assert response.status_code == 201
    created = User.objects.get(id=response.json()["id"])
    assert created.username == "moussa"
    assert created.check_password("a-long-enough-secret")
    assert {r["kind"] for r in response.json()["roles"]} == {"teacher", "learner"}


def test_refused_input_answers_400_with_every_problem(world: World):
    client = as_user(world.a.admin)
    body = {
        "school_id": str(world.a.school.id),
        "username": world.a.teacher.username,
        "full_name": "Twin",
        "roles": ["learner"],
    }
    response = call(client, "post", "/users", body)
    assert response.status_code == 400
    assert response.json()["detail"] == "This username is already taken in this school."
    assert response.json()["problems"]
    weak = call(client, "patch", f"/users/{world.a.learner.id}", {"password": "123"})
    assert weak.status_code == 400
    assert len(weak.json()["problems"]) >= 1
    malformed = call(client, "post", "/classes", {"school_id": "not-a-uuid"})
    assert malformed.status_code == 400
    assert any("school_id" in p for p in malformed.json()["problems"])
    assert any("name" in p for p in malformed.json()["problems"])


def test_unknown_role_is_refused(world: World):
    client = as_user(world.a.admin)
    body = {"school_id": str(world.a.school.id), "user_id": str(world.a.learner.id)}
    assert call(client, "post", "/roles", {**body, "kind": "king"}).status_code == 400
    assert call(client, "get", "/users?role=king").status_code == 400


def test_delete_person_with_learning_records_is_refused_with_409(world, monkeypatch):
    learner = world.a.learner
    monkeypatch.setattr(directory, "_record_checks", [lambda user_id: user_id == learner.id])
    admin = as_user(world.a.admin)
    before = snapshot()
    response = call(admin, "delete", f"/users/{learner.id}")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "This person has learning records: deactivate them instead."
    )
    assert snapshot() == before


def test_admin_cannot_deactivate_or_delete_themselves(world: World):
    client = as_user(world.a.admin)
    assert call(client, "post", f"/users/{world.a.admin.id}/deactivate").status_code == 400
    assert call(client, "delete", f"/users/{world.a.admin.id}").status_code == 400
    assert User.objects.get(id=world.a.admin.id).is_active


def test_people_of_another_school_cannot_be_enrolled_linked_or_given_roles(world: World):
    client = as_user(world.superuser)
    a = ids_of(world.a)
    stranger = str(world.b.learner.id)
    cases = [
        ("/enrolments", {"class_id": a["classroom"], "user_id": stranger, "kind": "learner"}),
        ("/roles", {"school_id": a["school"], "user_id": stranger, "kind": "learner"}),
        (
            "/guardian-links",
            {"school_id": a["school"], "guardian_id": a["parent"], "child_id": stranger},
        ),
    ]
    before = snapshot()
    for path, body in cases:
        response = call(client, "post", path, body)
        assert response.status_code == 400, path
        assert response.json()["detail"] == "This person belongs to another school."
    assert snapshot() == before


def test_only_superusers_create_schools_or_move_them(world: World):
    body = {"name": "Delta", "code": "D-1", "area_id": str(world.district.id)}
    admin = as_user(world.a.admin)
    before = snapshot()
    assert call(admin, "post", "/schools", body).status_code == 403
    move = {"area_id": str(world.outside.school.area_id)}
    path = f"/schools/{world.a.school.id}"
    assert call(admin, "patch", path, move).status_code == 403
    assert snapshot() == before
    created = call(as_user(world.superuser), "post", "/schools", body)
    assert created.status_code == 201
    assert created.json()["area_name"] == "Ansongo"
    moved = call(as_user(world.superuser), "patch", path, move)
    assert moved.json()["area_name"] == "Bourem"


def test_close_and_reopen_a_school(world: World):
    client = as_user(world.a.admin)
    path = f"/schools/{world.a.school.id}"
    closed = call(client, "post", f"{path}/close", {"reason": "Flood", "closed_on": "2026-03-01"})
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_on"] == "2026-03-01"
    assert call(client, "post", f"{path}/close", {"reason": " "}).status_code == 400
    assert call(client, "post", f"{path}/reopen").json()["status"] == "open"
    assert items(call(client, "get", "/schools?status=open"))[0]["id"] == str(world.a.school.id)


def test_class_patch_keeps_what_is_not_given(world: World):
    client = as_user(world.a.admin)
    response = call(client, "patch", f"/classes/{world.a.classroom.id}", {"grade": "4"})
    assert response.json()["name"] == "Alpha class"
    assert response.json()["grade"] == "4"
    off = call(client, "post", f"/classes/{world.a.classroom.id}/deactivate")
    assert off.json()["is_active"] is False
    inactive = items(call(client, "get", "/classes?active=false"))
    assert [row["id"] for row in inactive] == [str(world.a.classroom.id)]


# ---------------------------------------------------------------- teachers


def test_teacher_sees_their_classes_learners_and_not_the_others(world: World):
    client = as_user(world.a.teacher)
    users = {row["id"] for row in items(call(client, "get", "/users"))}
    assert users == {str(world.a.teacher.id), *(str(x.id) for x in world.a.learners)}
    assert call(client, "get", f"/users/{world.a.other_learner.id}").status_code == 404
    assert call(client, "get", f"/users/{world.a.parent.id}").status_code == 404


def test_teacher_reads_their_school_but_cannot_change_it(world: World):
    client = as_user(world.a.teacher)
    before = snapshot()
    assert call(client, "get", f"/schools/{world.a.school.id}").status_code == 200
    assert call(client, "patch", f"/schools/{world.a.school.id}", {"name": "X"}).status_code == 403
    assert call(
        client, "patch", f"/users/{world.a.learner.id}", {"full_name": "X"}
    ).status_code == (403)
    assert snapshot() == before


def test_teacher_manages_groups_of_their_class(world: World):
    client = as_user(world.a.teacher)
    created = call(
        client, "post", "/groups", {"class_id": str(world.a.classroom.id), "name": "Red"}
    )
    assert created.status_code == 201
    group = created.json()["id"]
    added = call(client, "post", f"/groups/{group}/members", {"user_id": str(world.a.learner.id)})
    assert added.status_code == 201
    members = items(call(client, "get", f"/groups/{group}/members"))
    assert members == [{"user_id": str(world.a.learner.id), "full_name": world.a.learner.full_name}]
    other = {"class_id": str(world.a.other_classroom.id), "name": "Blue"}
    assert call(client, "post", "/groups", other).status_code == 404
    # Only learners of the class may join.
    stranger = {"user_id": str(world.a.teacher.id)}
    assert call(client, "post", f"/groups/{group}/members", stranger).status_code == 400


# ---------------------------------------------------------------- parents and learners


def test_parent_sees_only_themselves_and_their_children(world: World):
    client = as_user(world.a.parent)
    family = {str(world.a.parent.id), str(world.a.learner.id)}
    assert {row["id"] for row in items(call(client, "get", "/users"))} == family
    assert call(client, "get", f"/users/{world.a.learner.id}").status_code == 200
    for stranger in [world.a.learners[1], world.a.teacher, world.a.admin, world.a.other_learner]:
        assert call(client, "get", f"/users/{stranger.id}").status_code == 404
    child_classes = {str(world.a.classroom.id)}
    assert {row["id"] for row in items(call(client, "get", "/classes"))} == child_classes
    assert call(client, "get", f"/classes/{world.a.classroom.id}").status_code == 200
    assert call(client, "get", f"/classes/{world.a.other_classroom.id}").status_code == 404
    for path in ["/enrolments", "/roles"]:
        assert {row["user_id"] for row in items(call(client, "get", path))} <= family
    links = items(call(client, "get", "/guardian-links"))
    assert [row["id"] for row in links] == [str(world.a.link.id)]
    schools = items(call(client, "get", "/schools"))
    assert [row["id"] for row in schools] == [str(world.a.school.id)]


def test_learner_sees_only_themselves_and_their_classes(world: World):
    client = as_user(world.a.learner)
    assert [row["id"] for row in items(call(client, "get", "/users"))] == [str(world.a.learner.id)]
    assert call(client, "get", f"/users/{world.a.learners[1].id}").status_code == 404
    classes = items(call(client, "get", "/classes"))
    assert [row["id"] for row in classes] == [str(world.a.classroom.id)]
    enrolments = items(call(client, "get", "/enrolments"))
    assert {row["user_id"] for row in enrolments} == {str(world.a.learner.id)}
    members = items(call(client, "get", f"/groups/{world.a.group.id}/members"))
    assert [row["user_id"] for row in members] == [str(world.a.learner.id)]
    me = call(client, "get", "/users/me").json()
    assert me["id"] == str(world.a.learner.id)
    assert me["roles"] == [{"school_id": str(world.a.school.id), "kind": "learner"}]


@pytest.mark.parametrize("role", ["parent", "learner"])
@pytest.mark.parametrize(("name", "method", "path", "body", "ok"), WRITES)
def test_parents_and_learners_change_nothing_in_their_own_school(
    world: World, role: str, name: str, method: str, path: str, body: Any, ok: int
):
    client = as_user(getattr(world.a, role))
    before = snapshot()
    response = call(client, method, fill(path, ids_of(world.a)), fill(body, ids_of(world.a)))
    assert response.status_code in (403, 404), (name, response.content)
    assert snapshot() == before


# ---------------------------------------------------------------- area viewers


@pytest.mark.parametrize("path", READS)
def test_viewer_reads_schools_of_their_area(world: World, path: str):
    client = as_user(world.viewer)
    for side in (world.a, world.b):
        assert call(client, "get", fill(path, ids_of(side))).status_code == 200
    assert call(client, "get", fill(path, ids_of(world.outside))).status_code == 404


@pytest.mark.parametrize(("name", "method", "path", "body", "ok"), WRITES)
def test_viewer_cannot_write(world: World, name: str, method: str, path: str, body: Any, ok: int):
    client = as_user(world.viewer)
    before = snapshot()
    response = call(client, method, fill(path, ids_of(world.a)), fill(body, ids_of(world.a)))
    assert response.status_code == 403, (name, response.content)
    outside = call(
        client, method, fill(path, ids_of(world.outside)), fill(body, ids_of(world.outside))
    )
    assert outside.status_code == 404, (name, outside.content)
    assert snapshot() == before


@pytest.mark.parametrize("path", LISTS)
def test_viewer_lists_nothing_outside_their_area(world: World, path: str):
    rows = items(call(as_user(world.viewer), "get", f"{path}?limit=500"))
    assert rows
    assert not all_ids(rows) & side_ids(world.outside)
    assert all_ids(rows) & (side_ids(world.a) | {str(world.a.school.id)})


def test_viewer_cannot_create_a_school(world: World):
    body = {"name": "Echo", "code": "E-1"}
    assert call(as_user(world.viewer), "post", "/schools", body).status_code == 403
    assert not School.objects.filter(code="E-1").exists()


# ---------------------------------------------------------------- tokens and sessions


def test_bearer_token_reads_like_the_session(world: World):
    secret = accounts.create_api_token(user=world.a.teacher, name="tablet")
    by_token = items(call(Client(), "get", "/users", token=secret))
    by_session = items(call(as_user(world.a.teacher), "get", "/users"))
    assert by_token == by_session
    assert call(Client(), "get", f"/users/{world.b.learner.id}", token=secret).status_code == 404


def test_deactivated_persons_token_stops_working(world: World):
    secret = accounts.create_api_token(user=world.a.teacher, name="tablet")
    assert call(Client(), "get", "/users/me", token=secret).status_code == 200
    admin = as_user(world.a.admin)
    assert call(admin, "post", f"/users/{world.a.teacher.id}/deactivate").status_code == 200
    assert call(Client(), "get", "/users/me", token=secret).status_code == 401
    call(admin, "post", f"/users/{world.a.teacher.id}/reactivate")
    assert call(Client(), "get", "/users/me", token=secret).status_code == 401  # revoked for good


def test_inactive_persons_token_is_refused_even_if_not_revoked(world: World):
    secret = accounts.create_api_token(user=world.a.learner, name="phone")
    User.objects.filter(id=world.a.learner.id).update(is_active=False)
    assert call(Client(), "get", "/users/me", token=secret).status_code == 401


def test_session_writes_need_the_csrf_token(world: World):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.admin)
    body = {"school_id": str(world.a.school.id), "name": "Csrf class"}
    assert call(client, "post", "/classes", body).status_code == 403
    assert not Classroom.objects.filter(name="Csrf class").exists()
    client.cookies["csrftoken"] = "a" * 32
    response = client.post(
        f"{API}/classes",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": "a" * 32},
    )
    assert response.status_code == 201
    assert call(client, "get", "/classes").status_code == 200


def test_token_writes_need_no_csrf_token(world: World):
    secret = accounts.create_api_token(user=world.a.admin, name="script")
    client = Client(enforce_csrf_checks=True)
    body = {"school_id": str(world.a.school.id), "name": "Token class"}
    assert call(client, "post", "/classes", body, token=secret).status_code == 201


def test_tokens_of_others_cannot_be_deleted(world: World):
    accounts.create_api_token(user=world.a.admin, name="script")
    token_id = ApiToken.objects.get(user=world.a.admin).id
    for intruder in [world.b.admin, world.a.teacher, world.superuser]:
        assert call(as_user(intruder), "delete", f"/tokens/{token_id}").status_code == 404
    assert ApiToken.objects.filter(id=token_id).exists()


# ---------------------------------------------------------------- lists stay cheap


def _grow_users(world: World, n: int) -> str:
    factories.make_learners(school=world.a.school, count=n)
    return "/users"


def _grow_schools(world: World, n: int) -> str:
    for _ in range(n):
        factories.make_school(area=world.district)
    return "/schools"


def _grow_classes(world: World, n: int) -> str:
    for _ in range(n):
        factories.make_classroom(school=world.a.school)
    return "/classes"


def _grow_enrolments(world: World, n: int) -> str:
    factories.make_learners(school=world.a.school, count=n, classroom=world.a.classroom)
    return "/enrolments"


def _grow_roles(world: World, n: int) -> str:
    factories.make_learners(school=world.a.school, count=n)
    return "/roles"


def _grow_groups(world: World, n: int) -> str:
    for number in range(n):
        services.create_group(classroom=world.a.classroom, name=f"Group {n} {number}")
    return "/groups"


def _grow_members(world: World, n: int) -> str:
    for learner in factories.make_learners(
        school=world.a.school, count=n, classroom=world.a.classroom
    ):
        services.add_to_group(group=world.a.group, user=learner)
    return f"/groups/{world.a.group.id}/members"


def _grow_links(world: World, n: int) -> str:
    for learner in factories.make_learners(school=world.a.school, count=n):
        services.link_guardian(school=world.a.school, guardian=world.a.parent, child=learner)
    return "/guardian-links"


def _grow_tokens(world: World, n: int) -> str:
    for number in range(n):
        for user in (world.viewer, world.superuser):
            accounts.create_api_token(user=user, name=f"token {number}")
    return "/tokens"


GROWERS = [
    _grow_users,
    _grow_schools,
    _grow_classes,
    _grow_enrolments,
    _grow_roles,
    _grow_groups,
    _grow_members,
    _grow_links,
    _grow_tokens,
]
MAX_QUERIES = 12


@pytest.mark.parametrize("grow", GROWERS, ids=lambda grow: grow.__name__)
@pytest.mark.parametrize("caller", ["superuser", "viewer"])
def test_list_queries_do_not_grow_with_rows(
    world: World, grow: Any, caller: str, django_assert_max_num_queries: Any
):
    client = as_user(getattr(world, caller))
    counts = []
    for n in (5, 50):
        path = grow(world, n - (5 if n == 50 else 0))
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            rows = items(call(client, "get", f"{path}?limit=500"))
        assert len(rows) >= n
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_lists_are_paginated_and_ordered(world: World):
    client = as_user(world.a.admin)
    everyone = items(call(client, "get", "/users?limit=500"))
    names = [row["full_name"] for row in everyone]
    assert names == sorted(names)
    page = call(client, "get", "/users?limit=2&offset=1").json()
    assert page["count"] == len(everyone)
    assert page["items"] == everyone[1:3]
    assert call(client, "get", "/users?limit=0").status_code == 400
    factories.make_learners(school=world.a.school, count=500)
    assert len(call(client, "get", "/users?limit=1000").json()["items"]) == 500


def test_users_filters(world: World):
    client = as_user(world.a.admin)
    learners = items(call(client, "get", f"/users?role=learner&class={world.a.classroom.id}"))
    assert {row["id"] for row in learners} == {str(x.id) for x in world.a.learners}
    found = items(call(client, "get", f"/users?q={world.a.teacher.full_name.upper()}"))
    assert [row["id"] for row in found] == [str(world.a.teacher.id)]
    accounts.deactivate_user(user=world.a.other_learner)
    gone = items(call(client, "get", "/users?active=false"))
    assert [row["id"] for row in gone] == [str(world.a.other_learner.id)]
    teachers = items(call(client, "get", f"/users?school={world.a.school.id}&role=teacher"))
    assert [row["id"] for row in teachers] == [str(world.a.teacher.id)]


def test_ids_are_uuid_strings(world: World):
    rows = items(call(as_user(world.superuser), "get", "/enrolments"))
    for row in rows:
        for key in ("id", "school_id", "class_id", "user_id"):
            assert str(uuid.UUID(row[key])) == row[key]
