"""Reads for the school admin pages: values and aggregates, a fixed number of queries each."""

import uuid
from typing import Any

from django.db.models import Count, Q, QuerySet

from kalan.accounts.models import User, normalize_username
from kalan.schools.models import (
    Classroom,
    Enrolment,
    GroupMembership,
    GuardianLink,
    LearnerGroup,
    School,
    SchoolRole,
)
from kalan.schools.permissions import visible_schools
from kalan.schools.roles import roles_of

Row = dict[str, Any]


def list_managed_schools(user: User) -> list[Any]:
    """Schools the person administers (every school for a superuser)."""
    schools = visible_schools(user)
    roles = roles_of(user)
    if not roles.superuser:
        schools = schools.filter(id__in=roles.admin_of)
    return list(schools.values("id", "name", "code", "status").order_by("name"))


def get_school_counts(school_id: uuid.UUID) -> Row:
    """Active people by role, people active and deactivated, classes (three queries)."""
    by_role = dict(
        SchoolRole.objects.filter(school_id=school_id, user__is_active=True)
        .values("kind")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("kind", "n")
    )
    people = User.objects.for_school(school_id).aggregate(
        active=Count("id", filter=Q(is_active=True)),
        deactivated=Count("id", filter=Q(is_active=False)),
    )
    classes = Classroom.objects.filter(school_id=school_id).aggregate(
        active=Count("id", filter=Q(is_active=True)),
        inactive=Count("id", filter=Q(is_active=False)),
    )
    roles = [
        {"kind": kind, "label": label, "count": by_role.get(kind, 0)}
        for kind, label in SchoolRole.Kind.choices
    ]
    return {"roles": roles, "people": people, "classes": classes}


def list_people(
    school_id: uuid.UUID,
    *,
    role: str = "",
    classroom_id: uuid.UUID | None = None,
    status: str = "active",
    search: str = "",
) -> QuerySet[User, Row]:
    """People of a school, filtered, by name; to be paginated by the caller."""
    people = User.objects.for_school(school_id)
    if role:
        people = people.filter(school_roles__school_id=school_id, school_roles__kind=role)
    if classroom_id:
        people = people.filter(enrolments__classroom_id=classroom_id).distinct()
    if status == "active":
        people = people.filter(is_active=True)
    elif status == "deactivated":
        people = people.filter(is_active=False)
    if search.strip():
        term = search.strip()
        people = people.filter(
            Q(full_name__icontains=term) | Q(username__icontains=normalize_username(term))
        )
    return people.order_by("full_name", "username").values(
        "id", "username", "full_name", "is_active"
    )


