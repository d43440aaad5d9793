"""Schools, people, classes and enrolments from a OneRoster 1.1 CSV bulk bundle.

A bundle is a folder (or a .zip) of CSV files: manifest.csv, orgs.csv,
users.csv and, when the manifest lists them as bulk, classes.csv,
enrollments.csv and academicSessions.csv (read to check the classes' terms).
Other files (courses, demographics, results...) are ignored. Delta bundles
are refused: only bulk files are imported.

How OneRoster maps onto Kalan:

- orgs of type "school" become schools, found or created by their sourcedId,
  kept as the school code. A class or person attached to a department is
  attached to the department's parent school when that school is in the bundle.
  With an explicit school, everything goes into that one school and org types
  do not matter.
- users: student → learner; teacher, aide and proctor → teacher;
  administrator → school admin; parent, guardian and relative → parent. The
  full name is "givenName familyName"; e-mail, phone and other ids are not kept
  (learners are children: minimal personal data). A parent's agentSourcedIds
  that name students become guardian links, and so do a student's
  agentSourcedIds that name parents; other agents are checked, then ignored.
  enabledUser=false makes the person inactive. A given password is set (and
  must pass the password rules); without one the person cannot sign in with a
  password. People are matched by their sourcedId (kept as the
  roster id), else by username, within their school.
- classes become classes, matched by sourcedId (kept as the class's roster id);
  a title already used by another class gets the classCode (or sourcedId) added.
- enrollments: student → learner; teacher, aide, proctor, administrator →
  teacher of the class (who also gets the school role, as for any enrolment).
- status "tobedeleted": the row is skipped and counted, and so are the
  enrolments of a skipped class or person. "inactive" (OneRoster 1.0) is
  taken as active. Nothing already in Kalan is deleted.

Everything is checked before anything is written; every problem is reported
with its file and line, and if there is any, nothing is imported. A bundle
imported twice changes nothing the second time.
"""

import contextlib
import datetime
import io
import re
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kalan.accounts import services as accounts
from kalan.accounts.models import User, normalize_username
from kalan.core.errors import ValidationFailed
from kalan.schools import services
from kalan.schools.models import Classroom, Enrolment, GuardianLink, School, SchoolRole
from kalan.schools.roster_csv import UnreadableCsv, decode_text, read_records

# Columns of each file: those that must hold a value, then the others.
SPECS: dict[str, tuple[str, str]] = {
    "orgs": ("sourcedId name type", "status dateLastModified identifier parentSourcedId"),
    "users": (
        "sourcedId enabledUser orgSourcedIds role username givenName familyName",
        "status dateLastModified userIds middleName identifier email sms phone "
        "agentSourcedIds grades password",
    ),
    "classes": (
        "sourcedId title courseSourcedId classType schoolSourcedId",
        "status dateLastModified grades classCode location termSourcedIds subjects "
        "subjectCodes periods",
    ),
    "enrollments": (
        "sourcedId classSourcedId schoolSourcedId userSourcedId role",
        "status dateLastModified primary beginDate endDate",
    ),
    "academicSessions": (
        "sourcedId title type startDate endDate schoolYear",
        "status dateLastModified parentSourcedId",
    ),
}
REQUIRED_FILES = ("orgs", "users")
OPTIONAL_FILES = ("classes", "enrollments", "academicSessions")
ORG_TYPES = {"department", "school", "district", "local", "state", "national"}
USER_ROLES = {
    "student": SchoolRole.Kind.LEARNER,
    "teacher": SchoolRole.Kind.TEACHER,
    "aide": SchoolRole.Kind.TEACHER,
    "proctor": SchoolRole.Kind.TEACHER,
    "administrator": SchoolRole.Kind.ADMIN,
    "parent": SchoolRole.Kind.PARENT,
    "guardian": SchoolRole.Kind.PARENT,
    "relative": SchoolRole.Kind.PARENT,
}
ENROLMENT_ROLES = {
    "student": Enrolment.Kind.LEARNER,
    "teacher": Enrolment.Kind.TEACHER,
    "aide": Enrolment.Kind.TEACHER,
    "proctor": Enrolment.Kind.TEACHER,
    "administrator": Enrolment.Kind.TEACHER,
}
CLASS_TYPES = {"homeroom", "scheduled"}
SESSION_TYPES = {"gradingperiod", "semester", "schoolyear", "term"}
STATUSES = {"", "active", "inactive", "tobedeleted"}
BUNDLE_FILES = {
    f"{name}.csv"
    for name in [
        "manifest",
        *SPECS,
        *("categories", "classResources", "courses", "courseResources", "demographics"),
        *("lineItems", "resources", "results", "roles", "userProfiles"),
    ]
}
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_BUNDLE_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
MAX_COMPRESSION_RATIO = 200
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")


