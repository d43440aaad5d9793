"""Rows for the school admin page tests, made through the services."""

import itertools
from collections.abc import Iterable

from kalan.accounts import services as accounts
from kalan.accounts.models import User
from kalan.schools import services
from kalan.schools.models import Classroom, LearnerGroup, School

_numbers = itertools.count(1)


def make_school(name: str = "") -> School:
    n = next(_numbers)
    return services.create_school(name=name or f"School {n}", code=f"S-{n:05d}")


def make_person(
    school: School,
    *roles: str,
    username: str = "",
    full_name: str = "",
    password: str | None = None,
) -> User:
    n = next(_numbers)
    return services.create_person(
        school=school,
        username=username or f"person{n}",
        full_name=full_name or f"Person {n:05d}",
        roles=roles or ("learner",),
        password=password,
    )


def make_superuser() -> User:
    n = next(_numbers)
    return accounts.create_user(
        username=f"root{n}", full_name="Root", school_id=None, is_staff=True, is_superuser=True
    )


def make_class(school: School, name: str = "", *, people: Iterable[User] = ()) -> Classroom:
    classroom = services.create_classroom(school=school, name=name or f"Class {next(_numbers)}")
    for person in people:
        services.enrol(classroom=classroom, user=person, kind="learner")
    return classroom


def make_group(
    classroom: Classroom, name: str = "", *, people: Iterable[User] = ()
) -> LearnerGroup:
    group = services.create_group(classroom=classroom, name=name or f"Group {next(_numbers)}")
    for person in people:
        services.add_to_group(group=group, user=person)
    return group
