"""Reads for pages and the API: values and aggregates, never row-by-row serialisation."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from kalan.accounts.directory import SchoolChoice
from kalan.accounts.models import User
from kalan.schools.models import Classroom, Enrolment, GuardianLink, School
from kalan.schools.roles import roles_of


def list_school_choices() -> list[SchoolChoice]:
    return [
        SchoolChoice(id=row["id"], name=row["name"], passwordless_signin=row["passwordless_signin"])
        for row in School.objects.filter(status=School.Status.OPEN).values(
            "id", "name", "passwordless_signin"
        )
    ]


@dataclass(frozen=True)
class ClassSummary:
    id: uuid.UUID
    name: str
    grade: str
    learner_count: int
    learners: list[dict[str, Any]]


def list_taught_classes(user: User) -> list[ClassSummary]:
    """The classes a teacher teaches, each with its active learners (two queries)."""
    classes = list(
        Classroom.objects.filter(id__in=roles_of(user).teaches, is_active=True)
        .order_by("name")
        .values("id", "name", "grade")
    )
    learners: dict[uuid.UUID, list[dict[str, Any]]] = {row["id"]: [] for row in classes}
    for row in (
        Enrolment.objects.filter(
            classroom_id__in=learners, kind=Enrolment.Kind.LEARNER, user__is_active=True
        )
        .order_by("user__full_name")
        .values("classroom_id", "user_id", "user__full_name", "user__username")
    ):
        learners[row["classroom_id"]].append(
            {
                "id": row["user_id"],
                "full_name": row["user__full_name"],
                "username": row["user__username"],
            }
        )
    return [
        ClassSummary(
            row["id"], row["name"], row["grade"], len(learners[row["id"]]), learners[row["id"]]
        )
        for row in classes
    ]


@dataclass(frozen=True)
class LearnerHome:
    school_name: str
    classes: list[dict[str, Any]]


def get_learner_home(user: User) -> LearnerHome:
    """A learner's school and classes: one query when they are in a class.

    This page is the one forty tablets load at once, so it is kept to the minimum.
    """
    classes = list(
        Classroom.objects.filter(
            enrolments__user=user, enrolments__kind=Enrolment.Kind.LEARNER, is_active=True
        )
        .values("id", "name", "grade", "school__name")
        .order_by("name")
    )
    if classes:
        return LearnerHome(classes[0]["school__name"], classes)
    return LearnerHome(get_school_name(user.school_id), [])


def list_children(user: User) -> list[dict[str, Any]]:
    return list(
        GuardianLink.objects.filter(guardian=user, child__is_active=True)
        .order_by("child__full_name")
        .values("child_id", "child__full_name", "child__username")
    )


def get_school_name(school_id: uuid.UUID | None) -> str:
    if school_id is None:
        return ""
    return School.objects.filter(id=school_id).values_list("name", flat=True).first() or ""


def list_passwordless_classes(school_id: uuid.UUID) -> list[dict[str, Any]]:
    """Active classes of a school that lets young learners pick their name."""
    return list(
        Classroom.objects.filter(
            school_id=school_id,
            school__passwordless_signin=True,
            school__status=School.Status.OPEN,
            is_active=True,
        )
        .order_by("name")
        .values("id", "name", "grade")
    )


def list_passwordless_names(classroom_id: uuid.UUID) -> list[Any]:
    """Learners of the class who may sign in by name: active, learners only, no staff role."""
    return list(
        User.objects.filter(
            enrolments__classroom_id=classroom_id,
            enrolments__kind=Enrolment.Kind.LEARNER,
            enrolments__classroom__school__passwordless_signin=True,
            is_active=True,
            is_staff=False,
            is_superuser=False,
        )
        .exclude(school_roles__kind__in=["admin", "teacher"])
        .order_by("full_name")
        .values("id", "full_name")
        .distinct()
    )


def list_area_schools(user: User) -> list[dict[str, Any]]:
    """Schools an area viewer oversees, with counts of active learners and classes."""
    ids = roles_of(user).viewed_school_ids()
    return list(
        School.objects.filter(id__in=ids)
        .annotate(
            learners=Count(
                "roles", filter=Q(roles__kind="learner", roles__user__is_active=True), distinct=True
            ),
            classes=Count("classrooms", filter=Q(classrooms__is_active=True), distinct=True),
        )
        .order_by("area__name", "name")
        .values("id", "name", "code", "status", "area__name", "learners", "classes")
    )