Row = dict[str, str]


@dataclass
class Report:
    """What an import did (or, on a second run, found already done)."""

    schools_created: int = 0
    people_created: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    classes_created: int = 0
    classes_updated: int = 0
    classes_unchanged: int = 0
    enrolments_created: int = 0
    enrolments_unchanged: int = 0
    guardian_links_created: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def changed_nothing(self) -> bool:
        return not (
            self.schools_created
            + self.people_created
            + self.people_updated
            + self.classes_created
            + self.classes_updated
            + self.enrolments_created
            + self.guardian_links_created
        )

    def summary(self) -> str:
        return _(
            "people: %(p_new)d new, %(p_changed)d changed, %(p_same)d unchanged; "
            "classes: %(c_new)d new, %(c_changed)d changed, %(c_same)d unchanged; "
            "enrolments: %(e_new)d new, %(e_same)d unchanged; guardian links: %(g_new)d new; "
            "schools: %(s_new)d new; rows skipped (to be deleted): %(skipped)d"
        ) % {
            "p_new": self.people_created,
            "p_changed": self.people_updated,
            "p_same": self.people_unchanged,
            "c_new": self.classes_created,
            "c_changed": self.classes_updated,
            "c_same": self.classes_unchanged,
            "e_new": self.enrolments_created,
            "e_same": self.enrolments_unchanged,
            "g_new": self.guardian_links_created,
            "s_new": self.schools_created,
            "skipped": sum(self.skipped.values()),
        }


FILE_ORDER = ["manifest", "orgs", "academicSessions", "users", "classes", "enrollments"]


class Problems:
    """Every reason to refuse the bundle, each naming its file and line."""

    def __init__(self) -> None:
        self.found: list[tuple[str, int, str]] = []
        self.fatal = False  # a file or required column is missing: checking further is noise

    def add(self, file: str, line: int | None, reason: str, *, fatal: bool = False) -> None:
        self.found.append((file, line or 0, reason))
        self.fatal = self.fatal or fatal

    @property
    def items(self) -> list[str]:
        """The problems in file order, then line order."""

        def order(problem: tuple[str, int, str]) -> tuple[int, int]:
            name = problem[0].removesuffix(".csv")
            return (FILE_ORDER.index(name) if name in FILE_ORDER else 0, problem[1])

        return [
            _("%(file)s line %(line)d: %(reason)s") % {"file": f, "line": line, "reason": r}
            if line
            else _("%(file)s: %(reason)s") % {"file": f, "reason": r}
            for f, line, r in sorted(self.found, key=order)
        ]

    def raise_if_any(self) -> None:
        if not self.found:
            return
        limit = 50
        shown = "; ".join(self.items[:limit])
        if len(self.items) > limit:
            shown += "; " + _("and %(more)d more") % {"more": len(self.items) - limit}
        message = ngettext(
            "the bundle has %(count)d problem: %(list)s",
            "the bundle has %(count)d problems: %(list)s",
            len(self.items),
        ) % {"count": len(self.items), "list": shown}
        raise ValidationFailed(message, list(self.items))


# ---------------------------------------------------------------- reading files


