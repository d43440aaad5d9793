"""JSON endpoints for schools, people, classes and memberships. Thin.

Every handler asks `kalan.schools.permissions` first: lists start from a
`visible_*` queryset, details and writes from an `access_*_by_id` check, so a
thing the caller may not read is not found (404) and a thing they may only
read is refused (403). Lists are read with `.values()` and paginated, so the
number of queries does not grow with the number of rows.
"""

import datetime
import uuid
from typing import Annotated, Any

from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.params import functions as params

from kalan.accounts import services as accounts
from kalan.accounts.models import User
from kalan.core.errors import NotFound, PermissionDenied, ValidationFailed
from kalan.schools import services
from kalan.schools.models import (
    AdminArea,
    Enrolment,
    GroupMembership,
    GuardianLink,
    LearnerGroup,
    School,
    SchoolRole,
)
from kalan.schools.permissions import (
    access_classroom_by_id,
    access_enrolment_by_id,
    access_group_by_id,
    access_school_by_id,
    access_user_by_id,
    can_manage_school,
    visible_classrooms,
    visible_enrolments,
    visible_schools,
    visible_users,
)
from kalan.schools.roles import roles_of

MAX_PAGE = 500
Page = LimitOffsetPagination
# `?class=<id>`: "class" cannot be a parameter's name in Python.
ClassFilter = Annotated[uuid.UUID | None, params.Query(None, alias="class")]


