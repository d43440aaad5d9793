"""School admin pages: the school, its settings and its people.

Every view checks access through kalan.schools.permissions with write=True; a
thing of another school is reported as not found, so ids do not leak. Classes
and groups are in manage_classes.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kalan.accounts import services as accounts
from kalan.accounts.directory import has_learning_records
from kalan.accounts.models import User
from kalan.core.errors import KalanError, NotFound, PermissionDenied, ValidationFailed
from kalan.schools import manage_selectors as selectors
from kalan.schools import services
from kalan.schools.forms import (
    ChildForm,
    CloseSchoolForm,
    PeopleFilterForm,
    PersonForm,
    SchoolSettingsForm,
    add_service_error,
)
from kalan.schools.models import School, SchoolRole
from kalan.schools.permissions import access_school_by_id, access_user_by_id
from kalan.schools.roles import is_admin

T = TypeVar("T")
PEOPLE_PER_PAGE = 50
GET_AND_POST = ["GET", "POST"]


# ---------------------------------------------------------------- shared by the manage views


def admin_user(request: HttpRequest) -> User:
    """The signed-in school admin or superuser; anyone else gets a 404."""
    user = request.user
    assert isinstance(user, User)
    if not is_admin(user):
        raise Http404
    return user


def writable_or_404(access: Callable[..., T], request: HttpRequest, thing_id: uuid.UUID) -> T:
    """What an `access_*_by_id` check gives for writing; refused or unknown is a 404."""
    try:
        return access(admin_user(request), thing_id, write=True)
    except (NotFound, PermissionDenied) as error:
        raise Http404 from error


def managed_school(request: HttpRequest, school_id: uuid.UUID) -> School:
    """The school, if the signed-in person may change it; otherwise 404."""
    return writable_or_404(access_school_by_id, request, school_id)


def managed_person(request: HttpRequest, school: School, user_id: uuid.UUID) -> User:
    """A person of this school whom the signed-in admin may change; otherwise 404."""
    person = writable_or_404(access_user_by_id, request, user_id)
    if person.school_id != school.id:
        raise Http404
    return person


def form_data(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def imports_url(school_id: uuid.UUID) -> str | None:
    """The import and export pages of the school, when that part is installed."""
    for how in ({"kwargs": {"school_id": school_id}}, {"args": [school_id]}):
        try:
            return reverse("imports:home", **how)
        except NoReverseMatch:
            continue
    return None


def page(
    request: HttpRequest,
    school: School,
    section: str,
    template: str,
    context: dict[str, Any],
    *,
    index: bool = False,
) -> HttpResponse:
    """Render a page of one school with its "Manage" navigation."""
    base = {
        "school": school,
        "section": section,
        "section_index": index,
        "imports_url": imports_url(school.id),
    }
    return render(request, f"schools/manage/{template}", {**base, **context})


def submit(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[dict[str, Any]], T],
    done: Callable[[T], str],
    message: Callable[[T], str],
) -> HttpResponse | None:
    """On a valid POST run the service and redirect; None means: show the form again."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except ValidationFailed as error:
        add_service_error(form, error)
        return None
    messages.success(request, message(result))
    return redirect(done(result))


@dataclass(frozen=True)
class Confirmation:
    """A question asked on a page of its own before a POST changes something."""

    section: str
    title: str
    question: str
    button: str
    action: Callable[[], object]
    done: str
    back: str
    message: str
    danger: bool = False
    blocked: str = ""


def confirm(request: HttpRequest, school: School, ask: Confirmation) -> HttpResponse:
    """GET asks; POST does it (unless blocked) and redirects with a message."""
    if request.method == "POST" and not ask.blocked:
        try:
            ask.action()
        except KalanError as error:
            messages.error(request, str(error))
            return redirect(ask.back)
        messages.success(request, ask.message)
        return redirect(ask.done)
    return page(request, school, ask.section, "confirm.html", {"ask": ask})


# ---------------------------------------------------------------- schools


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    return render(
        request, "schools/manage/home.html", {"schools": selectors.list_managed_schools(user)}
    )