def _ids(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _read_table(name: str, data: bytes, problems: Problems) -> list[tuple[int, Row]]:
    """The rows of one data file, keyed by column; header problems are reported."""
    file = f"{name}.csv"
    required, optional = (names.split() for names in SPECS[name])
    try:
        records = list(read_records(decode_text(data)))
    except UnreadableCsv as error:
        problems.add(file, error.line, error.reason, fatal=True)
        return []
    if not records:
        problems.add(file, 1, _("the file is empty (it needs at least its header)"), fatal=True)
        return []
    known = {column.lower(): column for column in (*required, *optional)}
    header = [cell.strip() for cell in records[0][1]]
    columns = []
    for cell in header:
        column = known.get(cell.lower())
        if column is None and not cell.lower().startswith("metadata."):
            problems.add(file, 1, _('unknown column "%(name)s"') % {"name": cell})
        columns.append(column or cell)
    for column in required:
        if column not in columns:
            problems.add(
                file, 1, _('the column "%(name)s" is missing') % {"name": column}, fatal=True
            )
    rows = []
    for line, cells in records[1:]:
        if len(cells) != len(columns):
            problems.add(
                file,
                line,
                _("the row has %(cells)d cells but the header has %(columns)d")
                % {"cells": len(cells), "columns": len(columns)},
            )
            continue
        rows.append((line, {c: v.strip() for c, v in zip(columns, cells, strict=True)}))
    return rows


def _read_manifest(files: Mapping[str, bytes], problems: Problems) -> dict[str, str]:
    """file name (without .csv) → mode ("bulk", "delta" or "absent") for the files read here."""
    data = files.get("manifest.csv")
    if data is None:
        problems.add("manifest.csv", None, _("the file is missing"), fatal=True)
        return {}
    try:
        records = list(read_records(decode_text(data)))
    except UnreadableCsv as error:
        problems.add("manifest.csv", error.line, error.reason, fatal=True)
        return {}
    values = {
        cells[0].strip(): (line, cells[1].strip() if len(cells) > 1 else "")
        for line, cells in records[1:]
    }
    line, version = values.get("oneroster.version", (None, ""))
    if version != "1.1":
        problems.add(
            "manifest.csv",
            line,
            _('oneroster.version is "%(version)s"; only OneRoster 1.1 bundles can be imported')
            % {"version": version},
        )
    modes = {}
    for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
        line, mode = values.get(f"file.{name}", (None, "absent"))
        modes[name] = mode.lower()
        _check_mode(name, line, modes[name], files, problems)
    return modes


def _check_mode(
    name: str, line: int | None, mode: str, files: Mapping[str, bytes], problems: Problems
) -> None:
    if mode not in {"bulk", "delta", "absent"}:
        problems.add("manifest.csv", line, _('unknown mode "%(mode)s"') % {"mode": mode})
    elif mode == "delta":
        problems.add(
            "manifest.csv",
            line,
            _("%(file)s.csv is a delta file; only bulk files can be imported") % {"file": name},
        )
    elif mode == "absent" and name in REQUIRED_FILES:
        problems.add(
            "manifest.csv", line, _("%(file)s.csv is required") % {"file": name}, fatal=True
        )
    elif mode == "bulk" and f"{name}.csv" not in files:
        problems.add(
            f"{name}.csv", None, _("the file is listed as bulk but is missing"), fatal=True
        )


# ---------------------------------------------------------------- checking values


def _is_datetime(value: str) -> bool:
    if not _DATETIME.fullmatch(value):
        return False
    try:
        datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    return bool(_DATE.fullmatch(value)) and _is_datetime(value)


def _check_common(file: str, rows: list[tuple[int, Row]], problems: Problems) -> None:
    """Required values, status, dates and unique sourcedIds of any file."""
    name = file.removesuffix(".csv")
    required = SPECS[name][0].split()
    first: dict[str, int] = {}
    for line, row in rows:
        for column in required:
            if column in row and not row[column]:
                problems.add(file, line, _('"%(name)s" is empty') % {"name": column})
        if row.get("status", "").lower() not in STATUSES:
            problems.add(file, line, _('unknown status "%(status)s"') % {"status": row["status"]})
        modified = row.get("dateLastModified", "")
        if modified and not _is_datetime(modified):
            problems.add(
                file,
                line,
                _('dateLastModified "%(value)s" is not an ISO 8601 date and time')
                % {"value": modified},
            )
        sourced_id = row.get("sourcedId", "")
        if sourced_id in first:
            problems.add(
                file,
                line,
                _('duplicate sourcedId "%(id)s" (first on line %(first)d)')
                % {"id": sourced_id, "first": first[sourced_id]},
            )
        elif sourced_id:
            first[sourced_id] = line


def _check_dates(
    file: str, line: int, row: Row, columns: Iterable[str], problems: Problems
) -> None:
    for column in columns:
        value = row.get(column, "")
        if value and not _is_date(value):
            problems.add(
                file,
                line,
                _('%(column)s "%(value)s" is not an ISO 8601 date (YYYY-MM-DD)')
                % {"column": column, "value": value},
            )


def _check_choice(
    file: str, line: int, label: str, value: str, allowed: Iterable[str], problems: Problems
) -> None:
    if value and value.lower() not in allowed:
        problems.add(
            file, line, _('unknown %(label)s "%(value)s"') % {"label": label, "value": value}
        )


def _deleted(row: Row) -> bool:
    return row.get("status", "").lower() == "tobedeleted"


# ---------------------------------------------------------------- the plan


@dataclass
class Person:
    line: int
    sourced_id: str
    school_key: str  # org sourcedId of the school, or "" for the given school
    username: str
    full_name: str
    role: str
    active: bool
    password: str
    agents: list[str]


@dataclass
class Course:
    line: int
    sourced_id: str
    school_key: str
    title: str
    code: str
    grade: str


@dataclass
class Plan:
    """What the bundle asks for, once every check has passed."""

    schools: dict[str, str] = field(default_factory=dict)  # org sourcedId → name
    people: dict[str, Person] = field(default_factory=dict)
    classes: dict[str, Course] = field(default_factory=dict)
    enrolments: list[tuple[str, str, str]] = field(default_factory=list)  # class, user, kind
    guardians: list[tuple[str, str]] = field(default_factory=list)  # guardian, child
    skipped: Counter[str] = field(default_factory=Counter)


class Checker:
    """Reads every file of a bundle and checks it whole, collecting problems."""

    def __init__(self, files: Mapping[str, bytes], *, one_school: bool) -> None:
        self.problems = Problems()
        self.one_school = one_school
        self.plan = Plan()
        modes = _read_manifest(files, self.problems)
        self.tables: dict[str, list[tuple[int, Row]]] = {}
        for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
            if modes.get(name) == "bulk" and f"{name}.csv" in files:
                self.tables[name] = _read_table(name, files[f"{name}.csv"], self.problems)
                _check_common(f"{name}.csv", self.tables[name], self.problems)
        self.orgs = {row["sourcedId"]: row for _line, row in self.tables.get("orgs", [])}
        self.users = {row["sourcedId"]: row for _line, row in self.tables.get("users", [])}
        self.classes = {row["sourcedId"]: row for _line, row in self.tables.get("classes", [])}
        self.sessions = {row["sourcedId"] for _line, row in self.tables.get("academicSessions", [])}

    def check(self) -> Plan:
        """The plan; raises ValidationFailed listing every problem."""
        if self.problems.fatal:
            self.problems.raise_if_any()
        if "enrollments" in self.tables and "classes" not in self.tables:
            self.problems.add(
                "enrollments.csv", None, _("enrolments cannot be imported without classes.csv")
            )
            del self.tables["enrollments"]
        for line, row in self.tables.get("orgs", []):
            _check_choice(
                "orgs.csv", line, _("org type"), row.get("type", ""), ORG_TYPES, self.problems
            )
        for line, row in self.tables.get("academicSessions", []):
            self._check_session(line, row)
        for line, row in self.tables.get("users", []):
            self._check_user(line, row)
        self._check_usernames()
        self._check_agents()
        for line, row in self.tables.get("classes", []):
            self._check_class(line, row)
        for line, row in self.tables.get("enrollments", []):
            self._check_enrolment(line, row)
        self.problems.raise_if_any()
        return self.plan

    def _school_of(self, org_id: str) -> str | None:
        """The sourcedId of the school org an org stands for, "" for the given school."""
        if self.one_school:
            return ""
        org = self.orgs.get(org_id)
        if org is None or _deleted(org):
            return None
        if org.get("type", "").lower() != "school":
            parent = self.orgs.get(org.get("parentSourcedId", ""))
            if parent is None or _deleted(parent) or parent.get("type", "").lower() != "school":
                return None
            org = parent
        self.plan.schools[org["sourcedId"]] = org.get("name", "")
        return str(org["sourcedId"])

    def _unknown_org(self, file: str, line: int, org_id: str) -> bool:
        if org_id in self.orgs:
            return False
        self.problems.add(file, line, _('unknown org "%(id)s" (not in orgs.csv)') % {"id": org_id})
        return True

    def _no_school(self, file: str, line: int, org_ids: list[str]) -> None:
        self.problems.add(
            file,
            line,
            _(
                'no school for "%(orgs)s": the org is not of type school and is not part of '
                "a school of the bundle (import it into one school instead)"
            )
            % {"orgs": ",".join(org_ids)},
        )

    def _check_session(self, line: int, row: Row) -> None:
        file = "academicSessions.csv"
        _check_choice(
            file, line, _("session type"), row.get("type", ""), SESSION_TYPES, self.problems
        )
        _check_dates(file, line, row, ("startDate", "endDate"), self.problems)
        year = row.get("schoolYear", "")
        if year and not re.fullmatch(r"\d{4}", year):
            self.problems.add(
                file, line, _('schoolYear "%(value)s" is not a year') % {"value": year}
            )

    def _check_user(self, line: int, row: Row) -> None:
        file = "users.csv"
        role = row.get("role", "")
        _check_choice(file, line, _("role"), role, USER_ROLES, self.problems)
        enabled = row.get("enabledUser", "").lower()
        if enabled and enabled not in {"true", "false"}:
            self.problems.add(
                file, line, _('enabledUser "%(value)s" is not true or false') % {"value": enabled}
            )
        username = normalize_username(row.get("username", ""))
        self._check_username(line, username)
        password = row.get("password", "")
        if password:
            try:
                validate_password(password)
            except ValidationError as error:
                reasons = " ".join(error.messages)
                self.problems.add(
                    file, line, _("password refused: %(reasons)s") % {"reasons": reasons}
                )
        self._plan_person(line, row, username)

    def _plan_person(self, line: int, row: Row, username: str) -> None:
        file = "users.csv"
        org_ids = _ids(row.get("orgSourcedIds", ""))
        unknown = [self._unknown_org(file, line, org_id) for org_id in org_ids]  # all reported
        if any(unknown):
            return
        if _deleted(row):
            self.plan.skipped[file] += 1
            return
        schools = {self._school_of(org_id) for org_id in org_ids} - {None}
        role = row.get("role", "").lower()
        if org_ids and not schools:
            self._no_school(file, line, org_ids)
        elif len(schools) > 1:
            self.problems.add(
                file, line, _("the person belongs to several schools; Kalan keeps one per person")
            )
        elif schools and role in USER_ROLES:
            full_name = " ".join(p for p in (row.get("givenName"), row.get("familyName")) if p)
            self.plan.people[row["sourcedId"]] = Person(
                line=line,
                sourced_id=row["sourcedId"],
                school_key=str(schools.pop()),
                username=username,
                full_name=full_name[:200],
                role=USER_ROLES[role],
                active=row.get("enabledUser", "").lower() != "false",
                password=row.get("password", ""),
                agents=_ids(row.get("agentSourcedIds", "")),
            )

    def _check_username(self, line: int, username: str) -> None:
        if not username:
            return  # reported as an empty required value
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            self.problems.add(
                "users.csv",
                line,
                _('the username "%(name)s" may only hold letters, digits and @ . + - _')
                % {"name": username},
            )

    def _check_usernames(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for person in self.plan.people.values():
            key = (person.school_key, person.username)
            if key in seen:
                self.problems.add(
                    "users.csv",
                    person.line,
                    _('the username "%(name)s" is already used on line %(first)d')
                    % {"name": person.username, "first": seen[key]},
                )
            else:
                seen[key] = person.line

    def _check_agents(self) -> None:
        for line, row in self.tables.get("users", []):
            for agent in _ids(row.get("agentSourcedIds", "")):
                if agent not in self.users:
                    self.problems.add(
                        "users.csv",
                        line,
                        _('unknown agent "%(id)s" (not in users.csv)') % {"id": agent},
                    )
        for person in self.plan.people.values():
            for agent_id in person.agents:
                other = self.plan.people.get(agent_id)
                if other is None:
                    continue
                pair = _guardian_pair(person, other)
                if pair and pair not in self.plan.guardians:
                    if person.school_key != other.school_key:
                        self.problems.add(
                            "users.csv",
                            person.line,
                            _('agent "%(id)s" is in another school') % {"id": agent_id},
                        )
                    self.plan.guardians.append(pair)

    def _check_class(self, line: int, row: Row) -> None:
        file = "classes.csv"
        _check_choice(
            file, line, _("class type"), row.get("classType", ""), CLASS_TYPES, self.problems
        )
        if self.sessions:
            for term in _ids(row.get("termSourcedIds", "")):
                if term not in self.sessions:
                    self.problems.add(
                        file,
                        line,
                        _('unknown term "%(id)s" (not in academicSessions.csv)') % {"id": term},
                    )
        org_id = row.get("schoolSourcedId", "")
        if self._unknown_org(file, line, org_id) or not org_id:
            return
        if _deleted(row):
            self.plan.skipped["classes.csv"] += 1
            return
        school_key = self._school_of(org_id)
        if school_key is None:
            self._no_school(file, line, [org_id])
            return
        self.plan.classes[row["sourcedId"]] = Course(
            line=line,
            sourced_id=row["sourcedId"],
            school_key=school_key,
            title=row.get("title", "")[:200],
            code=row.get("classCode", ""),
            grade=row.get("grades", "")[:50],
        )

    def _check_enrolment(self, line: int, row: Row) -> None:
        file = "enrollments.csv"
        role = row.get("role", "")
        _check_choice(file, line, _("role"), role, ENROLMENT_ROLES, self.problems)
        _check_dates(file, line, row, ("beginDate", "endDate"), self.problems)
        primary = row.get("primary", "").lower()
        if primary and primary not in {"true", "false"}:
            self.problems.add(
                file, line, _('primary "%(value)s" is not true or false') % {"value": primary}
            )
        class_id, user_id = row.get("classSourcedId", ""), row.get("userSourcedId", "")
        classes = self.classes
        known = True
        for value, table, label in (
            (class_id, classes, "classes.csv"),
            (user_id, self.users, "users.csv"),
        ):
            if value and value not in table:
                known = False
                self.problems.add(
                    file,
                    line,
                    _('unknown sourcedId "%(id)s" (not in %(file)s)')
                    % {"id": value, "file": label},
                )
        org_id = row.get("schoolSourcedId", "")
        if (org_id and self._unknown_org(file, line, org_id)) or not known:
            return
        if _deleted(row) or _deleted(classes[class_id]) or _deleted(self.users[user_id]):
            self.plan.skipped["enrollments.csv"] += 1
            return
        course, person = self.plan.classes.get(class_id), self.plan.people.get(user_id)
        if course is None or person is None or role.lower() not in ENROLMENT_ROLES:
            return  # the class or the person has a problem of its own
        if course.school_key != person.school_key:
            self.problems.add(file, line, _("the person and the class are in different schools"))
            return
        self.plan.enrolments.append((class_id, user_id, ENROLMENT_ROLES[role.lower()]))


def _guardian_pair(person: Person, agent: Person) -> tuple[str, str] | None:
    """(guardian, child) when one of the two is a parent and the other a learner."""
    if person.role == SchoolRole.Kind.PARENT and agent.role == SchoolRole.Kind.LEARNER:
        return person.sourced_id, agent.sourced_id
    if person.role == SchoolRole.Kind.LEARNER and agent.role == SchoolRole.Kind.PARENT:
        return agent.sourced_id, person.sourced_id
    return None


# ---------------------------------------------------------------- writing


class Writer:
    """Carries out a checked plan in one transaction; writes only what differs."""

    def __init__(self, plan: Plan, school: School | None) -> None:
        self.plan = plan
        self.report = Report(skipped=Counter(plan.skipped))
        self.schools: dict[str, School] = {}
        self.given = school
        self.users: dict[str, User] = {}
        self.classes: dict[str, Classroom] = {}

    def run(self) -> Report:
        with transaction.atomic():
            self._schools()
            for person in self.plan.people.values():
                self.users[person.sourced_id] = self._person(person)
            self._classes()
            self._enrolments()
            self._guardians()
        return self.report

    def _schools(self) -> None:
        if self.given is not None:
            self.schools[""] = self.given
            return
        found = {s.code: s for s in School.objects.filter(code__in=self.plan.schools)}
        for code, name in self.plan.schools.items():
            if code not in found:
                found[code] = services.create_school(name=name or code, code=code)
                self.report.schools_created += 1
            self.schools[code] = found[code]

    def _person(self, person: Person) -> User:
        school = self.schools[person.school_key]
        # The roster id first, so a person renamed in the source system stays one person.
        user = (
            User.objects.filter(school_id=school.id, source_id=person.sourced_id).first()
            or User.objects.filter(school_id=school.id, username=person.username).first()
        )
        if user is None:
            user = services.create_person(
                school=school,
                username=person.username,
                full_name=person.full_name,
                roles=[person.role],
                password=person.password or None,
                source_id=person.sourced_id,
            )
            if not person.active:
                accounts.deactivate_user(user=user)
            self.report.people_created += 1
            return user
        changed = self._update_person(user, person)
        if not SchoolRole.objects.filter(school=school, user=user, kind=person.role).exists():
            services.grant_role(school=school, user=user, kind=person.role)
            changed = True
        if changed:
            self.report.people_updated += 1
        else:
            self.report.people_unchanged += 1
        return user

    @staticmethod
    def _update_person(user: User, person: Person) -> bool:
        changed = False
        password = person.password if person.password else None
        if password and user.check_password(password):
            password = None
        if (
            person.full_name != user.full_name
            or password
            or person.sourced_id != user.source_id
            or person.username != user.username
        ):
            accounts.update_user(
                user=user,
                full_name=person.full_name,
                password=password,
                source_id=person.sourced_id,
                username=person.username,
            )
            changed = True
        if person.active != user.is_active:
            if person.active:
                accounts.reactivate_user(user=user)
            else:
                accounts.deactivate_user(user=user)
            changed = True
        return changed

    def _classes(self) -> None:
        school_ids = [s.id for s in self.schools.values()]
        existing = list(Classroom.objects.filter(school_id__in=school_ids))
        by_source = {(c.school_id, c.source_id): c for c in existing if c.source_id}
        taken = {(c.school_id, c.name.casefold()) for c in existing}
        for course in self.plan.classes.values():
            school = self.schools[course.school_key]
            classroom = by_source.get((school.id, course.sourced_id))
            if classroom is None:
                name = _free_name(course, school.id, taken)
                classroom = services.create_classroom(
                    school=school, name=name, grade=course.grade, source_id=course.sourced_id
                )
                self.report.classes_created += 1
            elif _update_class(classroom, course, taken):
                self.report.classes_updated += 1
            else:
                self.report.classes_unchanged += 1
            self.classes[course.sourced_id] = classroom

    def _enrolments(self) -> None:
        existing = set(
            Enrolment.objects.filter(
                classroom_id__in=[c.id for c in self.classes.values()]
            ).values_list("classroom_id", "user_id", "kind")
        )
        for class_id, user_id, kind in dict.fromkeys(self.plan.enrolments):
            classroom, user = self.classes[class_id], self.users[user_id]
            if (classroom.id, user.id, kind) in existing:
                self.report.enrolments_unchanged += 1
                continue
            services.enrol(classroom=classroom, user=user, kind=kind)
            self.report.enrolments_created += 1

    def _guardians(self) -> None:
        for guardian_id, child_id in self.plan.guardians:
            guardian, child = self.users[guardian_id], self.users[child_id]
            if GuardianLink.objects.filter(guardian=guardian, child=child).exists():
                continue
            school = self.schools[self.plan.people[guardian_id].school_key]
            services.link_guardian(school=school, guardian=guardian, child=child)
            self.report.guardian_links_created += 1


def _update_class(classroom: Classroom, course: Course, taken: set[tuple[uuid.UUID, str]]) -> bool:
    """Follow a new title (when it is free) or grade; False when nothing changed."""
    name = classroom.name
    fallback = f"{course.title} ({course.code or course.sourced_id})"[:200]
    if (
        name not in {course.title, fallback}
        and (
            classroom.school_id,
            course.title.casefold(),
        )
        not in taken
    ):
        name = course.title
        taken.add((classroom.school_id, name.casefold()))
    if name == classroom.name and course.grade == classroom.grade:
        return False
    services.update_classroom(
        classroom=classroom, name=name, grade=course.grade, is_active=classroom.is_active
    )
    return True


def _free_name(course: Course, school_id: uuid.UUID, taken: set[tuple[uuid.UUID, str]]) -> str:
    """The title, or the title with the class code (or sourcedId) when it is taken."""
    for name in (course.title, f"{course.title} ({course.code or course.sourced_id})"):
        name = name[:200]
        if (school_id, name.casefold()) not in taken:
            taken.add((school_id, name.casefold()))
            return name
    name = f"{course.title[:150]} ({course.sourced_id[:40]}-{uuid.uuid4().hex[:6]})"
    taken.add((school_id, name.casefold()))
    return name


# ---------------------------------------------------------------- entry points


def import_oneroster_files(files: Mapping[str, bytes], *, school: School | None = None) -> Report:
    """Import a bundle given as file name → content.

    With `school`, everything goes into that school; otherwise orgs of type
    school are found or created by sourcedId (as school code). Raises
    ValidationFailed listing every problem (file, line, reason); nothing is
    written then.
    """
    plan = Checker(files, one_school=school is not None).check()
    return Writer(plan, school).run()


def import_oneroster_dir(path: Path | str, *, school: School | None = None) -> Report:
    """Import the bundle in a folder (see import_oneroster_files)."""
    return import_oneroster_files(read_bundle_dir(Path(path)), school=school)


def import_oneroster_zip(data: bytes, *, school: School | None = None) -> Report:
    """Import a bundle sent as a .zip (see read_bundle_zip and import_oneroster_files)."""
    return import_oneroster_files(read_bundle_zip(data), school=school)


def import_oneroster_upload(*, school_id: uuid.UUID, data: bytes) -> Report:
    """The import as a background task would run it: ids and bytes in, a report out."""
    return import_oneroster_zip(data, school=School.objects.get(id=school_id))


def read_bundle_dir(path: Path) -> dict[str, bytes]:
    """The OneRoster files of a folder.

    Raises ValidationFailed for a missing folder or a file beyond the size limit.
    """
    if not path.is_dir():
        raise ValidationFailed(_("%(path)s is not a folder") % {"path": path})
    files = {}
    for name in sorted(BUNDLE_FILES):
        file = path / name
        if not file.is_file():
            continue
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ValidationFailed(_("%(name)s is too large") % {"name": name})
        files[name] = file.read_bytes()
    return files


def read_bundle_zip(data: bytes) -> dict[str, bytes]:
    """The OneRoster files of a .zip, read in memory within size limits.

    Files may sit at the top or in one folder; other files are ignored. Raises
    ValidationFailed for a file that is not a zip, an encrypted member, a path
    that climbs out (.., absolute), too many members, or sizes and compression
    ratios beyond the limits (zip bombs).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise ValidationFailed(_("The file is not a .zip archive.")) from error
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        _check_members(members)
        files: dict[str, bytes] = {}
        for info in members:
            name = info.filename.rsplit("/", 1)[-1]
            if name not in BUNDLE_FILES or info.filename.startswith("__MACOSX/"):
                continue
            if name in files:
                raise ValidationFailed(_("The archive holds %(name)s twice.") % {"name": name})
            files[name] = _read_member(archive, info)
    return files


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_ZIP_MEMBERS:
        raise ValidationFailed(_("The archive holds too many files."))
    if sum(info.file_size for info in members) > MAX_BUNDLE_BYTES:
        raise ValidationFailed(_("The archive is too large once unpacked."))
    for info in members:
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or ":" in name.split("/")[0]:
            raise ValidationFailed(
                _("The archive holds a path that is not allowed: %(name)s") % {"name": name}
            )
        if info.flag_bits & 0x1:
            raise ValidationFailed(_("The archive is encrypted."))
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_FILE_BYTES or (
            info.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO
        ):
            raise ValidationFailed(
                _("%(name)s is too large once unpacked.") % {"name": info.filename}
            )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than it declared (sizes in headers can lie)."""
    try:
        with archive.open(info) as handle:
            data = handle.read(min(info.file_size, MAX_FILE_BYTES) + 1)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as error:
        raise ValidationFailed(
            _("%(name)s cannot be unpacked.") % {"name": info.filename}
        ) from error
    if len(data) > info.file_size:
        raise ValidationFailed(_("%(name)s is too large once unpacked.") % {"name": info.filename})
    return data


def school_by_id_or_code(value: str) -> School:
    """The school with this id or code. Raises ValidationFailed when there is none."""
    school: School | None = None
    with contextlib.suppress(ValueError):
        school = School.objects.filter(id=uuid.UUID(value)).first()
    school = school or School.objects.filter(code=value.strip()).first()
    if school is None:
        raise ValidationFailed(_('no school has the id or code "%(value)s"') % {"value": value})
    return school
