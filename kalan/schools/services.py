"""Every write to schools, classes, groups and roles. Keyword-only, one transaction each."""

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from kalan.accounts import services as accounts
from kalan.accounts.models import User
from kalan.core.errors import ValidationFailed
from kalan.schools.models import (
    AdminArea,
    AreaViewer,
    Classroom,
    Enrolment,
    GroupMembership,
    GuardianLink,
    LearnerGroup,
    School,
    SchoolRole,
)
from kalan.schools.roles import forget_roles


def _save(obj: models.Model, duplicate_message: str) -> None:
    """Validate and save; turn every refusal into one ValidationFailed."""
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        problems = [f"{field}: {' '.join(m)}" for field, m in error.message_dict.items()]
        raise ValidationFailed("; ".join(problems), problems) from error
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise ValidationFailed(duplicate_message) from error


def create_area(
    *, name: str, kind: str, parent: AdminArea | None = None, code: str = ""
) -> AdminArea:
    area = AdminArea(name=name.strip(), kind=kind, parent=parent, code=code.strip())
    _save(area, _("An admin area with this code already exists."))
    return area


def create_school(
    *,
    name: str,
    code: str,
    area: AdminArea | None = None,
    government_id: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    passwordless_signin: bool = False,
    language: str = "",
    school_id: uuid.UUID | None = None,
) -> School:
    school = School(
        id=school_id or uuid.uuid4(),
        name=name.strip(),
        code=code.strip(),
        area=area,
        government_id=government_id.strip(),
        latitude=latitude,
        longitude=longitude,
        passwordless_signin=passwordless_signin,
        language=language,
    )
    _save(school, _("A school with this code already exists."))
    return school


def update_school(*, school: School, **changes: object) -> School:
    allowed = {
        "name",
        "code",
        "government_id",
        "area",
        "latitude",
        "longitude",
        "passwordless_signin",
        "language",
    }
    for field, value in changes.items():
        if field not in allowed:
            raise ValidationFailed(f"{field}: cannot be changed here")
        setattr(school, field, value)
    _save(school, _("A school with this code already exists."))
    return school


def close_school(*, school: School, reason: str, closed_on: datetime.date) -> None:
    """Record that a school is closed (its data stays)."""
    if not reason.strip():
        raise ValidationFailed(_("Give the reason for closing the school."))
    school.status, school.closed_reason, school.closed_on = (
        School.Status.CLOSED,
        reason.strip(),
        closed_on,
    )
    _save(school, "")


def reopen_school(*, school: School) -> None:
    school.status, school.closed_reason, school.closed_on = School.Status.OPEN, "", None
    _save(school, "")


def grant_role(*, school: School, user: User, kind: str) -> SchoolRole:
    """Give a person a role in a school (idempotent)."""
    if kind not in SchoolRole.Kind.values:
        raise ValidationFailed(_("Unknown role."))
    with transaction.atomic():
        role, _created = SchoolRole.objects.get_or_create(school=school, user=user, kind=kind)
    forget_roles(user)
    return role


def revoke_role(*, school: School, user: User, kind: str) -> None:
    SchoolRole.objects.filter(school=school, user=user, kind=kind).delete()
    forget_roles(user)


def grant_area_viewer(*, user: User, area: AdminArea) -> AreaViewer:
    viewer, _created = AreaViewer.objects.get_or_create(user=user, area=area)
    forget_roles(user)
    return viewer


@transaction.atomic
def create_person(
    *,
    school: School,
    username: str,
    full_name: str,
    roles: Iterable[str],
    password: str | None = None,
    language: str = "",
    user_id: uuid.UUID | None = None,
    source_id: str = "",
) -> User:
    """A person of a school with their roles, in one transaction."""
    roles = list(roles)
    if not roles:
        raise ValidationFailed(_("Choose at least one role."))
    user = accounts.create_user(
        username=username,
        full_name=full_name,
        school_id=school.id,
        password=password,
        language=language,
        user_id=user_id,
        source_id=source_id,
    )
    for kind in roles:
        grant_role(school=school, user=user, kind=kind)
    return user


