"""The one choke point for who may see or change what in schools and accounts.

Reads: superusers everything; a school admin their school; a teacher their
school and the classes they teach (and those classes' learners); a learner
themselves and their classes; a parent themselves, the children linked to
them and those children's classes; an area viewer everything in the schools
of their area, read-only.
Writes: superusers and the admins of the school concerned. A thing the caller
may not read is reported as not found, so ids do not leak.
"""

import uuid

from django.db.models import Q, QuerySet

from kalan.accounts.models import User
from kalan.core.errors import NotFound, PermissionDenied
from kalan.schools.models import Classroom, Enrolment, GuardianLink, LearnerGroup, School
from kalan.schools.roles import roles_of


def visible_schools(user: User) -> QuerySet[School]:
    roles = roles_of(user)
    if roles.superuser:
        return School.objects.all()
    ids = roles.any_school | roles.viewed_school_ids()
    return School.objects.filter(id__in=ids)


def visible_classrooms(user: User) -> QuerySet[Classroom]:
    roles = roles_of(user)
    if roles.superuser:
        return Classroom.objects.all()
    own_classes = Enrolment.objects.filter(user=user).values("classroom_id")
    children = GuardianLink.objects.filter(guardian=user).values("child_id")
    childrens_classes = Enrolment.objects.filter(
        user_id__in=children, kind=Enrolment.Kind.LEARNER
    ).values("classroom_id")
    return Classroom.objects.filter(
        Q(school_id__in=roles.admin_of | roles.viewed_school_ids())
        | Q(id__in=roles.teaches)
        | Q(id__in=own_classes)
        | Q(id__in=childrens_classes)
    )


def visible_users(user: User) -> QuerySet[User]:
    roles = roles_of(user)
    if roles.superuser:
        return User.objects.all()
    taught = Enrolment.objects.filter(
        classroom_id__in=roles.teaches, kind=Enrolment.Kind.LEARNER
    ).values("user_id")
    children = GuardianLink.objects.filter(guardian=user).values("child_id")
    return User.objects.filter(
        Q(id=user.id)
        | Q(school_id__in=roles.admin_of | roles.viewed_school_ids())
        | Q(id__in=taught)
        | Q(id__in=children)
        | Q(enrolments__classroom_id__in=roles.teaches, enrolments__kind=Enrolment.Kind.TEACHER)
    ).distinct()


def visible_enrolments(user: User) -> QuerySet[Enrolment]:
    roles = roles_of(user)
    if roles.superuser:
        return Enrolment.objects.all()
    return Enrolment.objects.filter(
        Q(school_id__in=roles.admin_of | roles.viewed_school_ids())
        | Q(classroom_id__in=roles.teaches)
        | Q(user=user)
    )


def _writable(user: User, school_id: uuid.UUID | None) -> bool:
    roles = roles_of(user)
    return roles.superuser or (school_id is not None and school_id in roles.admin_of)


def access_school_by_id(user: User, school_id: uuid.UUID, *, write: bool = False) -> School:
    """The school, if the user may read it (and change it, with write=True)."""
    school = visible_schools(user).filter(id=school_id).first()
    if school is None:
        raise NotFound("school")
    if write and not _writable(user, school.id):
        raise PermissionDenied("school")
    return school


def access_classroom_by_id(
    user: User, classroom_id: uuid.UUID, *, write: bool = False
) -> Classroom:
    classroom = visible_classrooms(user).filter(id=classroom_id).first()
    if classroom is None:
        raise NotFound("class")
    if write and not _writable(user, classroom.school_id):
        raise PermissionDenied("class")
    return classroom


def access_group_by_id(user: User, group_id: uuid.UUID, *, write: bool = False) -> LearnerGroup:
    group: LearnerGroup | None = LearnerGroup.objects.filter(
        id=group_id, classroom__in=visible_classrooms(user)
    ).first()
    if group is None:
        raise NotFound("group")
    roles = roles_of(user)
    if write and not (_writable(user, group.school_id) or group.classroom_id in roles.teaches):
        raise PermissionDenied("group")
    return group


def access_user_by_id(user: User, user_id: uuid.UUID, *, write: bool = False) -> User:
    """A person, if visible; writing needs admin rights over their school."""
    target = visible_users(user).filter(id=user_id).first()
    if target is None:
        raise NotFound("user")
    if write and not _writable(user, target.school_id):
        raise PermissionDenied("user")
    return target


def access_enrolment_by_id(
    user: User, enrolment_id: uuid.UUID, *, write: bool = False
) -> Enrolment:
    enrolment = visible_enrolments(user).filter(id=enrolment_id).first()
    if enrolment is None:
        raise NotFound("enrolment")
    if write and not _writable(user, enrolment.school_id):
        raise PermissionDenied("enrolment")
    return enrolment


def can_manage_school(user: User, school_id: uuid.UUID) -> bool:
    return _writable(user, school_id)
