"""Forms of the school admin pages. They parse and check input; services write."""

import datetime
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kalan.accounts.models import User
from kalan.core.errors import ValidationFailed
from kalan.schools import manage_selectors as selectors
from kalan.schools.models import School, SchoolRole

LANGUAGE_CHOICES = [("", _("School default")), *settings.LANGUAGES]


def add_service_error(form: forms.Form, error: ValidationFailed) -> None:
    """Show a service's refusal on the form: on a field when it names one, else on top."""
    if not error.problems:
        form.add_error(None, str(error))
        return
    for problem in error.problems:
        name, _sep, message = problem.partition(": ")
        if message and name in form.fields:
            form.add_error(name, message)
        else:
            form.add_error(None, problem)


class SchoolSettingsForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("of a school, class or group", "Name"), max_length=200
    )
    code = forms.CharField(label=_("School code"), max_length=50)
    government_id = forms.CharField(label=_("Government id"), max_length=100, required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        max_digits=9,
        decimal_places=6,
        help_text=_("GPS, in decimal degrees, e.g. 12.639232"),
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        max_digits=9,
        decimal_places=6,
        help_text=_("GPS, in decimal degrees, e.g. -8.002889"),
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    passwordless_signin = forms.BooleanField(
        label=_("Young learners sign in by picking their name"), required=False
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        self.school = school
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if selectors.is_school_code_taken(code, exclude_id=self.school.id):
            raise ValidationError(_("A school with this code already exists."))
        return code


class CloseSchoolForm(forms.Form):
    reason = forms.CharField(label=_("Reason for closure"), max_length=300)
    closed_on = forms.DateField(
        label=_("Closed on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].initial = timezone.localdate

    def clean_closed_on(self) -> datetime.date:
        closed_on: datetime.date = self.cleaned_data["closed_on"]
        if closed_on > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return closed_on


class PersonForm(forms.Form):
    """A person of a school: create (password optional) or edit (new password optional)."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Letters, digits and @ . + - _ only. Unique in this school."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "autocomplete": "off"}),
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=SchoolRole.Kind.choices, widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        help_text=_("Optional: without one, the person cannot sign in with a password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("Password again"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, school: School, person: User | None = None, **kwargs: Any):
        self.school, self.person = school, person
        super().__init__(*args, **kwargs)
        if person is not None:
            self.fields["password"].label = _("New password")
            self.fields["password"].help_text = _("Leave empty to keep the current password.")
            self.fields["password_confirm"].label = _("New password again")

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        exclude = self.person.id if self.person else None
        if selectors.is_username_taken(self.school.id, username, exclude_id=exclude):
            raise ValidationError(_("This username is already taken in this school."))
        return username

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        password, confirm = data.get("password") or "", data.get("password_confirm") or ""
        if password != confirm:
            self.add_error("password_confirm", _("The two passwords are not the same."))
        elif password:
            candidate = User(username=data.get("username", ""), full_name=data.get("full_name", ""))
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                self.add_error("password", error)
        return data


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or username"), required=False, max_length=100)
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("Any role")), *SchoolRole.Kind.choices]
    )
    classroom = forms.TypedChoiceField(
        label=_("Class"), required=False, coerce=uuid.UUID, empty_value=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("active", _("Active")),
            ("deactivated", _("Deactivated")),
            ("all", _("Everyone")),
        ],
    )

    def __init__(self, *args: Any, class_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["classroom"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any class")), *class_choices]


class PeopleChoiceForm(forms.Form):
    """Several people chosen from a list given by the page (checkboxes)."""

    people = forms.TypedMultipleChoiceField(
        label=_("People"), coerce=uuid.UUID, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, people: list[dict[str, Any]], label: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["people"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (str(row["id"]), f"{row['full_name']} ({row['username']})") for row in people
        ]
        if label:
            field.label = label


class ChildForm(forms.Form):
    child = forms.TypedChoiceField(label=_("Learner"), coerce=uuid.UUID)

    def __init__(self, *args: Any, learners: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["child"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "")] + [
            (str(row["id"]), f"{row['full_name']} ({row['username']})") for row in learners
        ]


class ClassroomForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("of a school, class or group", "Name"), max_length=200
    )
    grade = forms.CharField(label=_("Grade"), max_length=50, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self, *args: Any, school: School, classroom_id: uuid.UUID | None = None, **kwargs: Any
    ) -> None:
        self.school, self.classroom_id = school, classroom_id
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if selectors.is_class_name_taken(self.school.id, name, exclude_id=self.classroom_id):
            raise ValidationError(_("A class with this name already exists in this school."))
        return name


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=200)

    def __init__(
        self,
        *args: Any,
        classroom_id: uuid.UUID,
        group_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self.classroom_id, self.group_id = classroom_id, group_id
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if selectors.is_group_name_taken(self.classroom_id, name, exclude_id=self.group_id):
            raise ValidationError(_("A group with this name already exists in this class."))
        return name
