"""The school admin pages under /manage/, through HTTP."""

import datetime
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from kalan.accounts import directory
from kalan.accounts.models import User
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
from kalan.schools.tests.manage_factories import (
    make_class,
    make_group,
    make_person,
    make_school,
    make_superuser,
)

pytestmark = pytest.mark.django_db


@dataclass
class World:
    school: School
    other: School
    admin: User
    other_admin: User
    teacher: User
    learner: User
    parent: User
    other_learner: User
    classroom: Classroom
    other_classroom: Classroom
    group: LearnerGroup
    other_group: LearnerGroup


@pytest.fixture
def world() -> World:
    school, other = make_school("Gao Primary"), make_school("Mopti Primary")
    admin = make_person(school, "admin", username="head", full_name="Awa Head")
    teacher = make_person(school, "teacher", full_name="Seydou Teacher")
    learner = make_person(school, "learner", full_name="Aminata Learner")
    parent = make_person(school, "parent", full_name="Moussa Parent")
    other_learner = make_person(other, "learner", full_name="Other Learner")
    classroom = make_class(school, "CM1", people=[learner])
    other_classroom = make_class(other, "CM2", people=[other_learner])
    return World(
        school=school,
        other=other,
        admin=admin,
        other_admin=make_person(other, "admin", full_name="Other Head"),
        teacher=teacher,
        learner=learner,
        parent=parent,
        other_learner=other_learner,
        classroom=classroom,
        other_classroom=other_classroom,
        group=make_group(classroom, "Readers", people=[learner]),
        other_group=make_group(other_classroom, "Writers", people=[other_learner]),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_urls(w: World) -> dict[str, str]:
    """One URL of every GET page, for the school of the world."""
    s, c, g = w.school.id, w.classroom.id, w.group.id
    return {
        "school": reverse("manage:school", args=[s]),
        "school-edit": reverse("manage:school-edit", args=[s]),
        "school-close": reverse("manage:school-close", args=[s]),
        "people": reverse("manage:people", args=[s]),
        "person-create": reverse("manage:person-create", args=[s]),
        "person": reverse("manage:person", args=[s, w.parent.id]),
        "person-deactivate": reverse("manage:person-deactivate", args=[s, w.learner.id]),
        "person-reactivate": reverse("manage:person-reactivate", args=[s, w.learner.id]),
        "person-delete": reverse("manage:person-delete", args=[s, w.learner.id]),
        "person-link-child": reverse("manage:person-link-child", args=[s, w.parent.id]),
        "classes": reverse("manage:classes", args=[s]),
        "class-create": reverse("manage:class-create", args=[s]),
        "class": reverse("manage:class", args=[s, c]),
        "class-edit": reverse("manage:class-edit", args=[s, c]),
        "class-enrol": reverse("manage:class-enrol", args=[s, c, "learner"]),
        "group": reverse("manage:group", args=[s, c, g]),
        "group-delete": reverse("manage:group-delete", args=[s, c, g]),
    }


PAGE_NAMES = [
    "school",
    "school-edit",
    "school-close",
    "people",
    "person-create",
    "person",
    "person-deactivate",
    "person-reactivate",
    "person-delete",
    "person-link-child",
    "classes",
    "class-create",
    "class",
    "class-edit",
    "class-enrol",
    "group",
    "group-delete",
]


def other_school_urls(w: World) -> list[str]:
    s, c, g = w.other.id, w.other_classroom.id, w.other_group.id
    return [
        reverse("manage:school", args=[s]),
        reverse("manage:school-edit", args=[s]),
        reverse("manage:people", args=[s]),
        reverse("manage:person", args=[s, w.other_learner.id]),
        reverse("manage:classes", args=[s]),
        reverse("manage:class", args=[s, c]),
        reverse("manage:class-enrol", args=[s, c, "learner"]),
        reverse("manage:group", args=[s, c, g]),
    ]


# ---------------------------------------------------------------- who may see what


def assert_manage_page(response, *, current: str | None = None) -> str:
    assert response.status_code == 200
    html: str = response.content.decode()
    assert re.search(r"<h1[^>]*>", html)
    assert 'aria-label="Main"' in html
    if current:
        assert re.search(rf'<a href="{re.escape(current)}" aria-current="page">', html)
    return html


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_renders_for_the_school_admin(world, name):
    html = assert_manage_page(signed_in(world.admin).get(page_urls(world)[name]))
    assert reverse("manage:people", args=[world.school.id]) in html
    assert reverse("manage:classes", args=[world.school.id]) in html


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_renders_for_a_superuser(world, name):
    assert_manage_page(signed_in(make_superuser()).get(page_urls(world)[name]))


@pytest.mark.parametrize(
    ("name", "current"), [("school", "school"), ("people", "people"), ("classes", "classes")]
)
def test_the_nav_marks_the_current_section_page(world, name, current):
    url = page_urls(world)[name]
    assert_manage_page(signed_in(world.admin).get(url), current=url)


def test_home_lists_only_the_schools_the_person_administers(world):
    html = assert_manage_page(signed_in(world.admin).get(reverse("manage:home")))
    assert reverse("manage:school", args=[world.school.id]) in html
    assert str(world.other.id) not in html
    everything = signed_in(make_superuser()).get(reverse("manage:home")).content.decode()
    assert "Gao Primary" in everything
    assert "Mopti Primary" in everything


def test_anonymous_people_are_sent_to_sign_in(world):
    response = Client().get(page_urls(world)["people"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


@pytest.mark.parametrize("who", ["teacher", "learner", "parent"])
def test_other_roles_get_404_everywhere(world, who):
    client = signed_in(getattr(world, who))
    assert client.get(reverse("manage:home")).status_code == 404
    for url in page_urls(world).values():
        assert client.get(url).status_code == 404, url


def test_admin_of_one_school_gets_404_on_another(world):
    client = signed_in(world.admin)
    for url in other_school_urls(world):
        assert client.get(url).status_code == 404, url


def test_ids_of_another_school_do_not_resolve_under_ones_own(world):
    client = signed_in(world.admin)
    s = world.school.id
    for url in [
        reverse("manage:person", args=[s, world.other_learner.id]),
        reverse("manage:class", args=[s, world.other_classroom.id]),
        reverse("manage:group", args=[s, world.classroom.id, world.other_group.id]),
        reverse("manage:group", args=[s, world.other_classroom.id, world.other_group.id]),
    ]:
        assert client.get(url).status_code == 404, url


def test_admin_of_one_school_cannot_change_another(world):
    client = signed_in(world.admin)
    s, c, g = world.other.id, world.other_classroom.id, world.other_group.id
    enrolment = Enrolment.objects.get(classroom=world.other_classroom, user=world.other_learner)
    posts = [
        (reverse("manage:school-edit", args=[s]), {"name": "Taken", "code": "X-1"}),
        (reverse("manage:school-close", args=[s]), {"reason": "War", "closed_on": "2024-01-01"}),
        (
            reverse("manage:person-create", args=[s]),
            {"username": "intruder", "full_name": "I", "roles": ["admin"]},
        ),
        (reverse("manage:person-deactivate", args=[s, world.other_learner.id]), {}),
        (reverse("manage:person-delete", args=[s, world.other_learner.id]), {}),
        (reverse("manage:class-create", args=[s]), {"name": "New"}),
        (reverse("manage:enrolment-remove", args=[s, c, enrolment.id]), {}),
        (reverse("manage:group-create", args=[s, c]), {"group-name": "New"}),
        (reverse("manage:group-delete", args=[s, c, g]), {}),
        (reverse("manage:group-remove", args=[s, c, g, world.other_learner.id]), {}),
        # Another school's learner through one's own school's URLs:
        (reverse("manage:person-deactivate", args=[world.school.id, world.other_learner.id]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    world.other.refresh_from_db()
    world.other_learner.refresh_from_db()
    assert world.other.name == "Mopti Primary"
    assert world.other.status == School.Status.OPEN
    assert world.other_learner.is_active
    assert not User.objects.filter(username="intruder").exists()
    assert Classroom.objects.filter(school=world.other).count() == 1
    assert Enrolment.objects.filter(id=enrolment.id).exists()
    assert GroupMembership.objects.filter(group=world.other_group).count() == 1
    assert LearnerGroup.objects.filter(school=world.other).count() == 1


# ---------------------------------------------------------------- the school


def test_admin_edits_the_school_settings(world):
    client = signed_in(world.admin)
    url = reverse("manage:school-edit", args=[world.school.id])
    response = client.post(
        url,
        {
            "name": "Gao Central",
            "code": "GAO-1",
            "government_id": "EMIS-77",
            "latitude": "16.2666",
            "longitude": "-0.0400",
            "language": "fr",
            "passwordless_signin": "on",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("manage:school", args=[world.school.id])
    assert "Gao Central" in response.content.decode()
    world.school.refresh_from_db()
    assert (world.school.name, world.school.code, world.school.language) == (
        "Gao Central",
        "GAO-1",
        "fr",
    )
    assert str(world.school.latitude) == "16.266600"
    assert world.school.passwordless_signin


def test_school_settings_errors_are_tied_to_their_fields(world):
    client = signed_in(world.admin)
    url = reverse("manage:school-edit", args=[world.school.id])
    response = client.post(url, {"name": "Gao", "code": world.other.code, "latitude": "91"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_code_error"' in html
    assert 'id="id_latitude_error"' in html
    assert 'aria-describedby="id_code_error"' in html
    assert 'role="alert"' in html
    world.school.refresh_from_db()
    assert world.school.name == "Gao Primary"


def test_admin_closes_and_reopens_the_school(world):
    client = signed_in(world.admin)
    close = reverse("manage:school-close", args=[world.school.id])
    assert client.post(close, {"reason": "", "closed_on": "2024-03-01"}).status_code == 200
    world.school.refresh_from_db()
    assert world.school.status == School.Status.OPEN

    response = client.post(close, {"reason": "Insecurity", "closed_on": "2024-03-01"})
    assert response.status_code == 302
    world.school.refresh_from_db()
    assert world.school.status == School.Status.CLOSED
    assert world.school.closed_reason == "Insecurity"
    assert world.school.closed_on == datetime.date(2024, 3, 1)
    overview = client.get(reverse("manage:school", args=[world.school.id])).content.decode()
    assert "Insecurity" in overview

    reopen = reverse("manage:school-reopen", args=[world.school.id])
    assert "Reopen the school" in client.get(reopen).content.decode()
    world.school.refresh_from_db()
    assert world.school.status == School.Status.CLOSED  # a GET only asks
    client.post(reopen)
    world.school.refresh_from_db()
    assert world.school.status == School.Status.OPEN
    assert world.school.closed_on is None


def test_overview_counts_people_and_classes(world):
    html = signed_in(world.admin).get(reverse("manage:school", args=[world.school.id]))
    text = html.content.decode()
    assert "4 active people" in text
    assert "1 active class" in text


# ---------------------------------------------------------------- people


def test_admin_creates_a_person_with_a_password(world):
    client = signed_in(world.admin)
    response = client.post(
        reverse("manage:person-create", args=[world.school.id]),
        {
            "full_name": "Fatoumata Keïta",
            "username": "Fatou",
            "roles": ["teacher", "parent"],
            "language": "bm",
            "password": "a-long-secret-9",
            "password_confirm": "a-long-secret-9",
        },
    )
    person = User.objects.get(school_id=world.school.id, username="fatou")
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:person", args=[world.school.id, person.id])
    assert person.check_password("a-long-secret-9")
    assert person.language == "bm"
    assert set(
        SchoolRole.objects.filter(user=person, school=world.school).values_list("kind", flat=True)
    ) == {"teacher", "parent"}
    followed = client.get(response["Location"]).content.decode()
    assert "Fatoumata Keïta was added." in followed


def test_a_person_without_password_cannot_use_one(world):
    signed_in(world.admin).post(
        reverse("manage:person-create", args=[world.school.id]),
        {"full_name": "Little One", "username": "little", "roles": ["learner"]},
    )
    assert not User.objects.get(username="little").has_usable_password()


def test_duplicate_username_is_a_field_error(world):
    response = signed_in(world.admin).post(
        reverse("manage:person-create", args=[world.school.id]),
        {"full_name": "Someone Else", "username": "HEAD", "roles": ["learner"]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_username_error"' in html
    assert "already taken in this school" in html
    assert User.objects.filter(school_id=world.school.id, username="head").count() == 1


def test_same_username_in_another_school_is_fine(world):
    signed_in(world.other_admin).post(
        reverse("manage:person-create", args=[world.other.id]),
        {"full_name": "Other Head Two", "username": "head", "roles": ["teacher"]},
    )
    assert User.objects.filter(username="head").count() == 2


@pytest.mark.parametrize(
    ("password", "confirm", "field"),
    [("a-long-secret-9", "different-9", "password_confirm"), ("short", "short", "password")],
)
def test_password_problems_are_field_errors(world, password, confirm, field):
    response = signed_in(world.admin).post(
        reverse("manage:person-create", args=[world.school.id]),
        {
            "full_name": "New",
            "username": "new",
            "roles": ["teacher"],
            "password": password,
            "password_confirm": confirm,
        },
    )
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not User.objects.filter(username="new").exists()


def test_roles_are_required(world):
    response = signed_in(world.admin).post(
        reverse("manage:person-create", args=[world.school.id]),
        {"full_name": "New", "username": "new"},
    )
    assert 'id="id_roles_error"' in response.content.decode()
    assert not User.objects.filter(username="new").exists()


def test_admin_edits_a_person_and_sets_a_new_password(world):
    client = signed_in(world.admin)
    url = reverse("manage:person", args=[world.school.id, world.teacher.id])
    assert 'value="Seydou Teacher"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "full_name": "Seydou Diarra",
            "username": "seydou",
            "roles": ["teacher", "admin"],
            "language": "fr",
            "password": "another-secret-5",
            "password_confirm": "another-secret-5",
        },
    )
    assert response.status_code == 302
    world.teacher.refresh_from_db()
    assert (world.teacher.full_name, world.teacher.username) == ("Seydou Diarra", "seydou")
    assert world.teacher.check_password("another-secret-5")
    assert set(SchoolRole.objects.filter(user=world.teacher).values_list("kind", flat=True)) == {
        "teacher",
        "admin",
    }


def test_editing_to_a_taken_username_is_a_field_error(world):
    url = reverse("manage:person", args=[world.school.id, world.teacher.id])
    response = signed_in(world.admin).post(
        url, {"full_name": "Seydou", "username": "head", "roles": ["teacher"]}
    )
    assert response.status_code == 200
    assert 'id="id_username_error"' in response.content.decode()
    world.teacher.refresh_from_db()
    assert world.teacher.username != "head"


def test_deactivate_asks_then_deactivates_and_reactivates(world):
    client = signed_in(world.admin)
    deactivate = reverse("manage:person-deactivate", args=[world.school.id, world.learner.id])
    html = client.get(deactivate).content.decode()
    assert "no longer be able to sign in" in html
    world.learner.refresh_from_db()
    assert world.learner.is_active

    done = client.post(deactivate, follow=True)
    assert "Aminata Learner was deactivated." in done.content.decode()
    world.learner.refresh_from_db()
    assert not world.learner.is_active
    assert world.learner.deactivated_at is not None

    people = reverse("manage:people", args=[world.school.id])
    assert "Aminata Learner" not in client.get(people).content.decode()
    assert "Aminata Learner" in client.get(people, {"status": "deactivated"}).content.decode()

    client.post(reverse("manage:person-reactivate", args=[world.school.id, world.learner.id]))
    world.learner.refresh_from_db()
    assert world.learner.is_active
    assert world.learner.deactivated_at is None


def test_an_admin_cannot_deactivate_themselves(world):
    client = signed_in(world.admin)
    url = reverse("manage:person-deactivate", args=[world.school.id, world.admin.id])
    assert "own account" in client.get(url).content.decode()
    client.post(url)
    world.admin.refresh_from_db()
    assert world.admin.is_active


def test_delete_a_person_without_learning_records(world):
    client = signed_in(world.admin)
    url = reverse("manage:person-delete", args=[world.school.id, world.parent.id])
    response = client.post(url)
    assert response["Location"] == reverse("manage:people", args=[world.school.id])
    assert not User.objects.filter(id=world.parent.id).exists()


def test_people_with_learning_records_can_only_be_deactivated(world, monkeypatch):
    monkeypatch.setattr(directory, "_record_checks", [lambda user_id: user_id == world.learner.id])
    client = signed_in(world.admin)
    url = reverse("manage:person-delete", args=[world.school.id, world.learner.id])
    html = client.get(url).content.decode()
    assert "has learning records" in html
    assert "Delete for good" not in html
    client.post(url)
    assert User.objects.filter(id=world.learner.id).exists()


def test_parents_are_linked_to_and_unlinked_from_children(world):
    client = signed_in(world.admin)
    person = reverse("manage:person", args=[world.school.id, world.parent.id])
    html = client.get(person).content.decode()
    assert "Aminata Learner" in html  # offered as a child
    assert "Other Learner" not in html

    link = reverse("manage:person-link-child", args=[world.school.id, world.parent.id])
    assert client.post(link, {"link-child": str(world.learner.id)}).status_code == 302
    assert GuardianLink.objects.filter(guardian=world.parent, child=world.learner).exists()

    refused = client.post(link, {"link-child": str(world.other_learner.id)})
    assert refused.status_code == 200
    assert 'id="id_link-child_error"' in refused.content.decode()
    assert not GuardianLink.objects.filter(child=world.other_learner).exists()

    unlink = reverse(
        "manage:person-unlink-child", args=[world.school.id, world.parent.id, world.learner.id]
    )
    client.post(unlink)
    assert not GuardianLink.objects.filter(guardian=world.parent).exists()


def test_people_list_filters(world):
    client = signed_in(world.admin)
    url = reverse("manage:people", args=[world.school.id])

    def names(**params: str) -> set[str]:
        html = client.get(url, params).content.decode()
        return set(re.findall(r'/people/[0-9a-f-]+/">([^<]+)</a>', html))

    assert names() == {"Awa Head", "Seydou Teacher", "Aminata Learner", "Moussa Parent"}
    assert names(role="teacher") == {"Seydou Teacher"}
    assert names(classroom=str(world.classroom.id)) == {"Aminata Learner"}
    assert names(q="moussa") == {"Moussa Parent"}
    assert names(q="HEAD") == {"Awa Head"}


def test_people_list_pages_by_fifty(world):
    for _i in range(56):
        make_person(world.school, "learner")
    client = signed_in(world.admin)
    url = reverse("manage:people", args=[world.school.id])
    first = client.get(url, {"role": "learner"}).content.decode()
    assert first.count("/people/") - first.count("/people/new/") >= 50
    assert "Page 1 of 2" in first
    assert "role=learner&amp;page=2" in first
    second = client.get(url, {"role": "learner", "page": "2"}).content.decode()
    assert "57 people" in second
    assert len(re.findall(r'/people/[0-9a-f-]+/">', second)) == 7


# ---------------------------------------------------------------- classes and groups


def test_admin_creates_and_edits_a_class(world):
    client = signed_in(world.admin)
    response = client.post(
        reverse("manage:class-create", args=[world.school.id]), {"name": "CE2", "grade": "3"}
    )
    classroom = Classroom.objects.get(school=world.school, name="CE2")
    assert response["Location"] == reverse("manage:class", args=[world.school.id, classroom.id])

    duplicate = client.post(reverse("manage:class-create", args=[world.school.id]), {"name": "CM1"})
    assert 'id="id_name_error"' in duplicate.content.decode()
    assert Classroom.objects.filter(school=world.school, name="CM1").count() == 1

    client.post(
        reverse("manage:class-edit", args=[world.school.id, classroom.id]),
        {"name": "CE2 A", "grade": "3"},
    )
    classroom.refresh_from_db()
    assert (classroom.name, classroom.is_active) == ("CE2 A", False)


def test_admin_enrols_several_learners_and_a_teacher_then_removes_one(world):
    client = signed_in(world.admin)
    extra = [make_person(world.school, "learner") for _i in range(3)]
    enrol = reverse("manage:class-enrol", args=[world.school.id, world.classroom.id, "learner"])
    html = client.get(enrol).content.decode()
    assert all(p.full_name in html for p in extra)
    assert "Seydou Teacher" not in html  # not a learner
    assert "Aminata Learner" not in html  # already in the class

    client.post(enrol, {"people": [str(p.id) for p in extra[:2]]})
    learners = set(
        Enrolment.objects.filter(classroom=world.classroom, kind="learner").values_list(
            "user_id", flat=True
        )
    )
    assert learners == {world.learner.id, extra[0].id, extra[1].id}

    teachers = reverse("manage:class-enrol", args=[world.school.id, world.classroom.id, "teacher"])
    client.post(teachers, {"people": [str(world.teacher.id)]})
    assert Enrolment.objects.filter(user=world.teacher, kind="teacher").exists()

    stranger = client.post(enrol, {"people": [str(world.other_learner.id)]})
    assert stranger.status_code == 200
    assert 'id="id_people_error"' in stranger.content.decode()
    assert not Enrolment.objects.filter(user=world.other_learner, classroom=world.classroom)

    enrolment = Enrolment.objects.get(classroom=world.classroom, user=world.learner)
    remove = reverse(
        "manage:enrolment-remove", args=[world.school.id, world.classroom.id, enrolment.id]
    )
    assert client.get(remove).status_code == 405
    client.post(remove)
    assert not Enrolment.objects.filter(id=enrolment.id).exists()
    assert not GroupMembership.objects.filter(user=world.learner).exists()


def test_unknown_enrolment_kind_is_404(world):
    url = reverse("manage:class-enrol", args=[world.school.id, world.classroom.id, "admin"])
    assert signed_in(world.admin).get(url).status_code == 404


def test_groups_are_created_renamed_filled_emptied_and_deleted(world):
    client = signed_in(world.admin)
    s, c = world.school.id, world.classroom.id
    second = make_person(world.school, "learner")
    make_class(world.school, "Other class", people=[make_person(world.school, "learner")])
    services.enrol(classroom=world.classroom, user=second, kind="learner")

    response = client.post(reverse("manage:group-create", args=[s, c]), {"group-name": "Maths"})
    group = LearnerGroup.objects.get(classroom=world.classroom, name="Maths")
    assert response["Location"] == reverse("manage:group", args=[s, c, group.id])

    duplicate = client.post(reverse("manage:group-create", args=[s, c]), {"group-name": "Readers"})
    assert 'id="id_group-name_error"' in duplicate.content.decode()

    client.post(reverse("manage:group", args=[s, c, group.id]), {"name": "Maths A"})
    group.refresh_from_db()
    assert group.name == "Maths A"

    add = reverse("manage:group-add", args=[s, c, group.id])
    client.post(add, {"add-people": [str(world.learner.id), str(second.id)]})
    assert set(GroupMembership.objects.filter(group=group).values_list("user_id", flat=True)) == {
        world.learner.id,
        second.id,
    }
    outsider = client.post(add, {"add-people": [str(world.teacher.id)]})
    assert 'id="id_add-people_error"' in outsider.content.decode()

    client.post(reverse("manage:group-remove", args=[s, c, group.id, second.id]))
    assert list(GroupMembership.objects.filter(group=group).values_list("user_id", flat=True)) == [
        world.learner.id
    ]

    delete = reverse("manage:group-delete", args=[s, c, group.id])
    client.get(delete)
    assert LearnerGroup.objects.filter(id=group.id).exists()
    client.post(delete)
    assert not LearnerGroup.objects.filter(id=group.id).exists()
    assert Enrolment.objects.filter(classroom=world.classroom, user=second).exists()


# ---------------------------------------------------------------- queries do not grow with rows


def _fill(world: World, n: int) -> None:
    extra_class = make_class(world.school, "Big class")
    group = make_group(extra_class, "Big group")
    for _i in range(n):
        person = make_person(world.school, "learner", "parent")
        services.enrol(classroom=extra_class, user=person, kind="learner")
        services.add_to_group(group=group, user=person)
        services.link_guardian(school=world.school, guardian=world.parent, child=person)


def _list_urls(world: World) -> list[tuple[str, int]]:
    """Each list page with the most queries it may make (a few to spare, never one a row)."""
    big = Classroom.objects.get(school=world.school, name="Big class")
    group = LearnerGroup.objects.get(classroom=big)
    s = world.school.id
    people = reverse("manage:people", args=[s])
    return [
        (people, 12),
        (people + f"?role=learner&classroom={big.id}&q=person&status=all", 12),
        (people + "?page=2", 12),
        (reverse("manage:classes", args=[s]), 9),
        (reverse("manage:class", args=[s, big.id]), 12),
        (reverse("manage:class-enrol", args=[s, world.classroom.id, "learner"]), 10),
        (reverse("manage:group", args=[s, big.id, group.id]), 13),
        (reverse("manage:person", args=[s, world.parent.id]), 13),
        (reverse("manage:school", args=[s]), 11),
        (reverse("manage:home"), 8),
    ]


@pytest.mark.parametrize("rows", [10, 60])
def test_list_pages_use_a_fixed_number_of_queries(world, rows, django_assert_max_num_queries):
    _fill(world, rows)
    for _i in range(rows // 10):
        make_class(world.school)
    client = signed_in(world.admin)
    for url, most in _list_urls(world):
        with django_assert_max_num_queries(most):
            response = client.get(url)
        assert response.status_code == 200, url
    html = client.get(_list_urls(world)[5][0]).content.decode()
    assert html.count('name="people"') == rows  # every new learner is offered


@pytest.mark.parametrize("schools", [2, 12])
def test_superuser_home_uses_a_fixed_number_of_queries(schools, django_assert_max_num_queries):
    for _i in range(schools):
        make_school()
    client = signed_in(make_superuser())
    with django_assert_max_num_queries(6):
        html = client.get(reverse("manage:home")).content.decode()
    assert html.count("/manage/") >= schools


def test_things_of_one_school_do_not_resolve_under_another_even_for_admins_of_both(world):
    services.grant_role(school=world.other, user=world.admin, kind="admin")
    for client in (signed_in(world.admin), signed_in(make_superuser())):
        s = world.school.id
        assert client.get(reverse("manage:school", args=[world.other.id])).status_code == 200
        for url in [
            reverse("manage:person", args=[s, world.other_learner.id]),
            reverse("manage:person-delete", args=[s, world.other_learner.id]),
            reverse("manage:class", args=[s, world.other_classroom.id]),
            reverse("manage:group", args=[s, world.classroom.id, world.other_group.id]),
        ]:
            assert client.get(url).status_code == 404, url
        enrolment = Enrolment.objects.get(user=world.other_learner)
        remove = reverse("manage:enrolment-remove", args=[s, world.classroom.id, enrolment.id])
        assert client.post(remove).status_code == 404
        assert Enrolment.objects.filter(id=enrolment.id).exists()
