"""School admin pages: classes, their teachers and learners, and groups within a class."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from kalan.core.errors import NotFound, PermissionDenied
from kalan.schools import manage_selectors as selectors
from kalan.schools import services
from kalan.schools.forms import ClassroomForm, GroupForm, PeopleChoiceForm
from kalan.schools.models import Classroom, Enrolment, LearnerGroup, School
from kalan.schools.permissions import (
    access_classroom_by_id,
    access_enrolment_by_id,
    access_group_by_id,
)
from kalan.schools.views.manage import (
    GET_AND_POST,
    Confirmation,
    admin_user,
    confirm,
    form_data,
    managed_person,
    managed_school,
    page,
    submit,
    writable_or_404,
)


def managed_classroom(request: HttpRequest, school: School, classroom_id: uuid.UUID) -> Classroom:
    """A class of this school that the signed-in admin may change; otherwise 404."""
    classroom = writable_or_404(access_classroom_by_id, request, classroom_id)
    if classroom.school_id != school.id:
        raise Http404
    return classroom


def managed_group(request: HttpRequest, classroom: Classroom, group_id: uuid.UUID) -> LearnerGroup:
    group = writable_or_404(access_group_by_id, request, group_id)
    if group.classroom_id != classroom.id:
        raise Http404
    return group


def _class_url(classroom: Classroom) -> str:
    return reverse("manage:class", args=[classroom.school_id, classroom.id])


def _group_url(group: LearnerGroup) -> str:
    return reverse("manage:group", args=[group.school_id, group.classroom_id, group.id])


# ---------------------------------------------------------------- classes


@login_required
def classes(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    rows = selectors.list_classes(school.id)
    return page(request, school, "classes", "classes.html", {"classes": rows}, index=True)


@login_required
@require_http_methods(GET_AND_POST)
def class_create(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    form = ClassroomForm(form_data(request), school=school)
    del form.fields["is_active"]  # a new class is active
    done = submit(
        request,
        form,
        lambda data: services.create_classroom(school=school, **data),
        _class_url,
        lambda c: _("The class %(name)s was created.") % {"name": c.name},
    )
    return done or page(request, school, "classes", "class_form.html", {"form": form})


@login_required
@require_http_methods(GET_AND_POST)
def class_edit(request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    classroom = managed_classroom(request, school, classroom_id)
    initial = {"name": classroom.name, "grade": classroom.grade, "is_active": classroom.is_active}
    form = ClassroomForm(
        form_data(request), school=school, classroom_id=classroom.id, initial=initial
    )
    done = submit(
        request,
        form,
        lambda data: services.update_classroom(classroom=classroom, **data),
        _class_url,
        lambda c: _("The class %(name)s was saved.") % {"name": c.name},
    )
    if done is None and request.method == "POST":
        classroom.refresh_from_db()
    context = {"form": form, "classroom": classroom}
    return done or page(request, school, "classes", "class_form.html", context)


def _class_page(
    request: HttpRequest, school: School, classroom: Classroom, group_form: GroupForm | None = None
) -> HttpResponse:
    context = {
        "classroom": classroom,
        "members": selectors.list_class_members(classroom.id),
        "groups": selectors.list_groups(classroom.id),
        "group_form": group_form or GroupForm(classroom_id=classroom.id, prefix="group"),
    }
    return page(request, school, "classes", "class.html", context)


@login_required
def class_detail(
    request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    return _class_page(request, school, managed_classroom(request, school, classroom_id))


@login_required
@require_http_methods(GET_AND_POST)
def class_enrol(
    request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID, kind: str
) -> HttpResponse:
    school = managed_school(request, school_id)
    classroom = managed_classroom(request, school, classroom_id)
    if kind not in Enrolment.Kind.values:
        raise Http404
    candidates = selectors.list_enrol_candidates(school.id, classroom.id, kind)
    label = _("Teachers to add") if kind == Enrolment.Kind.TEACHER else _("Learners to add")
    form = PeopleChoiceForm(form_data(request), people=candidates, label=label)
    done = submit(
        request,
        form,
        lambda data: services.enrol_people(
            classroom=classroom,
            users=selectors.get_school_people(school.id, data["people"]),
            kind=kind,
        ),
        lambda _count: _class_url(classroom),
        lambda count: (
            ngettext(
                "%(count)d person added to %(name)s.", "%(count)d people added to %(name)s.", count
            )
            % {"count": count, "name": classroom.name}
        ),
    )
    context = {"form": form, "classroom": classroom, "kind": kind, "candidates": candidates}
    return done or page(request, school, "classes", "enrol.html", context)


@login_required
@require_POST
def enrolment_remove(
    request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID, enrolment_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    classroom = managed_classroom(request, school, classroom_id)
    try:
        enrolment = access_enrolment_by_id(admin_user(request), enrolment_id, write=True)
    except (NotFound, PermissionDenied) as error:
        raise Http404 from error
    if enrolment.classroom_id != classroom.id:
        raise Http404
    name = enrolment.user.full_name
    services.unenrol(enrolment=enrolment)
    messages.success(
        request, _("%(name)s was removed from %(class)s.") % {"name": name, "class": classroom.name}
    )
    return redirect(_class_url(classroom))


# ---------------------------------------------------------------- groups


@login_required
@require_POST
def group_create(
    request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    classroom = managed_classroom(request, school, classroom_id)
    form = GroupForm(request.POST, classroom_id=classroom.id, prefix="group")
    done = submit(
        request,
        form,
        lambda data: services.create_group(classroom=classroom, name=data["name"]),
        _group_url,
        lambda g: _("The group %(name)s was created.") % {"name": g.name},
    )
    return done or _class_page(request, school, classroom, group_form=form)


def _group_page(
    request: HttpRequest,
    school: School,
    group: LearnerGroup,
    *,
    rename_form: GroupForm | None = None,
    add_form: PeopleChoiceForm | None = None,
) -> HttpResponse:
    candidates = selectors.list_group_candidates(group)
    context: dict[str, Any] = {
        "group": group,
        "classroom": group.classroom,
        "members": selectors.list_group_members(group.id),
        "rename_form": rename_form
        or GroupForm(
            classroom_id=group.classroom_id, group_id=group.id, initial={"name": group.name}
        ),
        "add_form": add_form
        or PeopleChoiceForm(people=candidates, label=_("Learners to add"), prefix="add"),
    }
    return page(request, school, "classes", "group.html", context)


@login_required
@require_http_methods(GET_AND_POST)
def group_detail(
    request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID, group_id: uuid.UUID
) -> HttpResponse:
    """The group, with its learners; a POST renames it."""
    school = managed_school(request, school_id)
    group = managed_group(request, managed_classroom(request, school, classroom_id), group_id)
    form = GroupForm(form_data(request), classroom_id=group.classroom_id, group_id=group.id)
    done = submit(
        request,
        form,
        lambda data: services.rename_group(group=group, name=data["name"]),
        _group_url,
        lambda g: _("The group is now called %(name)s.") % {"name": g.name},
    )
    if done is None and request.method == "POST":
        group.refresh_from_db()
    return done or _group_page(request, school, group, rename_form=form)


@login_required
@require_POST
def group_add(
    request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID, group_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    group = managed_group(request, managed_classroom(request, school, classroom_id), group_id)
    candidates = selectors.list_group_candidates(group)
    form = PeopleChoiceForm(
        request.POST, people=candidates, label=_("Learners to add"), prefix="add"
    )
    done = submit(
        request,
        form,
        lambda data: services.add_people_to_group(
            group=group, users=selectors.get_school_people(school.id, data["people"])
        ),
        lambda _count: _group_url(group),
        lambda count: (
            ngettext(
                "%(count)d learner added to %(name)s.",
                "%(count)d learners added to %(name)s.",
                count,
            )
            % {"count": count, "name": group.name}
        ),
    )
    return done or _group_page(request, school, group, add_form=form)


@login_required
@require_POST
def group_remove(
    request: HttpRequest,
    school_id: uuid.UUID,
    classroom_id: uuid.UUID,
    group_id: uuid.UUID,
    user_id: uuid.UUID,
) -> HttpResponse:
    school = managed_school(request, school_id)
    group = managed_group(request, managed_classroom(request, school, classroom_id), group_id)
    learner = managed_person(request, school, user_id)
    services.remove_from_group(group=group, user=learner)
    messages.success(
        request,
        _("%(name)s was removed from %(group)s.")
        % {"name": learner.full_name, "group": group.name},
    )
    return redirect(_group_url(group))


@login_required
@require_http_methods(GET_AND_POST)
def group_delete(
    request: HttpRequest, school_id: uuid.UUID, classroom_id: uuid.UUID, group_id: uuid.UUID
) -> HttpResponse:
    school = managed_school(request, school_id)
    classroom = managed_classroom(request, school, classroom_id)
    group = managed_group(request, classroom, group_id)
    ask = Confirmation(
        section="classes",
        title=_("Delete the group %(name)s") % {"name": group.name},
        question=_("The learners stay in the class; only the group goes. Delete it?"),
        button=_("Delete the group"),
        action=lambda: services.delete_group(group=group),
        done=_class_url(classroom),
        back=_group_url(group),
        message=_("The group %(name)s was deleted.") % {"name": group.name},
        danger=True,
    )
    return confirm(request, school, ask)