@login_required
def school_overview(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    counts = selectors.get_school_counts(school.id)
    return page(request, school, "overview", "school.html", {"counts": counts}, index=True)


@login_required
@require_http_methods(GET_AND_POST)
def school_edit(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    initial = {name: getattr(school, name) for name in SchoolSettingsForm.base_fields}
    form = SchoolSettingsForm(form_data(request), school=school, initial=initial)
    done = submit(
        request,
        form,
        lambda data: services.update_school(school=school, **data),
        lambda s: reverse("manage:school", args=[s.id]),
        lambda s: _("The settings of %(name)s were saved.") % {"name": s.name},
    )
    return done or page(request, school, "overview", "school_form.html", {"form": form})


@login_required
@require_http_methods(GET_AND_POST)
def school_close(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    if school.status == School.Status.CLOSED:
        return redirect("manage:school", school.id)
    form = CloseSchoolForm(form_data(request))
    done = submit(
        request,
        form,
        lambda data: services.close_school(school=school, **data),
        lambda _none: reverse("manage:school", args=[school.id]),
        lambda _none: _("The school is recorded as closed."),
    )
    return done or page(request, school, "overview", "school_close.html", {"form": form})


@login_required
@require_http_methods(GET_AND_POST)
def school_reopen(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    overview = reverse("manage:school", args=[school.id])
    ask = Confirmation(
        section="overview",
        title=_("Reopen %(name)s") % {"name": school.name},
        question=_("Record that the school is open again?"),
        button=_("Reopen the school"),
        action=lambda: services.reopen_school(school=school),
        done=overview,
        back=overview,
        message=_("The school is recorded as open."),
    )
    return confirm(request, school, ask)


# ---------------------------------------------------------------- people


def _people_filters(form: PeopleFilterForm) -> dict[str, Any]:
    data = form.cleaned_data if form.is_valid() else {}
    return {
        "role": data.get("role") or "",
        "classroom_id": data.get("classroom"),
        "status": data.get("status") or "active",
        "search": data.get("q") or "",
    }


@login_required
def people(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    form = PeopleFilterForm(
        request.GET or None,
        class_choices=selectors.list_class_choices(school.id),
        initial={"status": "active"},
    )
    rows = selectors.list_people(school.id, **_people_filters(form))
    page_obj = Paginator(rows, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    roles = selectors.get_roles_by_person(school.id, [row["id"] for row in page_obj])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page_obj": page_obj,
        "people": [{**row, "roles": roles[row["id"]]} for row in page_obj],
        "query": query.urlencode(),
    }
    return page(request, school, "people", "people.html", context, index=True)


def _person_url(person: User) -> str:
    return reverse("manage:person", args=[person.school_id, person.id])


@login_required
@require_http_methods(GET_AND_POST)
def person_create(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    initial = {"roles": request.GET.getlist("role")}
    form = PersonForm(form_data(request), school=school, initial=initial)
    done = submit(
        request,
        form,
        lambda data: services.create_person(
            school=school,
            username=data["username"],
            full_name=data["full_name"],
            roles=data["roles"],
            password=data["password"] or None,
            language=data["language"],
        ),
        _person_url,
        lambda p: _("%(name)s was added.") % {"name": p.full_name},
    )
    return done or page(request, school, "people", "person_form.html", {"form": form})


def _person_page(
    request: HttpRequest,
    school: School,
    person: User,
    form: PersonForm,
    child_form: ChildForm | None = None,
) -> HttpResponse:
    roles = selectors.list_person_roles(school.id, person.id)
    context: dict[str, Any] = {"form": form, "person": person}
    if SchoolRole.Kind.PARENT in roles:
        candidates = selectors.list_child_candidates(school.id, person.id)
        context["children"] = selectors.list_linked_children(person.id)
        context["child_form"] = child_form or ChildForm(learners=candidates, prefix="link")
    return page(request, school, "people", "person_form.html", context)


@login_required
@require_http_methods(GET_AND_POST)
def person_edit(request: HttpRequest, school_id: uuid.UUID, user_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    person = managed_person(request, school, user_id)
    initial = {
        "full_name": person.full_name,
        "username": person.username,
        "language": person.language,
        "roles": selectors.list_person_roles(school.id, person.id),
    }
    form = PersonForm(form_data(request), school=school, person=person, initial=initial)
    done = submit(
        request,
        form,
        lambda data: services.update_person(
            school=school,
            user=person,
            username=data["username"],
            full_name=data["full_name"],
            roles=data["roles"],
            language=data["language"],
            password=data["password"] or None,
        ),
        _person_url,
        lambda p: _("The changes to %(name)s were saved.") % {"name": p.full_name},
    )
    if done is None and request.method == "POST":
        person.refresh_from_db()  # the failed service may have changed the object in memory
    return done or _person_page(request, school, person, form)


def _refuse_self(request: HttpRequest, person: User) -> str:
    if person.id == request.user.pk:
        return _("You cannot do this to your own account.")
    return ""


@login_required
@require_http_methods(GET_AND_POST)
def person_deactivate(
    request: HttpRequest, school_id: uuid.UUID, user_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    person = managed_person(request, school, user_id)
    name = person.full_name
    ask = Confirmation(
        section="people",
        title=_("Deactivate %(name)s") % {"name": name},
        question=_(
            "%(name)s will no longer be able to sign in. Their learning records are kept, "
            "and you can reactivate them later."
        )
        % {"name": name},
        button=_("Deactivate"),
        action=lambda: accounts.deactivate_user(user=person),
        done=_person_url(person),
        back=_person_url(person),
        message=_("%(name)s was deactivated.") % {"name": name},
        danger=True,
        blocked=_refuse_self(request, person),
    )
    return confirm(request, school, ask)


@login_required
@require_http_methods(GET_AND_POST)
def person_reactivate(
    request: HttpRequest, school_id: uuid.UUID, user_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    person = managed_person(request, school, user_id)
    name = person.full_name
    ask = Confirmation(
        section="people",
        title=_("Reactivate %(name)s") % {"name": name},
        question=_("%(name)s will be able to sign in again.") % {"name": name},
        button=_("Reactivate"),
        action=lambda: accounts.reactivate_user(user=person),
        done=_person_url(person),
        back=_person_url(person),
        message=_("%(name)s was reactivated.") % {"name": name},
    )
    return confirm(request, school, ask)


@login_required
@require_http_methods(GET_AND_POST)
def person_delete(request: HttpRequest, school_id: uuid.UUID, user_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    person = managed_person(request, school, user_id)
    name = person.full_name
    blocked = _refuse_self(request, person)
    if not blocked and has_learning_records(person.id):
        blocked = _("%(name)s has learning records, so they can only be deactivated.") % {
            "name": name
        }
    ask = Confirmation(
        section="people",
        title=_("Delete %(name)s") % {"name": name},
        question=_("Delete %(name)s and their memberships for good? This cannot be undone.")
        % {"name": name},
        button=_("Delete for good"),
        action=lambda: accounts.delete_user(user=person),
        done=reverse("manage:people", args=[school.id]),
        back=_person_url(person),
        message=_("%(name)s was deleted.") % {"name": name},
        danger=True,
        blocked=blocked,
    )
    return confirm(request, school, ask)


@login_required
@require_http_methods(GET_AND_POST)
def person_link_child(
    request: HttpRequest, school_id: uuid.UUID, user_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    guardian = managed_person(request, school, user_id)
    if SchoolRole.Kind.PARENT not in selectors.list_person_roles(school.id, guardian.id):
        raise Http404
    candidates = selectors.list_child_candidates(school.id, guardian.id)
    form = ChildForm(form_data(request), learners=candidates, prefix="link")
    done = submit(
        request,
        form,
        lambda data: services.link_guardian(
            school=school, guardian=guardian, child=managed_person(request, school, data["child"])
        ),
        lambda _link: _person_url(guardian),
        lambda link: (
            _("%(child)s is now linked to %(name)s.")
            % {"child": link.child.full_name, "name": guardian.full_name}
        ),
    )
    if done:
        return done
    return page(
        request, school, "people", "person_link.html", {"person": guardian, "child_form": form}
    )


@login_required
@require_POST
def person_unlink_child(
    request: HttpRequest, school_id: uuid.UUID, user_id: uuid.UUID, child_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    guardian = managed_person(request, school, user_id)
    child = managed_person(request, school, child_id)
    services.unlink_guardian(guardian=guardian, child=child)
    messages.success(
        request,
        _("%(child)s is no longer linked to %(name)s.")
        % {"child": child.full_name, "name": guardian.full_name},
    )
    return redirect(_person_url(guardian))
