"""People of a school in and out of a CSV file.

The format, one person per row after a header row (column order is free):

============  =========  ==========================================================
column        required   meaning
============  =========  ==========================================================
username      yes        letters, digits and @ . + - _ (compared without case)
full_name     yes        the name people see
roles         yes        learner, teacher, admin or parent; several separated by ";"
                         (e.g. "teacher;admin"); the header "role" is accepted too
password      no         at least 8 characters; empty: no password sign-in
language      no         en, fr, ru, tg or bm
class         no         class names separated by ";"; a missing class is created;
                         teachers are enrolled as teachers, everyone else as learners
guardian_of   no         usernames of children (in the file or the school), separated
                         by ";"; only for rows whose roles include parent
============  =========  ==========================================================

The file is UTF-8, with or without a byte-order mark; cells are separated by
commas, semicolons or tabs (detected from the header). Cells that hold several
values must be quoted when the file itself is separated by semicolons.

An import checks every row before it writes anything; if any row is refused,
nothing is imported and every problem is reported with its line number. The
export writes the same columns (never passwords), so an exported file imports
back. Cells that a spreadsheet would run as a formula (starting with = + - @)
are written with a leading apostrophe, which the import removes again.
"""

import csv
import io
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Literal

from django.conf import settings
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

COLUMNS = ("username", "full_name", "roles", "password", "language", "class", "guardian_of")
REQUIRED_COLUMNS = ("username", "full_name", "roles")
HEADER_ALIASES = {"role": "roles", "classes": "class", "name": "full_name"}
ROLE_ALIASES = {
    "learner": SchoolRole.Kind.LEARNER,
    "student": SchoolRole.Kind.LEARNER,
    "teacher": SchoolRole.Kind.TEACHER,
    "admin": SchoolRole.Kind.ADMIN,
    "administrator": SchoolRole.Kind.ADMIN,
    "parent": SchoolRole.Kind.PARENT,
    "guardian": SchoolRole.Kind.PARENT,
}
ROLE_ORDER = ("learner", "teacher", "admin", "parent")
MAX_ROWS = 20_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_WORD_SEPARATORS = re.compile(r"[;,|\s]+")

OnExisting = Literal["refuse", "update", "skip"]


# ---------------------------------------------------------------- reading CSV


class UnreadableCsv(Exception):
    """The text cannot be read as CSV at `line`."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def decode_text(data: bytes) -> str:
    """The text of UTF-8 bytes, without a byte-order mark.

    Raises UnreadableCsv naming the first line that is not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableCsv(line, _("the file is not UTF-8 text")) from error


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of."""
    header = text.split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def read_records(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for every record that is not blank.

    Raises UnreadableCsv for broken quoting or oversized cells.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UnreadableCsv(
                start, _("unreadable CSV (%(error)s)") % {"error": error}
            ) from error
        if any(cell.strip() for cell in cells):
            yield start, cells


def at_line(line: int, reason: str) -> str:
    return _("line %(line)d: %(reason)s") % {"line": line, "reason": reason}


def unprotect(cell: str) -> str:
    """Undo the apostrophe the export puts before formula-like cells."""
    cell = cell.strip()
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_STARTS:
        return cell[1:]
    return cell


def protect(cell: str) -> str:
    """Keep spreadsheets from running a cell as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _as_bytes(file: IO[bytes] | bytes | str) -> bytes:
    if isinstance(file, str):
        return file.encode("utf-8")
    if isinstance(file, bytes):
        return file
    return file.read()


# ---------------------------------------------------------------- checking rows


@dataclass(frozen=True)
class PersonRow:
    line: int
    username: str
    full_name: str
    roles: frozenset[str]
    password: str
    language: str
    classes: tuple[str, ...]
    guardian_of: tuple[str, ...]

    @property
    def enrol_as(self) -> str:
        if SchoolRole.Kind.TEACHER in self.roles:
            return Enrolment.Kind.TEACHER
        return Enrolment.Kind.LEARNER


