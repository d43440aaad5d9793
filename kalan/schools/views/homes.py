import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kalan.accounts import services as accounts
from kalan.accounts.models import User
from kalan.schools import home_panels, selectors
from kalan.schools.roles import roles_of


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the page of their main role."""
    if not request.user.is_authenticated:
        return redirect("accounts:sign-in")
    roles = roles_of(_user(request))
    if roles.admin_of or (roles.superuser and not roles.any_school):
        return redirect("manage:home")
    if roles.teacher_of:
        return redirect("schools:teacher-home")
    if roles.parent_of and not roles.learner_of:
        return redirect("schools:family-home")
    if roles.viewer_areas and not roles.learner_of:
        return redirect("schools:area-home")
    return redirect("schools:learner-home")


@login_required
def learner_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    home = selectors.get_learner_home(user)
    return render(
        request,
        "schools/learner_home.html",
        {
            "classes": home.classes,
            "school_name": home.school_name,
            "panels": home_panels.learner_panels(user),
        },
    )


@login_required
def teacher_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not roles_of(user).teacher_of:
        raise Http404
    return render(
        request,
        "schools/teacher_home.html",
        {
            "classes": selectors.list_taught_classes(user),
            "school_name": selectors.get_school_name(user.school_id),
        },
    )


@login_required
def family_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not roles_of(user).parent_of:
        raise Http404
    return render(request, "schools/family_home.html", {"children": selectors.list_children(user)})


@login_required
def area_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not roles_of(user).viewer_areas:
        raise Http404
    return render(request, "schools/area_home.html", {"schools": selectors.list_area_schools(user)})


def pick_class(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    classes = selectors.list_passwordless_classes(school_id)
    if not classes:
        raise Http404
    return render(
        request,
        "schools/pick_class.html",
        {
            "classes": classes,
            "school_name": selectors.get_school_name(school_id),
        },
    )


def pick_name(request: HttpRequest, classroom_id: uuid.UUID) -> HttpResponse:
    names = selectors.list_passwordless_names(classroom_id)
    if not names:
        raise Http404
    return render(request, "schools/pick_name.html", {"names": names, "classroom_id": classroom_id})


@require_POST
def sign_in_by_name(request: HttpRequest, classroom_id: uuid.UUID) -> HttpResponse:
    """Sign in a young learner who picked their own name in their class list."""
    try:
        user_id = uuid.UUID(request.POST.get("user", ""))
    except ValueError as error:
        raise Http404 from error
    if user_id not in {row["id"] for row in selectors.list_passwordless_names(classroom_id)}:
        raise Http404
    user = User.objects.get(id=user_id)
    accounts.open_session(request=request, user=user)
    return redirect("schools:learner-home")
