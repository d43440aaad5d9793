"""The teacher's page of free responses (/practice/grading/): read them, grade them.

GET lists the answers that wait for a grade from the learners of the classes
the signed-in teacher teaches (a school admin: their school's), oldest first,
or with `?show=graded` those already graded, newest first, to change a grade.
Each has its own small form; POST /practice/grading/<answer id>/ records the
grade (services.grade_response) and comes back to the list. A refused grade
shows the page again with one message, and records nothing. Plain forms, no
script: keyboard and screen reader first.
"""

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kalan.accounts.models import User
from kalan.assessments import permissions, selectors, services
from kalan.assessments.exercises import exercises_of
from kalan.assessments.forms import GradeForm
from kalan.core.errors import NotFound, PermissionDenied
from kalan.schools.roles import is_admin, roles_of

WAITING, GRADED = "waiting", "graded"


def _grader(request: HttpRequest) -> User:
    """The signed-in teacher or admin; anyone else (a learner) is refused with 403."""
    user = request.user
    assert isinstance(user, User)
    if not permissions.may_grade(user):
        raise Forbidden
    return user


def _show(data: Any) -> str:
    return GRADED if data.get("show") == GRADED else WAITING


@dataclass(frozen=True)
class _Row:
    """One answer and the state of its form."""

    answer: selectors.AnswerShown
    grade_id: str  # the id the grade's statement will have: one per form shown
    verdict: str
    comment: str
    error: str = ""


def _row(answer: selectors.AnswerShown, refused: dict[str, Any]) -> _Row:
    grade_id = str(uuid.uuid4())
    if refused.get("error_for") == answer.answer_id:
        posted = refused["posted"]
        verdict, comment = posted.get("verdict", ""), posted.get("comment", "")
        return _Row(answer, grade_id, verdict, comment, refused["error"])
    if answer.grade is not None:
        verdict = "correct" if answer.grade.correct else "incorrect"
        return _Row(answer, grade_id, verdict, answer.grade.comment)
    return _Row(answer, grade_id, "", "")


def _page(
    request: HttpRequest,
    user: User,
    show: str,
    number: str,
    *,
    status: int = 200,
    error: str = "",
    **refused: Any,
) -> HttpResponse:
    found = selectors.list_responses_to_grade(user, graded=show == GRADED, number=number)
    roles = roles_of(user)
    context = {
        "show": show,
        "pages": found.page,
        "rows": [_row(answer, {**refused, "error": error}) for answer in found.rows],
        "error": error,
        "comment_length": services.COMMENT_LENGTH,
        "is_teacher": bool(roles.teacher_of),
        "is_admin": is_admin(user),
    }
    return render(request, "assessments/grading.html", context, status=status)


@login_required
@require_GET
def grading(request: HttpRequest) -> HttpResponse:
    user = _grader(request)
    return _page(request, user, _show(request.GET), request.GET.get("page", "1"))


@login_required
@require_POST
def grade(request: HttpRequest, answer_id: uuid.UUID) -> HttpResponse:
    user = _grader(request)
    show, number = _show(request.POST), request.POST.get("page", "1")
    try:
        answer = permissions.access_answer_by_id(user, answer_id)
    except (NotFound, PermissionDenied):
        error = _("This answer is not one of your learners' answers: nothing was saved.")
        return _page(request, user, show, number, status=404, error=error)
    form = GradeForm(request.POST)
    refused = {"error_for": answer_id, "posted": request.POST}
    if not form.is_valid():
        return _page(request, user, show, number, status=400, error=form.first_error(), **refused)
    try:
        services.grade_response(
            teacher_id=user.id,
            answer=answer,
            exercise=exercises_of([answer.node_id]).get(answer.node_id),
            correct=form.correct,
            comment=form.cleaned_data["comment"],
            grade_id=form.cleaned_data["grade_id"],
        )
    except services.GradeRefused as error:
        return _page(request, user, show, number, status=400, error=str(error), **refused)
    except services.GradeAlreadySaved as error:
        return _page(request, user, show, number, status=409, error=str(error))
    messages.success(request, _("The grade is saved."))
    query = urlencode({"show": show, "page": number}) if show == GRADED else ""
    url = reverse("assessments:grading")
    return redirect(f"{url}?{query}" if query else url)