@dataclass
class ImportReport:
    """What an import did. `updated` and `skipped` concern people already in the school."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    classes_created: int = 0
    enrolments_created: int = 0
    guardian_links_created: int = 0

    def summary(self) -> str:
        return _(
            "%(created)d people created, %(updated)d updated, %(skipped)d left as they were; "
            "%(classes)d classes created, %(enrolments)d enrolments and %(links)d guardian "
            "links added."
        ) % {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "classes": self.classes_created,
            "enrolments": self.enrolments_created,
            "links": self.guardian_links_created,
        }


def _header(cells: list[str]) -> tuple[list[str], list[str]]:
    """Column names of the header (aliases resolved) and the problems with it."""
    names = [HEADER_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in cells]
    problems = []
    for name in sorted(set(names)):
        if name not in COLUMNS:
            problems.append(_('unknown column "%(name)s"') % {"name": name})
        elif names.count(name) > 1:
            problems.append(_('the column "%(name)s" appears twice') % {"name": name})
    for name in REQUIRED_COLUMNS:
        if name not in names:
            problems.append(_('the column "%(name)s" is missing') % {"name": name})
    return names, problems


def _words(cell: str) -> tuple[str, ...]:
    return tuple(word for word in _WORD_SEPARATORS.split(cell) if word)


def _check_username(username: str) -> list[str]:
    if not username:
        return [_("the username is missing")]
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        return [
            _('the username "%(name)s" may only hold letters, digits and @ . + - _')
            % {"name": username}
        ]
    if len(username) > 150:
        return [_("the username is longer than 150 characters")]
    return []


def _check_roles(words: tuple[str, ...]) -> tuple[frozenset[str], list[str]]:
    if not words:
        return frozenset(), [_("the role is missing")]
    unknown = [w for w in words if w.lower() not in ROLE_ALIASES]
    problems = [_('unknown role "%(role)s"') % {"role": w} for w in unknown]
    return frozenset(str(ROLE_ALIASES[w.lower()]) for w in words if w not in unknown), problems


def _check_password(password: str) -> list[str]:
    if not password:
        return []
    try:
        validate_password(password)
    except ValidationError as error:
        return [_("password refused: %(reasons)s") % {"reasons": " ".join(error.messages)}]
    return []


def _check_details(row: PersonRow) -> list[str]:
    problems = []
    if not row.full_name:
        problems.append(_("the full name is missing"))
    elif len(row.full_name) > 200:
        problems.append(_("the full name is longer than 200 characters"))
    if row.language and row.language not in accounts.LANGUAGE_CODES:
        problems.append(
            _('unknown language "%(language)s" (use one of: %(codes)s)')
            % {"language": row.language, "codes": ", ".join(c for c, _n in settings.LANGUAGES)}
        )
    if any(len(name) > 200 for name in row.classes):
        problems.append(_("a class name is longer than 200 characters"))
    if row.classes and not row.roles & {SchoolRole.Kind.TEACHER, SchoolRole.Kind.LEARNER}:
        problems.append(_("a class is given but the person is neither learner nor teacher"))
    if row.guardian_of and SchoolRole.Kind.PARENT not in row.roles:
        problems.append(_("guardian_of is given but the roles do not include parent"))
    if row.username in row.guardian_of:
        problems.append(_("a person cannot be their own guardian"))
    return problems


def _parse_row(line: int, cells: Mapping[str, str]) -> tuple[PersonRow, list[str]]:
    """One row and every reason to refuse it (without its line number)."""
    username = normalize_username(unprotect(cells.get("username", "")))
    roles, problems = _check_roles(_words(unprotect(cells.get("roles", ""))))
    row = PersonRow(
        line=line,
        username=username,
        full_name=unprotect(cells.get("full_name", "")),
        roles=roles,
        password=cells.get("password", "").strip("\r\n"),
        language=unprotect(cells.get("language", "")).lower(),
        classes=tuple(
            dict.fromkeys(
                name
                for name in (unprotect(part) for part in cells.get("class", "").split(";"))
                if name
            )
        ),
        guardian_of=tuple(normalize_username(w) for w in _words(cells.get("guardian_of", ""))),
    )
    return row, [
        *_check_username(username),
        *problems,
        *_check_details(row),
        *_check_password(row.password),
    ]


Problems = list[tuple[int, str]]  # (line, reason)


def _parse(text: str) -> tuple[list[PersonRow], Problems]:
    """Every row of the file and every problem with its line number."""
    records = read_records(text, sniff_delimiter(text))
    first = next(records, None)
    if first is None:
        return [], [(1, _("the file is empty"))]
    names, header_problems = _header(first[1])
    if header_problems:
        return [], [(1, problem) for problem in header_problems]
    rows: list[PersonRow] = []
    problems: Problems = []
    for line, cells in records:
        if len(rows) >= MAX_ROWS:
            return [], [(line, _("the file has more than %(max)d rows") % {"max": MAX_ROWS})]
        if any(cell.strip() for cell in cells[len(names) :]):
            problems.append(
                (
                    line,
                    _("the row has %(cells)d cells but the header has %(columns)d")
                    % {"cells": len(cells), "columns": len(names)},
                )
            )
        row, reasons = _parse_row(line, dict(zip(names, cells, strict=False)))
        problems.extend((line, reason) for reason in reasons)
        rows.append(row)
    if not rows and not problems:
        problems.append((2, _("the file has no people, only a header")))
    return rows, problems


def _check_against_school(
    rows: list[PersonRow], existing: Mapping[str, uuid.UUID], on_existing: OnExisting
) -> Problems:
    """Duplicates in the file, people already in the school, unknown children."""
    problems: Problems = []
    first_line: dict[str, int] = {}
    for row in rows:
        if not row.username:
            continue
        if row.username in first_line:
            problems.append(
                (
                    row.line,
                    _('the username "%(name)s" is already on line %(first)d')
                    % {"name": row.username, "first": first_line[row.username]},
                )
            )
            continue
        first_line[row.username] = row.line
        if on_existing == "refuse" and row.username in existing:
            reason = _('"%(name)s" is already a person of this school') % {"name": row.username}
            problems.append((row.line, reason))
    for row in rows:
        for child in row.guardian_of:
            if child not in first_line and child not in existing:
                reason = _('unknown child "%(name)s" in guardian_of') % {"name": child}
                problems.append((row.line, reason))
    return problems


# ---------------------------------------------------------------- importing


def import_users_csv(
    *, school: School, file: IO[bytes] | bytes | str, on_existing: OnExisting = "refuse"
) -> ImportReport:
    """Import the people of a CSV file (format in this module's docstring) into a school.

    People already in the school are refused (on_existing="refuse", the default),
    updated (names, language, a given password; roles, classes and children are
    added, never taken away) or left as they are ("skip").

    Raises ValidationFailed listing every problem, with its line number, when any
    row is refused; nothing is written then. All of it is one transaction.
    """
    try:
        text = decode_text(_as_bytes(file))
        rows, found = _parse(text)
    except UnreadableCsv as error:
        rows, found = [], [(error.line, error.reason)]
    existing = dict(
        User.objects.filter(school_id=school.id).values_list("username", "id").iterator()
    )
    found += _check_against_school(rows, existing, on_existing)
    problems = [at_line(line, reason) for line, reason in sorted(found, key=lambda p: p[0])]
    if problems:
        raise ValidationFailed(problems_message(problems), problems)
    return _apply(school=school, rows=rows, existing=existing, on_existing=on_existing)


def problems_message(problems: list[str], *, limit: int = 50) -> str:
    """One line naming the problems (the first `limit` of them)."""
    shown = "; ".join(problems[:limit])
    if len(problems) > limit:
        shown += "; " + _("and %(more)d more") % {"more": len(problems) - limit}
    return ngettext(
        "the file has %(count)d problem, nothing was imported: %(list)s",
        "the file has %(count)d problems, nothing was imported: %(list)s",
        len(problems),
    ) % {"count": len(problems), "list": shown}


@dataclass
class _Import:
    school: School
    report: ImportReport
    classes: dict[str, Classroom]
    people: dict[str, User] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)


@transaction.atomic
def _apply(
    *,
    school: School,
    rows: list[PersonRow],
    existing: Mapping[str, uuid.UUID],
    on_existing: OnExisting,
) -> ImportReport:
    state = _Import(
        school=school,
        report=ImportReport(),
        classes={c.name.casefold(): c for c in Classroom.objects.filter(school=school)},
    )
    old = {u.username: u for u in User.objects.filter(id__in=existing.values())}
    for row in rows:
        user = old.get(row.username)
        if user is not None and on_existing == "skip":
            state.report.skipped += 1
            continue
        if user is None:
            user = services.create_person(
                school=school,
                username=row.username,
                full_name=row.full_name,
                roles=row.roles,
                password=row.password or None,
                language=row.language,
            )
            state.report.created += 1
        else:
            _update_person(state, user, row)
        state.people[row.username] = user
        _enrol(state, user, row)
    for row in rows:
        if row.username in state.people:
            _link_children(state, state.people[row.username], row, old)
    changed_old = state.changed & old.keys()
    state.report.updated = len(changed_old)
    state.report.skipped += len(old.keys() & state.people.keys()) - len(changed_old)
    return state.report


def _update_person(state: _Import, user: User, row: PersonRow) -> None:
    changes: dict[str, str] = {}
    if row.full_name != user.full_name:
        changes["full_name"] = row.full_name
    if row.language and row.language != user.language:
        changes["language"] = row.language
    if row.password and not user.check_password(row.password):
        changes["password"] = row.password
    if changes:
        accounts.update_user(user=user, **changes)
        state.changed.add(row.username)
    held = set(
        SchoolRole.objects.filter(school=state.school, user=user).values_list("kind", flat=True)
    )
    for kind in sorted(row.roles - held):
        services.grant_role(school=state.school, user=user, kind=kind)
        state.changed.add(row.username)


def _enrol(state: _Import, user: User, row: PersonRow) -> None:
    for name in row.classes:
        classroom = state.classes.get(name.casefold())
        if classroom is None:
            classroom = services.create_classroom(school=state.school, name=name)
            state.classes[name.casefold()] = classroom
            state.report.classes_created += 1
        if not Enrolment.objects.filter(classroom=classroom, user=user, kind=row.enrol_as).exists():
            services.enrol(classroom=classroom, user=user, kind=row.enrol_as)
            state.report.enrolments_created += 1
            state.changed.add(row.username)


def _link_children(state: _Import, user: User, row: PersonRow, old: Mapping[str, User]) -> None:
    for name in row.guardian_of:
        child = state.people.get(name) or old[name]
        if not GuardianLink.objects.filter(guardian=user, child=child).exists():
            services.link_guardian(school=state.school, guardian=user, child=child)
            state.report.guardian_links_created += 1
            state.changed.add(row.username)


def import_people_upload(
    *, school_id: uuid.UUID, data: bytes, on_existing: OnExisting = "refuse"
) -> ImportReport:
    """The import as a background task would run it: ids and bytes in, a report out."""
    school = School.objects.get(id=school_id)
    return import_users_csv(school=school, file=data, on_existing=on_existing)


# ---------------------------------------------------------------- exporting


def _rows_for_export(school: School) -> Iterable[list[str]]:
    people = list(
        User.objects.filter(school_id=school.id, is_active=True)
        .order_by("username")
        .values_list("id", "username", "full_name", "language")
    )
    roles: dict[uuid.UUID, set[str]] = defaultdict(set)
    for user_id, kind in SchoolRole.objects.filter(school=school).values_list("user_id", "kind"):
        roles[user_id].add(kind)
    classes: dict[uuid.UUID, list[str]] = defaultdict(list)
    for user_id, name in (
        Enrolment.objects.filter(school=school)
        .order_by("classroom__name")
        .values_list("user_id", "classroom__name")
        .distinct()
    ):
        classes[user_id].append(name)
    children: dict[uuid.UUID, list[str]] = defaultdict(list)
    for guardian_id, child in (
        GuardianLink.objects.filter(school=school, child__is_active=True)
        .order_by("child__username")
        .values_list("guardian_id", "child__username")
    ):
        children[guardian_id].append(child)
    for user_id, username, full_name, language in people:
        if not roles[user_id]:
            continue  # no role here: it could not be imported back
        yield [
            username,
            full_name,
            ";".join(kind for kind in ROLE_ORDER if kind in roles[user_id]),
            "",
            language,
            ";".join(classes[user_id]),
            ";".join(children[user_id]),
        ]


def export_users_csv(*, school: School) -> str:
    """The active people of a school who hold a role there, as CSV in the import format.

    Passwords are never written. Four queries, whatever the size of the school.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _rows_for_export(school):
        writer.writerow([protect(cell) for cell in row])
    return out.getvalue()


def template_csv() -> str:
    """A small example file to start from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(["aminata.traore", "Aminata Traoré", "learner", "", "fr", "5A", ""])
    writer.writerow(["moussa.diarra", "Moussa Diarra", "teacher;admin", "", "fr", "5A", ""])
    writer.writerow(["awa.traore", "Awa Traoré", "parent", "", "bm", "", "aminata.traore"])
    return out.getvalue()
