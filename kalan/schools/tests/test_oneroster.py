"""OneRoster 1.1 bundles: real bundles import exactly, bad ones are refused whole."""

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalan.accounts.models import User
from kalan.core.errors import ValidationFailed
from kalan.schools import services
from kalan.schools.models import Classroom, Enrolment, GuardianLink, School, SchoolRole
from kalan.schools.oneroster import (
    import_oneroster_dir,
    import_oneroster_files,
    read_bundle_zip,
    school_by_id_or_code,
)

pytestmark = pytest.mark.django_db

CORPUS = Path(
    os.environ.get("KALAN_CORPUS") or Path(__file__).parents[3] / "../shared/corpus"
).resolve()
ONEROSTER = CORPUS / "oneroster"
GOOD_BUNDLES = ("catalyst-Test_full_data_set", "catalyst-Test_minimal_data_set")


def corpus_bundle(name):
    path = ONEROSTER / name
    if not (path / "manifest.csv").is_file():
        pytest.skip(f"the OneRoster corpus is not at {ONEROSTER} (set KALAN_CORPUS)")
    return path


@pytest.fixture
def school():
    return services.create_school(name="École de Gao", code="GAO-1")


def stamps():
    return {
        model.__name__: sorted(model.objects.values_list("id", "hlc"))
        for model in (School, User, SchoolRole, Classroom, Enrolment, GuardianLink)
    }


def people(school):
    return {u.username: u for u in User.objects.filter(school_id=school.id)}


def roles(school):
    found: dict[str, set[str]] = {}
    for username, kind in SchoolRole.objects.filter(school=school).values_list(
        "user__username", "kind"
    ):
        found.setdefault(username, set()).add(kind)
    return found


def enrolments(school):
    return set(
        Enrolment.objects.filter(school=school).values_list(
            "classroom__name", "user__username", "kind"
        )
    )


def refused(files, **kwargs):
    before = stamps()
    with pytest.raises(ValidationFailed) as caught:
        import_oneroster_files(files, **kwargs)
    assert stamps() == before
    return caught.value.problems


# ---------------------------------------------------------------- the real bundles


def test_full_data_set_imports_exactly_and_twice_changes_nothing(school):
    path = corpus_bundle("catalyst-Test_full_data_set")
    report = import_oneroster_dir(path, school=school)
    # users.csv: 6 rows, none to be deleted; classes.csv: 2 rows, 1 to be deleted;
    # enrollments.csv: 6 rows, 3 of them in the deleted class; 1 parent → student agent.
    assert (report.people_created, report.classes_created, report.enrolments_created) == (6, 1, 3)
    assert report.guardian_links_created == 1
    assert report.skipped == {"classes.csv": 1, "enrollments.csv": 3}
    assert report.schools_created == 0
    found = people(school)
    assert set(found) == {
        "john.doe",
        "mary.jones",
        "thomas.joness",
        "jim.smith",
        "mmichel.jones",
        "anna.brown",
    }
    assert found["mary.jones"].full_name == "Mary Jones"
    assert found["john.doe"].check_password("Password1-")
    assert roles(school) == {
        "john.doe": {"teacher"},
        "mary.jones": {"learner"},
        "thomas.joness": {"parent"},
        # enrolled as a student in the bundle: enrolment gives the learner role too
        "jim.smith": {"teacher", "learner"},
        "mmichel.jones": {"learner"},
        "anna.brown": {"learner"},
    }
    classroom = Classroom.objects.get(school=school)
    assert (classroom.name, classroom.source_id, classroom.grade) == (
        "Introduction to Physics",
        "cls-222-123456",
        "09,10,11",
    )
    assert enrolments(school) == {
        ("Introduction to Physics", "john.doe", "teacher"),
        ("Introduction to Physics", "jim.smith", "learner"),
        ("Introduction to Physics", "mmichel.jones", "learner"),
    }
    link = GuardianLink.objects.get()
    assert (link.guardian.username, link.child.username) == ("thomas.joness", "mary.jones")

    before = stamps()
    again = import_oneroster_dir(path, school=school)
    assert again.changed_nothing
    assert (again.people_unchanged, again.classes_unchanged, again.enrolments_unchanged) == (
        6,
        1,
        3,
    )
    assert stamps() == before


