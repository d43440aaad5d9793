"""Bring people in (a CSV file or a OneRoster 1.1 bundle) and take them out (CSV).

For a school's admins and superusers; anyone else gets a 404, as for a school
that does not exist. Imports run while the page waits, through the same
functions a background task would call (roster_csv.import_people_upload and
oneroster.import_oneroster_upload: ids and bytes in, a report out).
"""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kalan.core.errors import ValidationFailed
from kalan.schools import oneroster, roster_csv
from kalan.schools.models import School
from kalan.schools.views.manage import managed_school

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_ZIP_BYTES = 20 * 1024 * 1024


def _limited(upload: Any, limit: int) -> Any:
    if upload is not None and upload.size > limit:
        raise forms.ValidationError(
            _("The file is too large (at most %(mb)d MB).") % {"mb": limit // (1024 * 1024)}
        )
    return upload


class PeopleFileForm(forms.Form):
    people_file = forms.FileField(
        label=gettext_lazy("People file (CSV)"),
        help_text=gettext_lazy(
            "Columns: username, full_name, roles, password, language, class, guardian_of."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    on_existing = forms.ChoiceField(
        label=gettext_lazy("People already in the school"),
        choices=[
            ("refuse", gettext_lazy("Refuse the file")),
            ("update", gettext_lazy("Update them (nothing is taken away)")),
            ("skip", gettext_lazy("Leave them as they are")),
        ],
        initial="refuse",
        required=False,
    )

    def clean_on_existing(self) -> str:
        return str(self.cleaned_data.get("on_existing") or "refuse")

    def clean_people_file(self) -> Any:
        return _limited(self.cleaned_data.get("people_file"), MAX_CSV_BYTES)


class BundleForm(forms.Form):
    bundle = forms.FileField(
        label=gettext_lazy("OneRoster 1.1 bundle (.zip of the CSV files)"),
        help_text=gettext_lazy(
            "manifest.csv, orgs.csv, users.csv, classes.csv and enrollments.csv; "
            "everyone goes into this school."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def clean_bundle(self) -> Any:
        return _limited(self.cleaned_data.get("bundle"), MAX_ZIP_BYTES)


def _page(
    request: HttpRequest,
    school: School,
    *,
    people_form: PeopleFileForm | None = None,
    bundle_form: BundleForm | None = None,
    problems: list[str] | None = None,
) -> HttpResponse:
    failed = bool(problems) or any(
        form is not None and form.errors for form in (people_form, bundle_form)
    )
    return render(
        request,
        "schools/imports/home.html",
        {
            "school": school,
            "people_form": people_form or PeopleFileForm(),
            "bundle_form": bundle_form or BundleForm(),
            "problems": problems or [],
        },
        status=400 if failed else 200,
    )


@login_required
@require_GET
def home(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    return _page(request, managed_school(request, school_id))


@login_required
@require_POST
def import_people(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    form = PeopleFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, school, people_form=form)
    try:
        report = roster_csv.import_people_upload(
            school_id=school.id,
            data=form.cleaned_data["people_file"].read(),
            on_existing=form.cleaned_data["on_existing"],
        )
    except ValidationFailed as error:
        return _page(request, school, people_form=form, problems=error.problems or [str(error)])
    messages.success(request, _("People imported: %(summary)s") % {"summary": report.summary()})
    return redirect("imports:home", school_id=school.id)


@login_required
@require_POST
def import_bundle(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    form = BundleForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, school, bundle_form=form)
    try:
        report = oneroster.import_oneroster_upload(
            school_id=school.id, data=form.cleaned_data["bundle"].read()
        )
    except ValidationFailed as error:
        return _page(request, school, bundle_form=form, problems=error.problems or [str(error)])
    messages.success(
        request, _("OneRoster bundle imported: %(summary)s") % {"summary": report.summary()}
    )
    return redirect("imports:home", school_id=school.id)


def _csv_download(text: str, filename: str) -> HttpResponse:
    # A byte-order mark lets spreadsheet programs read the file as UTF-8.
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def template(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    managed_school(request, school_id)
    return _csv_download(roster_csv.template_csv(), "people-template.csv")


@login_required
@require_GET
def export(request: HttpRequest, school_id: uuid.UUID) -> HttpResponse:
    school = managed_school(request, school_id)
    code = "".join(c if c.isalnum() or c in "-_" else "-" for c in school.code)
    return _csv_download(roster_csv.export_users_csv(school=school), f"people-{code}.csv")
