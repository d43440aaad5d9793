"""`kalan sync status`: records, positions and a digest that only the data decides."""

import json
from pathlib import Path

import pytest

from kalan.core.stamps import instance_id
from kalan.schools.models import Classroom
from kalan.schools.tests.factories import make_person, make_school
from kalan.sync.status import scope_status, status
from tests.support import run_kalan


@pytest.mark.django_db
def test_the_digest_follows_the_data_not_the_clocks() -> None:
    school = make_school()
    make_person(school=school)
    room = Classroom.objects.create(school=school, name="CM1")
    scope = str(school.pk)
    first = scope_status(scope)
    assert first["records"] == {
        "schools.school": 1,
        "accounts.user": 1,
        "schools.schoolrole": 1,
        "schools.classroom": 1,
    }
    assert first["positions"][str(instance_id())] >= 0
    room.save()  # a new clock, the same data
    assert scope_status(scope)["digest"] == first["digest"]
    room.name = "CM2"
    room.save()
    changed = scope_status(scope)["digest"]
    assert changed != first["digest"]
    room.name = "CM1"
    room.save()
    assert scope_status(scope)["digest"] == first["digest"]
    assert scope in status()["scopes"]


def test_kalan_sync_status_json(tmp_path: Path) -> None:
    home = tmp_path / "home"
    password = tmp_path / "password"
    password.write_text("a-long-test-password\n")
    made = run_kalan(
        ["setup", "--school", "Ecole de Bla", "--admin", "head", "--password-file", str(password)],
        home,
    )
    assert made.returncode == 0, made.stderr
    done = run_kalan(["sync", "status", "--json"], home)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["scopes"]["national"]["records"] == {}  # no admin areas, no national staff
    (school,) = [seen for scope, seen in found["scopes"].items() if scope != "national"]
    assert school["records"]["schools.school"] == 1
    assert school["records"]["accounts.user"] == 1
    assert found["instance"] in school["positions"]
    assert len(school["digest"]) == 64
    again = run_kalan(["sync", "status", "--json"], home)
    assert json.loads(again.stdout) == found


@pytest.mark.django_db
def test_people_of_no_school_are_in_the_national_scope_as_the_feed_sends_them() -> None:
    from kalan.accounts.models import User
    from kalan.sync import feed
    from kalan.sync.seal import seal

    national = User.objects.create_user(username="minister", password="a-long-test-password")
    seal()
    assert [r.record_id for r in feed.records(feed.NATIONAL, {})] == [str(national.pk)]
    assert scope_status(feed.NATIONAL)["records"] == {"accounts.user": 1}