def _caller(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    if not isinstance(user, User):  # pragma: no cover - the API refuses anonymous calls
        raise PermissionDenied(_("Sign in first."))
    return user


# ---------------------------------------------------------------- schemas


class SchoolOut(Schema):
    id: uuid.UUID
    name: str
    code: str
    government_id: str
    area_id: uuid.UUID | None
    area_name: str | None
    status: str
    closed_reason: str
    closed_on: datetime.date | None
    passwordless_signin: bool
    language: str
    latitude: float | None
    longitude: float | None


class SchoolIn(Schema):
    name: str
    code: str
    area_id: uuid.UUID | None = None
    government_id: str = ""
    latitude: float | None = None
    longitude: float | None = None
    passwordless_signin: bool = False
    language: str = ""


class SchoolPatch(Schema):
    name: str | None = None
    code: str | None = None
    area_id: uuid.UUID | None = None
    government_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    passwordless_signin: bool | None = None
    language: str | None = None


class CloseIn(Schema):
    reason: str
    closed_on: datetime.date | None = None


class UserOut(Schema):
    """What the API tells about a person: little, since most are children."""

    id: uuid.UUID
    username: str
    full_name: str
    school_id: uuid.UUID | None
    language: str
    is_active: bool


class RoleBrief(Schema):
    school_id: uuid.UUID
    kind: SchoolRole.Kind


class UserDetailOut(UserOut):
    roles: list[RoleBrief]


class UserIn(Schema):
    school_id: uuid.UUID
    username: str
    full_name: str
    roles: list[SchoolRole.Kind] = Field(..., min_length=1)
    password: str | None = None
    language: str = ""


class UserPatch(Schema):
    full_name: str | None = None
    username: str | None = None
    language: str | None = None
    password: str | None = None


class ClassOut(Schema):
    id: uuid.UUID
    school_id: uuid.UUID
    name: str
    grade: str
    is_active: bool


class ClassIn(Schema):
    school_id: uuid.UUID
    name: str
    grade: str = ""


class ClassPatch(Schema):
    name: str | None = None
    grade: str | None = None
    is_active: bool | None = None


class EnrolmentOut(Schema):
    id: uuid.UUID
    school_id: uuid.UUID
    class_id: uuid.UUID
    user_id: uuid.UUID
    kind: Enrolment.Kind


class EnrolmentIn(Schema):
    class_id: uuid.UUID
    user_id: uuid.UUID
    kind: Enrolment.Kind


class RoleOut(Schema):
    id: uuid.UUID
    school_id: uuid.UUID
    user_id: uuid.UUID
    kind: SchoolRole.Kind


class RoleIn(Schema):
    school_id: uuid.UUID
    user_id: uuid.UUID
    kind: SchoolRole.Kind


class GroupOut(Schema):
    id: uuid.UUID
    school_id: uuid.UUID
    class_id: uuid.UUID
    name: str


class GroupIn(Schema):
    class_id: uuid.UUID
    name: str


class GroupPatch(Schema):
    name: str


class MemberOut(Schema):
    user_id: uuid.UUID
    full_name: str


class MemberIn(Schema):
    user_id: uuid.UUID


class GuardianLinkOut(Schema):
    id: uuid.UUID
    school_id: uuid.UUID
    guardian_id: uuid.UUID
    child_id: uuid.UUID


class GuardianLinkIn(Schema):
    school_id: uuid.UUID
    guardian_id: uuid.UUID
    child_id: uuid.UUID


SCHOOL_FIELDS = (
    "id",
    "name",
    "code",
    "government_id",
    "area_id",
    "status",
    "closed_reason",
    "closed_on",
    "passwordless_signin",
    "language",
    "latitude",
    "longitude",
)
USER_FIELDS = ("id", "username", "full_name", "school_id", "language", "is_active")
CLASS_FIELDS = ("id", "school_id", "name", "grade", "is_active")


def _same_school(school_id: uuid.UUID, *people: User) -> None:
    if any(person.school_id != school_id for person in people):
        raise ValidationFailed(_("This person belongs to another school."))


def _not_self(me: User, target: User) -> None:
    if me.id == target.id:
        raise ValidationFailed(_("You cannot do this to your own account."))


# ---------------------------------------------------------------- schools

schools_router = Router(tags=["schools"])


def _school_row(school_id: uuid.UUID) -> dict[str, Any]:
    """One school's fields (the caller's access is checked before)."""
    row: dict[str, Any] = (
        School.objects.filter(id=school_id).values(*SCHOOL_FIELDS, area_name=F("area__name")).get()
    )
    return row


@schools_router.get("", response=list[SchoolOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_schools(
    request: HttpRequest, area: uuid.UUID | None = None, status: str | None = None
) -> Any:
    schools = visible_schools(_caller(request))
    if area:
        schools = schools.filter(Q(area_id=area) | Q(area__parent_id=area))
    if status:
        schools = schools.filter(status=status)
    return schools.order_by("name", "id").values(*SCHOOL_FIELDS, area_name=F("area__name"))


@schools_router.post("", response={201: SchoolOut})
def create_school(request: HttpRequest, payload: SchoolIn) -> Any:
    """A new school: for superusers only."""
    if not roles_of(_caller(request)).superuser:
        raise PermissionDenied(_("Only national administrators can create schools."))
    fields = payload.model_dump()
    fields["area"] = _area(fields.pop("area_id"))
    school = services.create_school(**fields)
    return _school_row(school.id)


@schools_router.get("/{uuid:school_id}", response=SchoolOut)
def get_school(request: HttpRequest, school_id: uuid.UUID) -> Any:
    return _school_row(access_school_by_id(_caller(request), school_id).id)


def _area(area_id: uuid.UUID | None) -> AdminArea | None:
    if area_id is None:
        return None
    area: AdminArea | None = AdminArea.objects.filter(id=area_id).first()
    if area is None:
        raise ValidationFailed(_("Unknown admin area."))
    return area


@schools_router.patch("/{uuid:school_id}", response=SchoolOut)
def update_school(request: HttpRequest, school_id: uuid.UUID, payload: SchoolPatch) -> Any:
    """Change a school's details; moving it to another area is for superusers only."""
    me = _caller(request)
    school = access_school_by_id(me, school_id, write=True)
    changes = payload.model_dump(exclude_unset=True)
    if "area_id" in changes:
        if not roles_of(me).superuser:
            raise PermissionDenied(_("Only national administrators can move a school."))
        changes["area"] = _area(changes.pop("area_id"))
    services.update_school(school=school, **changes)
    return _school_row(school.id)


@schools_router.post("/{uuid:school_id}/close", response=SchoolOut)
def close_school(request: HttpRequest, school_id: uuid.UUID, payload: CloseIn) -> Any:
    school = access_school_by_id(_caller(request), school_id, write=True)
    services.close_school(
        school=school, reason=payload.reason, closed_on=payload.closed_on or timezone.localdate()
    )
    return _school_row(school.id)


@schools_router.post("/{uuid:school_id}/reopen", response=SchoolOut)
def reopen_school(request: HttpRequest, school_id: uuid.UUID) -> Any:
    school = access_school_by_id(_caller(request), school_id, write=True)
    services.reopen_school(school=school)
    return _school_row(school.id)


# ---------------------------------------------------------------- users

users_router = Router(tags=["users"])


def _user_detail(me: User, target: User) -> dict[str, Any]:
    roles = (
        SchoolRole.objects.filter(user_id=target.id, school_id__in=visible_schools(me).values("id"))
        .order_by("school_id", "kind")
        .values("school_id", "kind")
    )
    return {**{name: getattr(target, name) for name in USER_FIELDS}, "roles": list(roles)}


@users_router.get("", response=list[UserOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_users(
    request: HttpRequest,
    school: uuid.UUID | None = None,
    role: SchoolRole.Kind | None = None,
    class_id: ClassFilter = None,
    active: bool | None = None,
    q: str | None = None,
) -> Any:
    """People the caller may see, by name; filters combine."""
    users = visible_users(_caller(request))
    if school:
        users = users.filter(school_id=school)
    if role:
        roles = SchoolRole.objects.filter(kind=role)
        if school:
            roles = roles.filter(school_id=school)
        users = users.filter(id__in=roles.values("user_id"))
    if class_id:
        users = users.filter(
            id__in=Enrolment.objects.filter(classroom_id=class_id).values("user_id")
        )
    if active is not None:
        users = users.filter(is_active=active)
    if q:
        users = users.filter(Q(full_name__icontains=q) | Q(username__icontains=q))
    return users.distinct().order_by("full_name", "id").values(*USER_FIELDS)


@users_router.get("/me", response=UserDetailOut)
def get_me(request: HttpRequest) -> Any:
    me = _caller(request)
    return _user_detail(me, me)


@users_router.post("", response={201: UserDetailOut})
def create_user(request: HttpRequest, payload: UserIn) -> Any:
    """A person of a school with their roles (school admins of that school)."""
    me = _caller(request)
    school = access_school_by_id(me, payload.school_id, write=True)
    user = services.create_person(
        school=school,
        username=payload.username,
        full_name=payload.full_name,
        roles=[str(kind) for kind in payload.roles],
        password=payload.password,
        language=payload.language,
    )
    return _user_detail(me, user)


@users_router.get("/{uuid:user_id}", response=UserDetailOut)
def get_user(request: HttpRequest, user_id: uuid.UUID) -> Any:
    me = _caller(request)
    return _user_detail(me, access_user_by_id(me, user_id))


@users_router.patch("/{uuid:user_id}", response=UserDetailOut)
def update_user(request: HttpRequest, user_id: uuid.UUID, payload: UserPatch) -> Any:
    me = _caller(request)
    target = access_user_by_id(me, user_id, write=True)
    accounts.update_user(user=target, **payload.model_dump(exclude_unset=True))
    return _user_detail(me, target)


@users_router.post("/{uuid:user_id}/deactivate", response=UserDetailOut)
def deactivate_user(request: HttpRequest, user_id: uuid.UUID) -> Any:
    """The person can no longer sign in and their tokens are revoked; records stay."""
    me = _caller(request)
    target = access_user_by_id(me, user_id, write=True)
    _not_self(me, target)
    accounts.deactivate_user(user=target)
    return _user_detail(me, target)


@users_router.post("/{uuid:user_id}/reactivate", response=UserDetailOut)
def reactivate_user(request: HttpRequest, user_id: uuid.UUID) -> Any:
    me = _caller(request)
    target = access_user_by_id(me, user_id, write=True)
    accounts.reactivate_user(user=target)
    return _user_detail(me, target)


@users_router.delete("/{uuid:user_id}", response={204: None})
def delete_user(request: HttpRequest, user_id: uuid.UUID) -> None:
    """Only a person without learning records can be deleted (409 otherwise)."""
    me = _caller(request)
    target = access_user_by_id(me, user_id, write=True)
    _not_self(me, target)
    accounts.delete_user(user=target)


# ---------------------------------------------------------------- classes

classes_router = Router(tags=["classes"])


@classes_router.get("", response=list[ClassOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_classes(
    request: HttpRequest, school: uuid.UUID | None = None, active: bool | None = None
) -> Any:
    classes = visible_classrooms(_caller(request))
    if school:
        classes = classes.filter(school_id=school)
    if active is not None:
        classes = classes.filter(is_active=active)
    return classes.order_by("name", "id").values(*CLASS_FIELDS)


@classes_router.post("", response={201: ClassOut})
def create_class(request: HttpRequest, payload: ClassIn) -> Any:
    school = access_school_by_id(_caller(request), payload.school_id, write=True)
    return services.create_classroom(school=school, name=payload.name, grade=payload.grade)


@classes_router.get("/{uuid:class_id}", response=ClassOut)
def get_class(request: HttpRequest, class_id: uuid.UUID) -> Any:
    return access_classroom_by_id(_caller(request), class_id)


@classes_router.patch("/{uuid:class_id}", response=ClassOut)
def update_class(request: HttpRequest, class_id: uuid.UUID, payload: ClassPatch) -> Any:
    classroom = access_classroom_by_id(_caller(request), class_id, write=True)
    return services.update_classroom(
        classroom=classroom,
        name=classroom.name if payload.name is None else payload.name,
        grade=classroom.grade if payload.grade is None else payload.grade,
        is_active=classroom.is_active if payload.is_active is None else payload.is_active,
    )


@classes_router.post("/{uuid:class_id}/deactivate", response=ClassOut)
def deactivate_class(request: HttpRequest, class_id: uuid.UUID) -> Any:
    """The class stays with its records but is no longer offered."""
    classroom = access_classroom_by_id(_caller(request), class_id, write=True)
    return services.update_classroom(
        classroom=classroom, name=classroom.name, grade=classroom.grade, is_active=False
    )


# ---------------------------------------------------------------- enrolments

enrolments_router = Router(tags=["memberships"])


@enrolments_router.get("", response=list[EnrolmentOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_enrolments(
    request: HttpRequest,
    school: uuid.UUID | None = None,
    class_id: ClassFilter = None,
    user: uuid.UUID | None = None,
    kind: Enrolment.Kind | None = None,
) -> Any:
    enrolments = visible_enrolments(_caller(request))
    if school:
        enrolments = enrolments.filter(school_id=school)
    if class_id:
        enrolments = enrolments.filter(classroom_id=class_id)
    if user:
        enrolments = enrolments.filter(user_id=user)
    if kind:
        enrolments = enrolments.filter(kind=kind)
    return enrolments.order_by("classroom_id", "kind", "user_id").values(
        "id", "school_id", "user_id", "kind", class_id=F("classroom_id")
    )


@enrolments_router.post("", response={201: EnrolmentOut})
def create_enrolment(request: HttpRequest, payload: EnrolmentIn) -> Any:
    """Put a teacher or learner of the school in a class (they get the school role too)."""
    me = _caller(request)
    classroom = access_classroom_by_id(me, payload.class_id, write=True)
    target = access_user_by_id(me, payload.user_id)
    enrolment = services.enrol(classroom=classroom, user=target, kind=str(payload.kind))
    return _enrolment_out(enrolment)


def _enrolment_out(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "id": enrolment.id,
        "school_id": enrolment.school_id,
        "class_id": enrolment.classroom_id,
        "user_id": enrolment.user_id,
        "kind": enrolment.kind,
    }


@enrolments_router.delete("/{uuid:enrolment_id}", response={204: None})
def delete_enrolment(request: HttpRequest, enrolment_id: uuid.UUID) -> None:
    """Take the person out of the class and of its groups."""
    services.unenrol(enrolment=access_enrolment_by_id(_caller(request), enrolment_id, write=True))


# ---------------------------------------------------------------- school roles

roles_router = Router(tags=["memberships"])


def _visible_roles(me: User) -> QuerySet[SchoolRole]:
    """Roles of people the caller may see, in schools the caller may see."""
    return SchoolRole.objects.filter(
        school_id__in=visible_schools(me).values("id"),
        user_id__in=visible_users(me).values("id"),
    )


@roles_router.get("", response=list[RoleOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_roles(
    request: HttpRequest,
    school: uuid.UUID | None = None,
    user: uuid.UUID | None = None,
    kind: SchoolRole.Kind | None = None,
) -> Any:
    roles = _visible_roles(_caller(request))
    if school:
        roles = roles.filter(school_id=school)
    if user:
        roles = roles.filter(user_id=user)
    if kind:
        roles = roles.filter(kind=kind)
    return roles.order_by("school_id", "user_id", "kind").values(
        "id", "school_id", "user_id", "kind"
    )


@roles_router.post("", response={201: RoleOut})
def create_role(request: HttpRequest, payload: RoleIn) -> Any:
    """Give a person of the school a role there (idempotent)."""
    me = _caller(request)
    school = access_school_by_id(me, payload.school_id, write=True)
    target = access_user_by_id(me, payload.user_id)
    _same_school(school.id, target)
    return services.grant_role(school=school, user=target, kind=str(payload.kind))


@roles_router.delete("/{uuid:role_id}", response={204: None})
def delete_role(request: HttpRequest, role_id: uuid.UUID) -> None:
    me = _caller(request)
    role = _visible_roles(me).select_related("school", "user").filter(id=role_id).first()
    if role is None:
        raise NotFound("role")
    if not can_manage_school(me, role.school_id):
        raise PermissionDenied("role")
    services.revoke_role(school=role.school, user=role.user, kind=role.kind)


# ---------------------------------------------------------------- groups

groups_router = Router(tags=["memberships"])
GROUP_VALUES = {"class_id": F("classroom_id")}


@groups_router.get("", response=list[GroupOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_groups(
    request: HttpRequest,
    school: uuid.UUID | None = None,
    class_id: ClassFilter = None,
) -> Any:
    groups = LearnerGroup.objects.filter(
        classroom_id__in=visible_classrooms(_caller(request)).values("id")
    )
    if school:
        groups = groups.filter(school_id=school)
    if class_id:
        groups = groups.filter(classroom_id=class_id)
    return groups.order_by("name", "id").values("id", "school_id", "name", **GROUP_VALUES)


def _group_out(group: LearnerGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "school_id": group.school_id,
        "class_id": group.classroom_id,
        "name": group.name,
    }


@groups_router.post("", response={201: GroupOut})
def create_group(request: HttpRequest, payload: GroupIn) -> Any:
    """A group in a class: for the school's admins and the class's teachers."""
    me = _caller(request)
    classroom = access_classroom_by_id(me, payload.class_id)
    if not (can_manage_school(me, classroom.school_id) or classroom.id in roles_of(me).teaches):
        raise PermissionDenied("class")
    return _group_out(services.create_group(classroom=classroom, name=payload.name))


@groups_router.patch("/{uuid:group_id}", response=GroupOut)
def rename_group(request: HttpRequest, group_id: uuid.UUID, payload: GroupPatch) -> Any:
    group = access_group_by_id(_caller(request), group_id, write=True)
    return _group_out(services.rename_group(group=group, name=payload.name))


@groups_router.delete("/{uuid:group_id}", response={204: None})
def delete_group(request: HttpRequest, group_id: uuid.UUID) -> None:
    services.delete_group(group=access_group_by_id(_caller(request), group_id, write=True))


@groups_router.get("/{uuid:group_id}/members", response=list[MemberOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_group_members(request: HttpRequest, group_id: uuid.UUID) -> Any:
    """Members of the group whom the caller may see (a learner sees only themselves)."""
    me = _caller(request)
    group = access_group_by_id(me, group_id)
    return (
        GroupMembership.objects.filter(group=group, user_id__in=visible_users(me).values("id"))
        .order_by("user__full_name", "user_id")
        .values("user_id", full_name=F("user__full_name"))
    )


@groups_router.post("/{uuid:group_id}/members", response={201: MemberOut})
def add_group_member(request: HttpRequest, group_id: uuid.UUID, payload: MemberIn) -> Any:
    """Add a learner of the group's class."""
    me = _caller(request)
    group = access_group_by_id(me, group_id, write=True)
    target = access_user_by_id(me, payload.user_id)
    services.add_to_group(group=group, user=target)
    return {"user_id": target.id, "full_name": target.full_name}


@groups_router.delete("/{uuid:group_id}/members/{uuid:user_id}", response={204: None})
def remove_group_member(request: HttpRequest, group_id: uuid.UUID, user_id: uuid.UUID) -> None:
    me = _caller(request)
    group = access_group_by_id(me, group_id, write=True)
    services.remove_from_group(group=group, user=access_user_by_id(me, user_id))


# ---------------------------------------------------------------- guardian links

guardians_router = Router(tags=["memberships"])


def _visible_links(me: User) -> QuerySet[GuardianLink]:
    people = visible_users(me).values("id")
    return GuardianLink.objects.filter(
        school_id__in=visible_schools(me).values("id"),
        guardian_id__in=people,
        child_id__in=people,
    )


@guardians_router.get("", response=list[GuardianLinkOut])
@paginate(Page, max_limit=MAX_PAGE)
def list_guardian_links(
    request: HttpRequest,
    school: uuid.UUID | None = None,
    guardian: uuid.UUID | None = None,
    child: uuid.UUID | None = None,
) -> Any:
    links = _visible_links(_caller(request))
    if school:
        links = links.filter(school_id=school)
    if guardian:
        links = links.filter(guardian_id=guardian)
    if child:
        links = links.filter(child_id=child)
    return links.order_by("guardian_id", "child_id").values(
        "id", "school_id", "guardian_id", "child_id"
    )


@guardians_router.post("", response={201: GuardianLinkOut})
def create_guardian_link(request: HttpRequest, payload: GuardianLinkIn) -> Any:
    """Link a parent or guardian to a child of the same school (the guardian gets the role)."""
    me = _caller(request)
    school = access_school_by_id(me, payload.school_id, write=True)
    guardian = access_user_by_id(me, payload.guardian_id)
    child = access_user_by_id(me, payload.child_id)
    _same_school(school.id, guardian, child)
    return services.link_guardian(school=school, guardian=guardian, child=child)


@guardians_router.delete("/{uuid:link_id}", response={204: None})
def delete_guardian_link(request: HttpRequest, link_id: uuid.UUID) -> None:
    me = _caller(request)
    link = _visible_links(me).select_related("guardian", "child").filter(id=link_id).first()
    if link is None:
        raise NotFound("guardian link")
    if not can_manage_school(me, link.school_id):
        raise PermissionDenied("guardian link")
    services.unlink_guardian(guardian=link.guardian, child=link.child)


ROUTERS = (
    ("/schools", schools_router),
    ("/users", users_router),
    ("/classes", classes_router),
    ("/enrolments", enrolments_router),
    ("/roles", roles_router),
    ("/groups", groups_router),
    ("/guardian-links", guardians_router),
)