def test_minimal_data_set_imports_exactly(school):
    path = corpus_bundle("catalyst-Test_minimal_data_set")
    report = import_oneroster_dir(path, school=school)
    assert (report.people_created, report.classes_created, report.enrolments_created) == (6, 2, 6)
    assert (report.guardian_links_created, sum(report.skipped.values())) == (0, 0)
    assert set(Classroom.objects.values_list("name", flat=True)) == {
        "Introduction to Physics",
        "History - 2",
    }
    found = people(school)
    assert found["john.doe"].check_password("Password1-")
    assert not found["mary.jones"].has_usable_password()
    assert len(enrolments(school)) == 6
    before = stamps()
    assert import_oneroster_dir(path, school=school).changed_nothing
    assert stamps() == before


@pytest.mark.parametrize("name", GOOD_BUNDLES)
def test_real_bundles_without_a_school_name_the_department(name):
    path = corpus_bundle(name)
    with pytest.raises(ValidationFailed) as caught:
        import_oneroster_dir(path)
    problems = caught.value.problems
    assert problems[0].startswith('users.csv line 2: no school for "org-sch-222-456"')
    assert {p.split(":")[0] for p in problems} >= {f"users.csv line {n}" for n in range(2, 8)}
    assert not School.objects.exists()
    assert not User.objects.exists()


def test_other_corpus_bundles_are_refused_with_every_problem():
    corpus_bundle(GOOD_BUNDLES[0])
    others = [p for p in sorted(ONEROSTER.iterdir()) if p.is_dir() and p.name not in GOOD_BUNDLES]
    if not others:
        pytest.skip("no 1.2 or defective bundle in the corpus")
    for path in others:
        with pytest.raises(ValidationFailed) as caught:
            import_oneroster_dir(path)
        problems = caught.value.problems
        assert any("oneroster.version" in p for p in problems), problems
        assert all(p.split(" ")[0].endswith(".csv") for p in problems)
        assert str(len(problems)) in str(caught.value)
    assert not User.objects.exists()


# ---------------------------------------------------------------- bundles made here

MANIFEST = {
    "manifest.version": "1.0",
    "oneroster.version": "1.1",
    "file.orgs": "bulk",
    "file.users": "bulk",
    "file.classes": "bulk",
    "file.enrollments": "bulk",
    "file.academicSessions": "absent",
    "file.courses": "absent",
}
ORGS = [
    ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
    ["district-1", "", "", "Gao district", "district", "", ""],
    ["school-1", "active", "2024-01-02", "École de Gao", "school", "", "district-1"],
    ["dept-1", "", "", "Sciences", "department", "", "school-1"],
    ["school-2", "", "", "École de Mopti", "school", "", "district-1"],
]
USER_COLUMNS = [
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
]


def user(sid, role, username, org="school-1", agents="", enabled="true", status="", pw=""):
    given, _, family = username.partition(".")
    names = [given.title(), family.title(), "", "", "", "", ""]
    return [sid, status, "", enabled, org, role, username, "", *names, agents, "", pw]


USERS = [
    USER_COLUMNS,
    user("u-1", "teacher", "moussa.diarra", org="dept-1", pw="a-long-secret"),
    user("u-2", "student", "amina.traore", agents="u-4"),
    user("u-3", "student", "seydou.keita", enabled="false"),
    user("u-4", "guardian", "awa.traore"),
    user("u-5", "administrator", "head.teacher"),
    user("u-6", "aide", "oumou.sidibe"),
    user("u-7", "student", "firuza.saidova", org="school-2"),
    user("u-8", "student", "gone.away", status="tobedeleted"),
]
CLASS_COLUMNS = [
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
]


def klass(sid, title, school="school-1", code="", status=""):
    course = [title, "05", "course-1", code, "scheduled", ""]
    return [sid, status, "", *course, school, "term-1", "", "", ""]


CLASSES = [
    CLASS_COLUMNS,
    klass("c-1", "Maths", code="M1"),
    klass("c-2", "Maths", code="M2"),
    klass("c-3", "Sciences", school="dept-1"),
    klass("c-4", "Maths", school="school-2"),
]
ENROLMENT_COLUMNS = [
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
]
ENROLMENTS = [
    ENROLMENT_COLUMNS,
    ["e-1", "", "", "c-1", "school-1", "u-1", "teacher", "true", "2024-09-01", ""],
    ["e-2", "", "", "c-1", "school-1", "u-2", "student", "", "", ""],
    ["e-3", "", "", "c-2", "school-1", "u-6", "aide", "", "", ""],
    ["e-4", "", "", "c-3", "dept-1", "u-3", "student", "", "", ""],
    ["e-5", "", "", "c-4", "school-2", "u-7", "student", "", "", ""],
    ["e-6", "", "", "c-1", "school-1", "u-8", "student", "", "", ""],
]


