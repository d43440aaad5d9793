"""Who may read and grade learners' answers: the one choke point.

A teacher grades the answers of the learners of the classes they teach; a
school admin those of their school's learners; an instance's superuser every
answer. Learners, parents and area viewers grade nothing. An answer the caller
may not grade is reported as not found, so ids do not leak.
"""

import uuid

from django.db.models import Q, QuerySet

from kalan.accounts.models import User
from kalan.assessments.models import Answer
from kalan.core.errors import NotFound, PermissionDenied
from kalan.schools.models import Classroom, Enrolment
from kalan.schools.roles import roles_of


def may_grade(user: User) -> bool:
    """Whether the person may open the grading page at all (a teacher, an admin)."""
    roles = roles_of(user)
    return roles.superuser or bool(roles.teacher_of or roles.admin_of or roles.teaches)


def gradable_classrooms(user: User) -> QuerySet[Classroom]:
    """The classes whose learners' answers the person grades."""
    roles = roles_of(user)
    if roles.superuser:
        return Classroom.objects.all()
    return Classroom.objects.filter(Q(id__in=roles.teaches) | Q(school_id__in=roles.admin_of))


def gradable_answers(user: User) -> QuerySet[Answer]:
    """Every answer the person may grade (and read), of any kind."""
    roles = roles_of(user)
    if roles.superuser:
        return Answer.objects.exclude(user_id=user.id)
    taught = Enrolment.objects.filter(
        classroom_id__in=roles.teaches, kind=Enrolment.Kind.LEARNER
    ).values("user_id")
    school_learners = User.objects.filter(school_id__in=roles.admin_of).values("id")
    answers = Answer.objects.filter(Q(user_id__in=taught) | Q(user_id__in=school_learners))
    return answers.exclude(user_id=user.id)  # nobody grades their own answers


def access_answer_by_id(user: User, answer_id: uuid.UUID) -> Answer:
    """The answer, if the person may grade it.

    Raises PermissionDenied for someone who grades nothing (a learner), and
    NotFound for an answer that does not exist or is not theirs to grade.
    """
    if not may_grade(user):
        raise PermissionDenied("grading")
    answer = gradable_answers(user).filter(statement_id=answer_id).first()
    if answer is None:
        raise NotFound(f"answer {answer_id}")
    return answer