def get_roles_by_person(
    school_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The role labels each person holds in the school (one query)."""
    labels = dict(SchoolRole.Kind.choices)
    found: dict[uuid.UUID, list[str]] = {user_id: [] for user_id in user_ids}
    for user_id, kind in (
        SchoolRole.objects.filter(school_id=school_id, user_id__in=user_ids)
        .order_by("kind")
        .values_list("user_id", "kind")
    ):
        found[user_id].append(str(labels[kind]))
    return found


def list_person_roles(school_id: uuid.UUID, user_id: uuid.UUID) -> list[str]:
    return list(
        SchoolRole.objects.filter(school_id=school_id, user_id=user_id).values_list(
            "kind", flat=True
        )
    )


def list_class_choices(school_id: uuid.UUID) -> list[tuple[str, str]]:
    return [
        (str(row["id"]), row["name"])
        for row in Classroom.objects.filter(school_id=school_id)
        .order_by("name")
        .values("id", "name")
    ]


def list_classes(school_id: uuid.UUID) -> list[Row]:
    """Classes of a school with counts of active teachers, learners and groups (one query)."""
    active = Q(enrolments__user__is_active=True)
    return list(
        Classroom.objects.filter(school_id=school_id)
        .annotate(
            teachers=Count(
                "enrolments", filter=active & Q(enrolments__kind="teacher"), distinct=True
            ),
            learners=Count(
                "enrolments", filter=active & Q(enrolments__kind="learner"), distinct=True
            ),
            group_count=Count("groups", distinct=True),
        )
        .order_by("-is_active", "name")
        .values("id", "name", "grade", "is_active", "teachers", "learners", "group_count")
    )


def list_class_members(classroom_id: uuid.UUID) -> dict[str, list[Row]]:
    """Teachers and learners of a class with their enrolment ids (one query)."""
    members: dict[str, list[Row]] = {kind: [] for kind in Enrolment.Kind.values}
    for row in (
        Enrolment.objects.filter(classroom_id=classroom_id)
        .order_by("user__full_name", "user__username")
        .values("id", "kind", "user_id", "user__full_name", "user__username", "user__is_active")
    ):
        members[row["kind"]].append(row)
    return members


def list_enrol_candidates(school_id: uuid.UUID, classroom_id: uuid.UUID, kind: str) -> list[Row]:
    """Active people of the school holding the role, not yet in the class as such."""
    enrolled = Enrolment.objects.filter(classroom_id=classroom_id, kind=kind).values("user_id")
    return list(
        User.objects.for_school(school_id)
        .filter(is_active=True, school_roles__school_id=school_id, school_roles__kind=kind)
        .exclude(id__in=enrolled)
        .order_by("full_name", "username")
        .values("id", "full_name", "username")
    )


def list_groups(classroom_id: uuid.UUID) -> list[Row]:
    """Groups of a class, each with its members (two queries)."""
    groups = list(
        LearnerGroup.objects.filter(classroom_id=classroom_id).order_by("name").values("id", "name")
    )
    members: dict[uuid.UUID, list[Row]] = {row["id"]: [] for row in groups}
    for row in (
        GroupMembership.objects.filter(group_id__in=members)
        .order_by("user__full_name")
        .values("group_id", "user_id", "user__full_name", "user__username")
    ):
        members[row["group_id"]].append(row)
    return [{**row, "members": members[row["id"]]} for row in groups]


def list_group_members(group_id: uuid.UUID) -> list[Row]:
    return list(
        GroupMembership.objects.filter(group_id=group_id)
        .order_by("user__full_name", "user__username")
        .values("user_id", "user__full_name", "user__username", "user__is_active")
    )


def list_group_candidates(group: LearnerGroup) -> list[Any]:
    """Active learners of the group's class who are not in the group."""
    members = GroupMembership.objects.filter(group_id=group.id).values("user_id")
    return list(
        User.objects.filter(
            is_active=True,
            enrolments__classroom_id=group.classroom_id,
            enrolments__kind=Enrolment.Kind.LEARNER,
        )
        .exclude(id__in=members)
        .values("id", "full_name", "username")
        .order_by("full_name", "username")
        .distinct()
    )


def list_linked_children(guardian_id: uuid.UUID) -> list[Row]:
    return list(
        GuardianLink.objects.filter(guardian_id=guardian_id)
        .order_by("child__full_name", "child__username")
        .values("child_id", "child__full_name", "child__username", "child__is_active")
    )


def list_child_candidates(school_id: uuid.UUID, guardian_id: uuid.UUID) -> list[Row]:
    """Learners of the school a parent may be linked to (not themselves, not linked yet)."""
    linked = GuardianLink.objects.filter(guardian_id=guardian_id).values("child_id")
    return list(
        User.objects.for_school(school_id)
        .filter(school_roles__school_id=school_id, school_roles__kind=SchoolRole.Kind.LEARNER)
        .exclude(id=guardian_id)
        .exclude(id__in=linked)
        .order_by("full_name", "username")
        .values("id", "full_name", "username")
    )


def is_username_taken(
    school_id: uuid.UUID, username: str, *, exclude_id: uuid.UUID | None = None
) -> bool:
    return (
        User.objects.for_school(school_id)
        .filter(username=normalize_username(username))
        .exclude(id=exclude_id)
        .exists()
    )


def is_school_code_taken(code: str, *, exclude_id: uuid.UUID) -> bool:
    return School.objects.filter(code=code.strip()).exclude(id=exclude_id).exists()


def is_class_name_taken(
    school_id: uuid.UUID, name: str, *, exclude_id: uuid.UUID | None = None
) -> bool:
    return (
        Classroom.objects.filter(school_id=school_id, name=name.strip())
        .exclude(id=exclude_id)
        .exists()
    )


def is_group_name_taken(
    classroom_id: uuid.UUID, name: str, *, exclude_id: uuid.UUID | None = None
) -> bool:
    return (
        LearnerGroup.objects.filter(classroom_id=classroom_id, name=name.strip())
        .exclude(id=exclude_id)
        .exists()
    )


def get_school_people(school_id: uuid.UUID, user_ids: list[uuid.UUID]) -> list[User]:
    """The people of a school among the given ids (model instances, for services)."""
    return list(User.objects.for_school(school_id).filter(id__in=user_ids).order_by("full_name"))
