"""People in and out of CSV: every bad row named, nothing half-imported, round trips."""

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalan.accounts.models import User
from kalan.core.errors import ValidationFailed
from kalan.schools import services
from kalan.schools.models import Classroom, Enrolment, GuardianLink, SchoolRole
from kalan.schools.roster_csv import export_users_csv, import_users_csv, template_csv

pytestmark = pytest.mark.django_db

HEADER = "username,full_name,roles,password,language,class,guardian_of\n"
GOOD = (
    HEADER
    + "amina,Amina Traoré,learner,,fr,5A,\n"
    + "moussa,Moussa Diarra,teacher;admin,a-long-secret,,5A;6B,\n"
    + "awa,Awa Traoré,parent,,bm,,amina\n"
)


@pytest.fixture
def school():
    return services.create_school(name="École de Gao", code="GAO-1")


@pytest.fixture
def other_school():
    return services.create_school(name="École de Mopti", code="MOPTI-1")


def people(school):
    return {u.username: u for u in User.objects.filter(school_id=school.id).order_by("username")}


def roles(school, username):
    return set(
        SchoolRole.objects.filter(school=school, user__username=username).values_list(
            "kind", flat=True
        )
    )


def refused(school, text, **kwargs):
    with pytest.raises(ValidationFailed) as caught:
        import_users_csv(school=school, file=text, **kwargs)
    return caught.value.problems


def test_imports_people_roles_classes_and_children(school):
    report = import_users_csv(school=school, file=GOOD)
    assert (report.created, report.updated, report.skipped) == (3, 0, 0)
    assert (report.classes_created, report.enrolments_created, report.guardian_links_created) == (
        2,
        3,
        1,
    )
    found = people(school)
    assert found["amina"].full_name == "Amina Traoré"
    assert found["amina"].language == "fr"
    assert not found["amina"].has_usable_password()
    assert found["moussa"].check_password("a-long-secret")
    assert roles(school, "moussa") == {"teacher", "admin"}
    assert roles(school, "awa") == {"parent"}
    assert set(
        Enrolment.objects.filter(school=school).values_list(
            "user__username", "classroom__name", "kind"
        )
    ) == {("amina", "5A", "learner"), ("moussa", "5A", "teacher"), ("moussa", "6B", "teacher")}
    assert GuardianLink.objects.get().child == found["amina"]


def test_accepts_bom_semicolons_and_role_alias(school):
    text = '\ufeffusername;full_name;role\r\nzarina;Zarina Karimova;"student;teacher"\r\n'
    import_users_csv(school=school, file=text.encode("utf-8"))
    assert roles(school, "zarina") == {"learner", "teacher"}


def test_every_bad_row_is_named_and_nothing_is_imported(school):
    services.create_person(school=school, username="taken", full_name="T", roles=["learner"])
    text = (
        HEADER
        + "ok,Fine Person,learner,,,,\n"  # line 2
        + "bad1,Someone,wizard,,,,\n"  # 3 unknown role
        + "bad2,,learner,,,,\n"  # 4 missing name
        + "ok,Again,learner,,,,\n"  # 5 duplicate in file
        + "Taken,Already,learner,,,,\n"  # 6 already in the school
        + "bad3,Someone,learner,,xx,,\n"  # 7 bad language
        + "bad4,Someone,learner,short,,,\n"  # 8 password too short
        + "bad5,Someone,parent,,,,nobody\n"  # 9 unknown child
        + "bad name,Someone,learner,,,,\n"  # 10 bad username
        + "bad6,Someone,parent,,,5A,\n"  # 11 class for a parent
        + "bad7,Someone,learner,,,,ok\n"  # 12 guardian_of without parent role
        + "bad8,Someone,,,,,\n"  # 13 no role
    )
    problems = refused(school, text)
    by_line = {int(p.split(":")[0].removeprefix("line ")) for p in problems}
    assert by_line == set(range(3, 14))
    joined = "\n".join(problems)
    for reason in (
        'line 3: unknown role "wizard"',
        "line 4: the full name is missing",
        'line 5: the username "ok" is already on line 2',
        'line 6: "taken" is already a person of this school',
        'line 7: unknown language "xx"',
        "line 8: password refused: This password is too short",
        'line 9: unknown child "nobody"',
        'line 10: the username "bad name" may only hold',
        "line 11: a class is given but the person is neither learner nor teacher",
        "line 12: guardian_of is given but the roles do not include parent",
        "line 13: the role is missing",
    ):
        assert reason in joined
    assert set(people(school)) == {"taken"}
    assert not Classroom.objects.exists()


def test_header_problems_are_reported_on_line_one(school):
    problems = refused(school, "username,fullname,roles\nx,y,learner\n")
    assert problems == [
        'line 1: unknown column "fullname"',
        'line 1: the column "full_name" is missing',
    ]


def test_extra_cells_empty_file_and_non_utf8(school):
    assert refused(school, HEADER + "a,A,learner,,,,,surplus\n") == [
        "line 2: the row has 8 cells but the header has 7"
    ]
    assert refused(school, "") == ["line 1: the file is empty"]
    assert refused(school, HEADER) == ["line 2: the file has no people, only a header"]
    latin1 = (HEADER + "a,A,learner,,,,\nb,Bé,learner,,,,\n").encode("latin-1")
    assert refused(school, latin1) == ["line 3: the file is not UTF-8 text"]


