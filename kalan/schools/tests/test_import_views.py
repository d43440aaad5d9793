"""The import and export pages, through HTTP, as school admins and others meet them."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kalan.accounts.models import User
from kalan.schools import services
from kalan.schools.models import Classroom, Enrolment
from kalan.schools.tests.test_oneroster import bundle, corpus_bundle, zipped
from kalan.schools.views import imports

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    "username,full_name,roles,password,language,class,guardian_of\r\n"
    "amina,Amina Traoré,learner,,fr,5A,\r\n"
    "awa,Awa Traoré,parent,,,,amina\r\n"
).encode()


@pytest.fixture
def world():
    gao = services.create_school(name="École de Gao", code="GAO-1")
    mopti = services.create_school(name="École de Mopti", code="MOPTI-1")
    people = {
        "head": services.create_person(
            school=gao, username="head", full_name="Head", roles=["admin"]
        ),
        "teacher": services.create_person(
            school=gao, username="teacher", full_name="Teacher", roles=["teacher"]
        ),
        "learner": services.create_person(
            school=gao, username="learner", full_name="Learner", roles=["learner"]
        ),
        "other_head": services.create_person(
            school=mopti, username="head", full_name="Other head", roles=["admin"]
        ),
        "root": User.objects.create_superuser("root", "a-long-root-secret", full_name="Root"),
    }
    return gao, mopti, people


def url(name, school):
    return reverse(f"imports:{name}", kwargs={"school_id": school.id})


def signed_in(client, user):
    client.force_login(user, backend="kalan.accounts.backends.SchoolUsernameBackend")
    return client


def upload(name, data, content_type="text/csv"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_only_the_school_admins_and_superusers_get_in(client, world):
    gao, mopti, people = world
    for name in ("home", "template", "export"):
        assert client.get(url(name, gao)).status_code == 302  # to sign in
    for who in ("teacher", "learner", "other_head"):
        signed_in(client, people[who])
        for name in ("home", "template", "export"):
            assert client.get(url(name, gao)).status_code == 404, (who, name)
        for name, field in (("people", "people_file"), ("oneroster", "bundle")):
            response = client.post(url(name, gao), {field: upload("f.csv", GOOD_CSV)})
            assert response.status_code == 404, (who, name)
    assert not User.objects.filter(username="amina").exists()
    for who in ("head", "root"):
        signed_in(client, people[who])
        assert client.get(url("home", gao)).status_code == 200
    assert client.get(reverse("imports:home", args=[people["head"].id])).status_code == 404
    signed_in(client, people["other_head"])
    assert client.get(url("home", mopti)).status_code == 200


def test_page_is_labelled_and_cheap(client, world, django_assert_max_num_queries):
    gao, _mopti, people = world
    signed_in(client, people["head"])
    with django_assert_max_num_queries(8):
        response = client.get(url("home", gao))
    page = response.content.decode()
    assert '<label for="id_people_file">' in page
    assert '<label for="id_bundle">' in page
    assert 'enctype="multipart/form-data"' in page
    assert url("template", gao) in page
    assert url("export", gao) in page


def test_good_csv_imports_and_says_so(client, world):
    gao, _mopti, people = world
    signed_in(client, people["head"])
    response = client.post(
        url("people", gao),
        {"people_file": upload("people.csv", GOOD_CSV), "on_existing": "refuse"},
        follow=True,
    )
    assert response.redirect_chain == [(url("home", gao), 302)]
    assert "2 people created" in response.content.decode()
    assert set(User.objects.filter(school_id=gao.id).values_list("username", flat=True)) >= {
        "amina",
        "awa",
    }
    assert Enrolment.objects.filter(classroom__name="5A", user__username="amina").exists()


def test_bad_csv_lists_every_problem_and_imports_nothing(client, world):
    gao, _mopti, people = world
    signed_in(client, people["head"])
    bad = GOOD_CSV + b"zed,,wizard,,,,\r\nhead,Again,learner,,,,\r\n"
    response = client.post(
        url("people", gao), {"people_file": upload("people.csv", bad), "on_existing": "refuse"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "the file has 3 problems" in page
    assert "line 4: the full name is missing" in page
    assert "line 4: unknown role &quot;wizard&quot;" in page
    assert "line 5: &quot;head&quot; is already a person of this school" in page
    assert not User.objects.filter(username="amina").exists()


def test_update_choice_and_size_limit(client, world, monkeypatch):
    gao, _mopti, people = world
    signed_in(client, people["head"])
    again = b"username,full_name,roles\r\nlearner,Learner Renamed,learner\r\n"
    response = client.post(
        url("people", gao), {"people_file": upload("p.csv", again), "on_existing": "update"}
    )
    assert response.status_code == 302
    assert User.objects.get(id=people["learner"].id).full_name == "Learner Renamed"
    monkeypatch.setattr(imports, "MAX_CSV_BYTES", 10)
    response = client.post(
        url("people", gao), {"people_file": upload("p.csv", again), "on_existing": "update"}
    )
    assert response.status_code == 400
    assert "The file is too large" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_bundle_imports_into_this_school(client, world):
    gao, _mopti, people = world
    signed_in(client, people["head"])
    data = zipped(bundle())
    response = client.post(
        url("oneroster", gao), {"bundle": upload("b.zip", data, "application/zip")}, follow=True
    )
    assert response.redirect_chain == [(url("home", gao), 302)]
    assert "people: 7 new" in response.content.decode()
    assert User.objects.filter(school_id=gao.id, username="firuza.saidova").exists()
    assert Classroom.objects.filter(school=gao, source_id="c-4").exists()


def test_real_bundle_zipped_imports(client, world):
    gao, _mopti, people = world
    path = corpus_bundle("catalyst-Test_full_data_set")
    data = zipped({f"bundle/{p.name}": p.read_bytes() for p in path.iterdir()})
    signed_in(client, people["root"])
    response = client.post(url("oneroster", gao), {"bundle": upload("b.zip", data)})
    assert response.status_code == 302
    assert User.objects.filter(school_id=gao.id).count() == 3 + 6


def test_bad_bundles_are_refused_with_their_problems(client, world):
    gao, _mopti, people = world
    signed_in(client, people["head"])
    response = client.post(url("oneroster", gao), {"bundle": upload("b.zip", b"not a zip")})
    assert response.status_code == 400
    assert "The file is not a .zip archive." in response.content.decode()
    traversal = zipped({"../manifest.csv": b"x"})
    response = client.post(url("oneroster", gao), {"bundle": upload("b.zip", traversal)})
    assert "path that is not allowed" in response.content.decode()
    files = bundle(manifest={"oneroster.version": "1.2"})
    response = client.post(url("oneroster", gao), {"bundle": upload("b.zip", zipped(files))})
    assert response.status_code == 400
    assert "manifest.csv line 3: oneroster.version is &quot;1.2&quot;" in response.content.decode()
    assert not User.objects.filter(username="firuza.saidova").exists()


def test_export_and_template_download(client, world, django_assert_max_num_queries):
    gao, _mopti, people = world
    services.create_person(school=gao, username="x", full_name="Gone", roles=["learner"])
    User.objects.filter(username="x").update(is_active=False)
    signed_in(client, people["head"])
    with django_assert_max_num_queries(10):
        response = client.get(url("export", gao))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="people-GAO-1.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[:3] for row in rows] == [
        ["username", "full_name", "roles"],
        ["head", "Head", "admin"],
        ["learner", "Learner", "learner"],
        ["teacher", "Teacher", "teacher"],
    ]
    template = client.get(url("template", gao))
    assert template["Content-Disposition"] == 'attachment; filename="people-template.csv"'
    response = client.post(
        url("people", gao), {"people_file": upload("t.csv", template.content)}, follow=True
    )
    assert "3 people created" in response.content.decode()
