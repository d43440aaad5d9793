"""Test factories for schools and people, built through the services.

`make_world()` builds two schools A and B in one district (each with an
admin, a teacher, learners, a parent and a class), a viewer over the
district, a school C in another district, and a superuser. `world_fixture`
keeps one world for a whole test module, rolled back at its end, the way
`setUpTestData` does; each test still runs in its own savepoint.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from kalan.accounts import services as accounts
from kalan.accounts.models import User
from kalan.schools import services
from kalan.schools.models import (
    AdminArea,
    Classroom,
    Enrolment,
    GuardianLink,
    LearnerGroup,
    School,
    SchoolRole,
)

PASSWORD = "correct-horse-battery"
_serial = itertools.count(1)


def _next() -> int:
    return next(_serial)


def make_area(*, name: str | None = None, kind: str = "district", parent: Any = None) -> AdminArea:
    return services.create_area(name=name or f"Area {_next()}", kind=kind, parent=parent)


def make_school(*, name: str | None = None, area: AdminArea | None = None) -> School:
    number = _next()
    return services.create_school(name=name or f"School {number}", code=f"S{number}", area=area)


def make_person(
    *,
    school: School,
    roles: tuple[str, ...] = ("learner",),
    username: str | None = None,
    full_name: str | None = None,
    password: str | None = PASSWORD,
) -> User:
    number = _next()
    return services.create_person(
        school=school,
        username=username or f"person{number}",
        full_name=full_name or f"Person {number}",
        roles=roles,
        password=password,
    )


def make_staff(*, username: str | None = None, superuser: bool = False) -> User:
    """A person without a school (district, national or technical staff)."""
    number = _next()
    return accounts.create_user(
        username=username or f"staff{number}",
        full_name=f"Staff {number}",
        school_id=None,
        password=PASSWORD,
        is_superuser=superuser,
        is_staff=superuser,
    )


def make_viewer(*, area: AdminArea) -> User:
    viewer = make_staff()
    services.grant_area_viewer(user=viewer, area=area)
    return viewer


def make_classroom(*, school: School, name: str | None = None) -> Classroom:
    return services.create_classroom(school=school, name=name or f"Class {_next()}")


def make_learners(*, school: School, count: int, classroom: Classroom | None = None) -> list[User]:
    learners = [make_person(school=school) for _ in range(count)]
    if classroom is not None:
        for learner in learners:
            services.enrol(classroom=classroom, user=learner, kind="learner")
    return learners


@dataclass
class SchoolSide:
    """One school's people and things."""

    school: School
    admin: User
    teacher: User
    learners: list[User]  # both in `classroom`, taught by `teacher`
    other_learner: User  # in `other_classroom`, which `teacher` does not teach
    parent: User  # guardian of learners[0] only
    classroom: Classroom
    other_classroom: Classroom
    group: LearnerGroup  # in `classroom`, with learners[0]
    enrolment: Enrolment  # learners[0] in `classroom`
    link: GuardianLink  # parent -> learners[0]
    learner_role: SchoolRole  # learners[0]'s learner role

    @property
    def learner(self) -> User:
        return self.learners[0]


def make_school_side(*, area: AdminArea, name: str) -> SchoolSide:
    school = make_school(name=name, area=area)
    admin = make_person(school=school, roles=("admin",))
    teacher = make_person(school=school, roles=("teacher",))
    classroom = make_classroom(school=school, name=f"{name} class")
    other_classroom = make_classroom(school=school, name=f"{name} other class")
    services.enrol(classroom=classroom, user=teacher, kind="teacher")
    learners = make_learners(school=school, count=2, classroom=classroom)
    other_learner = make_learners(school=school, count=1, classroom=other_classroom)[0]
    parent = make_person(school=school, roles=("parent",))
    link = services.link_guardian(school=school, guardian=parent, child=learners[0])
    group = services.create_group(classroom=classroom, name=f"{name} group")
    services.add_to_group(group=group, user=learners[0])
    return SchoolSide(
        school=school,
        admin=admin,
        teacher=teacher,
        learners=learners,
        other_learner=other_learner,
        parent=parent,
        classroom=classroom,
        other_classroom=other_classroom,
        group=group,
        enrolment=Enrolment.objects.get(classroom=classroom, user=learners[0]),
        link=link,
        learner_role=SchoolRole.objects.get(school=school, user=learners[0], kind="learner"),
    )


@dataclass
class World:
    region: AdminArea
    district: AdminArea
    a: SchoolSide
    b: SchoolSide
    viewer: User  # over `district` (schools A and B)
    outside: SchoolSide  # school C, in another district of the region
    superuser: User
    extra: dict[str, Any] = field(default_factory=dict)


def make_world() -> World:
    region = make_area(name="Gao", kind="region")
    district = make_area(name="Ansongo", parent=region)
    elsewhere = make_area(name="Bourem", parent=region)
    return World(
        region=region,
        district=district,
        a=make_school_side(area=district, name="Alpha"),
        b=make_school_side(area=district, name="Bravo"),
        viewer=make_viewer(area=district),
        outside=make_school_side(area=elsewhere, name="Charlie"),
        superuser=make_staff(superuser=True),
    )


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """One world per test module, rolled back at the module's end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield make_world()
        transaction.set_rollback(True)
