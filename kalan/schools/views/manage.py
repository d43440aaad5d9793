"""School admin pages: people, classes, groups, enrolments, imports and exports."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kalan.accounts.models import User
from kalan.schools.permissions import visible_schools
from kalan.schools.roles import roles_of


def _admin(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    roles = roles_of(user)
    if not (roles.superuser or roles.admin_of):
        raise Http404
    return user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    schools = (
        visible_schools(user).filter(id__in=roles_of(user).admin_of)
        if not roles_of(user).superuser
        else visible_schools(user)
    )
    return render(request, "schools/manage/home.html", {"schools": schools.values("id", "name")})