def table(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def bundle(**changes):
    tables = {
        "orgs": ORGS,
        "users": USERS,
        "classes": CLASSES,
        "enrollments": ENROLMENTS,
        **{k: v for k, v in changes.items() if k != "manifest"},
    }
    manifest = {**MANIFEST, **changes.get("manifest", {})}
    files = {f"{name}.csv": table(rows) for name, rows in tables.items() if rows is not None}
    files["manifest.csv"] = table([["propertyName", "value"], *manifest.items()])
    return files


def test_school_orgs_become_schools_and_departments_join_their_school():
    report = import_oneroster_files(bundle())
    assert report.schools_created == 2
    gao, mopti = School.objects.get(code="school-1"), School.objects.get(code="school-2")
    assert gao.name == "École de Gao"
    assert set(people(gao)) == {
        "moussa.diarra",
        "amina.traore",
        "seydou.keita",
        "awa.traore",
        "head.teacher",
        "oumou.sidibe",
    }
    assert set(people(mopti)) == {"firuza.saidova"}
    assert roles(gao)["head.teacher"] == {"admin"}
    assert roles(gao)["oumou.sidibe"] == {"teacher"}
    assert roles(gao)["awa.traore"] == {"parent"}
    assert not people(gao)["seydou.keita"].is_active
    assert enrolments(gao) == {
        ("Maths", "moussa.diarra", "teacher"),
        ("Maths", "amina.traore", "learner"),
        ("Maths (M2)", "oumou.sidibe", "teacher"),
        ("Sciences", "seydou.keita", "learner"),
    }
    assert enrolments(mopti) == {("Maths", "firuza.saidova", "learner")}
    link = GuardianLink.objects.get()  # a student's agent who is a guardian
    assert (link.guardian.username, link.child.username, link.school) == (
        "awa.traore",
        "amina.traore",
        gao,
    )
    assert report.skipped == {"users.csv": 1, "enrollments.csv": 1}
    before = stamps()
    assert import_oneroster_files(bundle()).changed_nothing
    assert stamps() == before


def test_changes_in_a_new_export_are_followed(school):
    import_oneroster_files(bundle(), school=school)
    users = [row[:] for row in USERS]
    users[2][8] = "Aminata"
    classes = [row[:] for row in CLASSES]
    classes[3][3] = "Physics"
    report = import_oneroster_files(bundle(users=users, classes=classes), school=school)
    assert (report.people_updated, report.classes_updated) == (1, 1)
    assert people(school)["amina.traore"].full_name == "Aminata Traore"
    assert Classroom.objects.filter(school=school, name="Physics", source_id="c-3").exists()


def test_a_person_renamed_in_the_source_system_stays_one_person(school):
    import_oneroster_files(bundle(), school=school)
    amina = people(school)["amina.traore"]
    assert amina.source_id == "u-2"
    users = [row[:] for row in USERS]
    users[2][users[0].index("username")] = "aminata.traore"
    report = import_oneroster_files(bundle(users=users), school=school)
    assert report.people_created == 0
    renamed = people(school)["aminata.traore"]
    assert renamed.id == amina.id
    assert "amina.traore" not in people(school)


def test_every_problem_is_listed_with_file_and_line(school):
    users = [row[:] for row in USERS]
    users[0][users[0].index("middleName")] = "midleName"
    users[3][5] = "wizard"
    users[4][2] = "1/05/2023"
    users.append(user("u-1", "student", "again.someone"))
    users.append(user("u-9", "student", "amina.traore", agents="u-404"))
    enrolments = [*ENROLMENTS, ["e-9", "", "", "c-404", "school-1", "u-2", "student", "", "", ""]]
    enrolments.append(["e-1", "", "", "c-1", "school-1", "u-2", "student", "", "", ""])
    problems = refused(
        bundle(users=users, enrollments=enrolments, manifest={"file.academicSessions": "delta"}),
        school=school,
    )
    assert problems == [
        "manifest.csv line 8: academicSessions.csv is a delta file; only bulk files can be "
        "imported",
        'users.csv line 1: unknown column "midleName"',
        'users.csv line 4: unknown role "wizard"',
        'users.csv line 5: dateLastModified "1/05/2023" is not an ISO 8601 date and time',
        'users.csv line 10: duplicate sourcedId "u-1" (first on line 2)',
        'users.csv line 11: the username "amina.traore" is already used on line 3',
        'users.csv line 11: unknown agent "u-404" (not in users.csv)',
        'enrollments.csv line 8: unknown sourcedId "c-404" (not in classes.csv)',
        'enrollments.csv line 9: duplicate sourcedId "e-1" (first on line 2)',
    ]


def test_missing_files_columns_and_versions_are_refused():
    files = bundle(users=None, manifest={"oneroster.version": "1.2"})
    del files["orgs.csv"]
    assert refused(files) == [
        'manifest.csv line 3: oneroster.version is "1.2"; only OneRoster 1.1 bundles can be '
        "imported",
        "orgs.csv: the file is listed as bulk but is missing",
        "users.csv: the file is listed as bulk but is missing",
    ]
    files = bundle()
    del files["manifest.csv"]
    assert refused(files) == ["manifest.csv: the file is missing"]
    orgs = [ORGS[0][:4], *[row[:4] for row in ORGS[1:]]]
    assert refused(bundle(orgs=orgs)) == ['orgs.csv line 1: the column "type" is missing']
    assert refused(bundle(orgs=[*ORGS, ["x", "", "", "X", "school"]])) == [
        "orgs.csv line 6: the row has 5 cells but the header has 7"
    ]
    assert refused(bundle(enrollments=ENROLMENTS, classes=None)) == [
        "classes.csv: the file is listed as bulk but is missing"
    ]


def test_references_and_values_are_checked():
    orgs = [*ORGS, ["o-9", "", "", "Somewhere", "galaxy", "", ""]]
    users = [*USERS, user("u-9", "student", "lost.one", org="o-404", enabled="maybe")]
    classes = [*CLASSES, klass("c-9", "Art", school="district-1")]
    enrolments = [
        *ENROLMENTS,
        ["e-9", "", "", "c-4", "school-2", "u-2", "student", "yes", "tomorrow", ""],
    ]
    problems = refused(bundle(orgs=orgs, users=users, classes=classes, enrollments=enrolments))
    assert problems == [
        'orgs.csv line 6: unknown org type "galaxy"',
        'users.csv line 10: enabledUser "maybe" is not true or false',
        'users.csv line 10: unknown org "o-404" (not in orgs.csv)',
        'classes.csv line 6: no school for "district-1": the org is not of type school and is '
        "not part of a school of the bundle (import it into one school instead)",
        'enrollments.csv line 8: beginDate "tomorrow" is not an ISO 8601 date (YYYY-MM-DD)',
        'enrollments.csv line 8: primary "yes" is not true or false',
        "enrollments.csv line 8: the person and the class are in different schools",
    ]


def test_school_by_id_or_code(school):
    assert school_by_id_or_code("GAO-1") == school
    assert school_by_id_or_code(str(school.id)) == school
    with pytest.raises(ValidationFailed, match="no school"):
        school_by_id_or_code("NOPE")


# ---------------------------------------------------------------- zip archives


def zipped(entries, compression=zipfile.ZIP_DEFLATED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_zip_in_a_folder_is_read_and_other_files_ignored():
    files = bundle()
    data = zipped({**{f"export/{k}": v for k, v in files.items()}, "export/readme.txt": b"hi"})
    assert read_bundle_zip(data) == files


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"../users.csv": b"x"}, "path that is not allowed"),
        ({"/etc/users.csv": b"x"}, "path that is not allowed"),
        ({"a/users.csv": b"x", "b/users.csv": b"y"}, "users.csv twice"),
        ({"users.csv": b"0" * (60 * 1024 * 1024)}, "too large"),
        ({f"f{i}.csv": b"" for i in range(201)}, "too many files"),
    ],
)
def test_bad_zips_are_refused(entries, message):
    with pytest.raises(ValidationFailed, match=message):
        read_bundle_zip(zipped(entries))


def test_zip_bomb_and_non_zip_are_refused():
    bomb = zipped({"users.csv": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(ValidationFailed, match="too large once unpacked"):
        read_bundle_zip(bomb)
    with pytest.raises(ValidationFailed, match=r"not a \.zip"):
        read_bundle_zip(b"PK not really")


# ---------------------------------------------------------------- properties

CORRUPTIONS = {
    "role": (5, "astronaut"),
    "enabled": (3, "perhaps"),
    "org": (4, "nowhere"),
    "username": (6, "has space"),
    "date": (2, "05/01/2024"),
    "given name": (8, ""),
    "status": (1, "gone"),
    "password": (17, "short"),
}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    row=st.integers(min_value=1, max_value=len(USERS) - 1),
    kind=st.sampled_from(sorted(CORRUPTIONS)),
)
def test_one_corrupted_user_row_imports_nothing_and_is_named(school, row, kind):
    column, value = CORRUPTIONS[kind]
    users = [r[:] for r in USERS]
    users[row][column] = value
    problems = refused(bundle(users=users), school=school)
    assert problems
    assert all(p.startswith(f"users.csv line {row + 1}:") for p in problems), problems
