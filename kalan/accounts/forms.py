from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kalan.accounts.directory import list_school_choices


class SignInForm(forms.Form):
    school = forms.TypedChoiceField(label=_("School"), required=False, coerce=str)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schools = list_school_choices()
        self.several_schools = len(schools) > 1
        school_field = self.fields["school"]
        assert isinstance(school_field, forms.ChoiceField)
        if self.several_schools:
            school_field.choices = [("", _("District or national staff"))] + [
                (str(s.id), s.name) for s in schools
            ]
        else:
            school_field.choices = [(str(s.id), s.name) for s in schools]
            school_field.widget = forms.HiddenInput()
            school_field.initial = str(schools[0].id) if schools else ""


class LanguageForm(forms.Form):
    language = forms.CharField(max_length=10)
    next = forms.CharField(required=False)
