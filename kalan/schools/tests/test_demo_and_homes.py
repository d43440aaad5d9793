"""The demo school, each role's home page and young learners' sign-in by name."""

import hashlib

import pytest
from django.apps import apps
from django.core import serializers

from kalan.accounts.models import User
from kalan.schools import services
from kalan.schools.demo import create_demo
from kalan.schools.models import Classroom, School

pytestmark = pytest.mark.django_db


def digest_of_everything() -> str:
    """A digest of every row of every Kalan table, stamps and password hashes included."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in {"accounts", "schools", "core"}:
            rows = model._default_manager.order_by("pk")
            digest.update(serializers.serialize("json", rows).encode())
    return digest.hexdigest()


@pytest.fixture
def demo(db):
    assert create_demo() is True
    return School.objects.get(code="DEMO-001")


def test_demo_twice_changes_nothing(demo):
    before = digest_of_everything()
    assert create_demo() is False
    assert digest_of_everything() == before
    assert User.objects.filter(school_id=demo.id).count() == 43  # + the district viewer


def sign_in(client, username):
    client.force_login(User.objects.get(username=username))


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("head", "/manage/"),
        ("teacher", "/teach/"),
        ("learner01", "/learn/"),
        ("parent", "/family/"),
        ("district", "/area/"),
    ],
)
def test_root_sends_each_role_home(client, demo, username, home):
    sign_in(client, username)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == home
    assert client.get(home).status_code == 200


def test_teacher_home_lists_their_class_and_learners(client, demo, django_assert_max_num_queries):
    sign_in(client, "teacher")
    with django_assert_max_num_queries(8):
        html = client.get("/teach/").content.decode()
    assert "Grade 3 A" in html
    assert "40 learners" in html
    assert html.count("<tr>") == 41  # header + 40 learners


def test_learner_home_greets_and_lists_classes(client, demo, django_assert_num_queries):
    sign_in(client, "learner01")
    # session, user, classes with the school's name, recent progress (none yet)
    with django_assert_num_queries(4):
        html = client.get("/learn/").content.decode()
    assert "Hello, Aminata!" in html
    assert "Grade 3 A" in html
    assert "Demo School" in html


def test_learner_without_a_class_still_sees_their_school(client, demo):
    learner = User.objects.get(username="learner40")
    learner.enrolments.all().delete()
    client.force_login(learner)
    html = client.get("/learn/").content.decode()
    assert "Demo School" in html
    assert "You are not in a class yet." in html


def test_parent_sees_only_linked_children(client, demo):
    sign_in(client, "parent")
    html = client.get("/family/").content.decode()
    assert "Aminata Traoré" in html
    assert "Moussa Diarra" in html
    assert "Fatoumata" not in html


def test_role_pages_are_not_found_for_other_roles(client, demo):
    sign_in(client, "learner02")
    for path in ("/teach/", "/family/", "/area/"):
        assert client.get(path).status_code == 404


def test_area_viewer_sees_schools_of_the_area_with_counts(client, demo):
    sign_in(client, "district")
    html = client.get("/area/").content.decode()
    assert "Demo School" in html
    assert "<td>40</td>" in html


def test_young_learner_signs_in_by_picking_their_name(client, demo):
    classroom = Classroom.objects.get(school=demo, name="Grade 3 A")
    assert "Grade 3 A" in client.get(f"/signin/school/{demo.id}/").content.decode()
    names = client.get(f"/signin/class/{classroom.id}/").content.decode()
    assert "Aminata Traoré" in names
    assert "Ibrahim Maïga" not in names  # the teacher is not on the list
    learner = User.objects.get(username="learner01")
    response = client.post(f"/signin/class/{classroom.id}/go/", {"user": str(learner.id)})
    assert response["Location"] == "/learn/"
    assert client.session["_auth_user_id"] == str(learner.id)


def test_name_sign_in_refuses_teachers_and_schools_that_do_not_allow_it(client, demo):
    classroom = Classroom.objects.get(school=demo, name="Grade 3 A")
    teacher = User.objects.get(username="teacher")
    response = client.post(f"/signin/class/{classroom.id}/go/", {"user": str(teacher.id)})
    assert response.status_code == 404
    services.update_school(school=demo, passwordless_signin=False)
    assert client.get(f"/signin/school/{demo.id}/").status_code == 404
    learner = User.objects.get(username="learner01")
    response = client.post(f"/signin/class/{classroom.id}/go/", {"user": str(learner.id)})
    assert response.status_code == 404
    assert "_auth_user_id" not in client.session


def test_every_demo_learner_has_a_name_of_their_own(demo):
    names = list(
        User.objects.filter(school_roles__kind="learner", school_id=demo.id).values_list(
            "full_name", flat=True
        )
    )
    assert len(names) == 40
    assert len(set(names)) == 40