@transaction.atomic
def set_person_roles(*, school: School, user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    if not wanted:
        raise ValidationFailed(_("Choose at least one role."))
    SchoolRole.objects.filter(school=school, user=user).exclude(kind__in=wanted).delete()
    for kind in wanted:
        grant_role(school=school, user=user, kind=kind)


def link_guardian(*, school: School, guardian: User, child: User) -> GuardianLink:
    if guardian.id == child.id:
        raise ValidationFailed(_("A person cannot be their own guardian."))
    with transaction.atomic():
        grant_role(school=school, user=guardian, kind=SchoolRole.Kind.PARENT)
        link, _created = GuardianLink.objects.get_or_create(
            guardian=guardian, child=child, defaults={"school": school}
        )
    return link


def unlink_guardian(*, guardian: User, child: User) -> None:
    GuardianLink.objects.filter(guardian=guardian, child=child).delete()


def create_classroom(
    *,
    school: School,
    name: str,
    grade: str = "",
    source_id: str = "",
    classroom_id: uuid.UUID | None = None,
) -> Classroom:
    classroom = Classroom(
        id=classroom_id or uuid.uuid4(),
        school=school,
        name=name.strip(),
        grade=grade.strip(),
        source_id=source_id,
    )
    _save(classroom, _("A class with this name already exists in this school."))
    return classroom


def update_classroom(*, classroom: Classroom, name: str, grade: str, is_active: bool) -> Classroom:
    classroom.name, classroom.grade, classroom.is_active = name.strip(), grade.strip(), is_active
    _save(classroom, _("A class with this name already exists in this school."))
    return classroom


def enrol(*, classroom: Classroom, user: User, kind: str) -> Enrolment:
    """Put a teacher or learner in a class (idempotent). They get the school role too."""
    if kind not in Enrolment.Kind.values:
        raise ValidationFailed(_("Unknown role."))
    if user.school_id != classroom.school_id:
        raise ValidationFailed(_("This person belongs to another school."))
    with transaction.atomic():
        grant_role(school=classroom.school, user=user, kind=kind)
        enrolment, _created = Enrolment.objects.get_or_create(
            classroom=classroom, user=user, kind=kind, defaults={"school": classroom.school}
        )
    forget_roles(user)
    return enrolment


def unenrol(*, enrolment: Enrolment) -> None:
    with transaction.atomic():
        GroupMembership.objects.filter(
            group__classroom=enrolment.classroom, user_id=enrolment.user_id
        ).delete()
        enrolment.delete()


def create_group(*, classroom: Classroom, name: str) -> LearnerGroup:
    group = LearnerGroup(school=classroom.school, classroom=classroom, name=name.strip())
    _save(group, _("A group with this name already exists in this class."))
    return group


def rename_group(*, group: LearnerGroup, name: str) -> LearnerGroup:
    group.name = name.strip()
    _save(group, _("A group with this name already exists in this class."))
    return group


def delete_group(*, group: LearnerGroup) -> None:
    group.delete()


def add_to_group(*, group: LearnerGroup, user: User) -> GroupMembership:
    """Only learners of the group's class may join it."""
    if not Enrolment.objects.filter(
        classroom_id=group.classroom_id, user=user, kind=Enrolment.Kind.LEARNER
    ).exists():
        raise ValidationFailed(_("Only learners of this class can join its groups."))
    membership, _created = GroupMembership.objects.get_or_create(
        group=group, user=user, defaults={"school_id": group.school_id}
    )
    return membership


def remove_from_group(*, group: LearnerGroup, user: User) -> None:
    GroupMembership.objects.filter(group=group, user=user).delete()


@transaction.atomic
def update_person(
    *,
    school: School,
    user: User,
    username: str,
    full_name: str,
    roles: Iterable[str],
    language: str = "",
    password: str | None = None,
) -> User:
    """Change a person's details and roles in a school, in one transaction."""
    accounts.update_user(
        user=user, username=username, full_name=full_name, language=language, password=password
    )
    set_person_roles(school=school, user=user, roles=roles)
    return user


@transaction.atomic
def enrol_people(*, classroom: Classroom, users: Iterable[User], kind: str) -> int:
    """Enrol several people at once (all or none); returns how many were given."""
    count = 0
    for user in users:
        enrol(classroom=classroom, user=user, kind=kind)
        count += 1
    return count


@transaction.atomic
def add_people_to_group(*, group: LearnerGroup, users: Iterable[User]) -> int:
    """Add several learners of the class to a group (all or none)."""
    count = 0
    for user in users:
        add_to_group(group=group, user=user)
        count += 1
    return count