def test_line_numbers_count_quoted_line_breaks(school):
    text = HEADER + 'a,"Two\nlines",learner,,,,\nb,B,nobody,,,,\n'
    assert refused(school, text) == ['line 4: unknown role "nobody"']


def test_update_and_skip_people_already_there(school):
    import_users_csv(school=school, file=GOOD)
    again = HEADER + "amina,Amina T.,learner;teacher,,,,\nmoussa,Moussa Diarra,teacher,,,,\n"
    report = import_users_csv(school=school, file=again, on_existing="skip")
    assert (report.created, report.updated, report.skipped) == (0, 0, 2)
    assert people(school)["amina"].full_name == "Amina Traoré"
    report = import_users_csv(school=school, file=again, on_existing="update")
    assert (report.created, report.updated, report.skipped) == (0, 1, 1)
    assert people(school)["amina"].full_name == "Amina T."
    assert roles(school, "amina") == {"learner", "teacher"}
    assert roles(school, "moussa") == {"teacher", "admin"}  # roles are never taken away


def stamps():
    return {
        model.__name__: sorted(model.objects.values_list("id", "hlc"))
        for model in (User, SchoolRole, Classroom, Enrolment, GuardianLink)
    }


def test_export_round_trips(school, other_school, django_assert_max_num_queries):
    import_users_csv(school=school, file=GOOD)
    services.create_person(school=school, username="-x", full_name="=1+1", roles=["learner"])
    with django_assert_max_num_queries(4):
        exported = export_users_csv(school=school)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == HEADER.strip().split(",")
    assert ["'-x", "'=1+1", "learner", "", "", "", ""] in rows
    assert ["moussa", "Moussa Diarra", "teacher;admin", "", "", "5A;6B", ""] in rows
    assert ["awa", "Awa Traoré", "parent", "", "bm", "", "amina"] in rows

    import_users_csv(school=other_school, file=exported)
    assert export_users_csv(school=other_school) == exported
    assert people(other_school)["-x"].full_name == "=1+1"

    before = stamps()
    report = import_users_csv(school=school, file=exported, on_existing="update")
    assert (report.created, report.updated, report.skipped) == (0, 0, 4)
    assert stamps() == before


def test_export_leaves_out_inactive_people_and_passwords(school):
    import_users_csv(school=school, file=GOOD)
    User.objects.filter(username="amina").update(is_active=False)
    exported = export_users_csv(school=school)
    assert "amina" not in exported
    assert "a-long-secret" not in exported


def test_template_imports(school):
    report = import_users_csv(school=school, file=template_csv())
    assert report.created == 3


# ---------------------------------------------------------------- properties

names = (
    st.text(
        alphabet=st.characters(categories=["L", "Nd", "Zs"], exclude_characters="\x85"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)

CORRUPTIONS = {
    "role": lambda row: {**row, "roles": "wizard"},
    "name": lambda row: {**row, "full_name": ""},
    "language": lambda row: {**row, "language": "xx"},
    "password": lambda row: {**row, "password": "short"},
    "username": lambda row: {**row, "username": "has space"},
    "child": lambda row: {**row, "roles": "parent", "guardian_of": "nobody-here"},
    "duplicate": lambda row: {**row, "username": "person0"},
}


def csv_text(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER.strip().split(","))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    full_names=st.lists(names, min_size=2, max_size=8),
    role=st.sampled_from(["learner", "teacher", "admin", "learner;teacher"]),
    data=st.data(),
)
def test_one_corrupted_row_imports_nothing_and_is_named(school, full_names, role, data):
    rows = [
        {"username": f"person{i}", "full_name": name, "roles": role, "language": "fr"}
        for i, name in enumerate(full_names)
    ]
    bad = data.draw(st.integers(min_value=1, max_value=len(rows) - 1))
    kind = data.draw(st.sampled_from(sorted(CORRUPTIONS)))
    rows[bad] = CORRUPTIONS[kind](rows[bad])
    problems = refused(school, csv_text(rows))
    assert problems
    assert all(p.startswith(f"line {bad + 2}:") for p in problems), (kind, problems)
    assert not User.objects.exists()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(full_names=st.lists(names, min_size=1, max_size=6))
def test_valid_files_import_every_row_and_export_back(school, full_names):
    rows = [
        {"username": f"p{i}", "full_name": name, "roles": "learner", "class": name[:20]}
        for i, name in enumerate(full_names)
    ]
    with transaction.atomic():
        report = import_users_csv(school=school, file=csv_text(rows))
        assert report.created == len(rows)
        exported = list(csv.DictReader(io.StringIO(export_users_csv(school=school))))
        assert [(r["username"], r["full_name"]) for r in exported] == [
            (r["username"], r["full_name"]) for r in sorted(rows, key=lambda r: r["username"])
        ]
        transaction.set_rollback(True)
