"""Forms of the page builder. They parse and check input; kalan.content.authoring writes."""

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from kalan.content.authoring import LANGUAGE_CODE, LICENCES, clean_list
from kalan.content.kinds import Accessibility
from kalan.core.errors import ValidationFailed

LANGUAGE_HELP = _("A language code, e.g. fr, en, bm, ru or tg.")
LIST_HELP = _("Separate several with commas.")
TOP_LEVEL = ""


def show_service_error(form: forms.Form, error: ValidationFailed) -> None:
    """A service's refusal on the form: on the field it names ("field: reason"), else on top."""
    for problem in error.problems or [str(error)]:
        name, _sep, message = problem.partition(": ")
        if message and name in form.fields:
            form.add_error(name, message)
        else:
            form.add_error(None, problem)


def _language_field(label: Any, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=16,
        required=required,
        help_text=LANGUAGE_HELP,
        validators=[RegexValidator(LANGUAGE_CODE, _("Write a language code such as fr or bm."))],
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 6}),
    )


def _licence_field(blank_label: Any, *, help_text: Any = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Licence"),
        choices=[("", blank_label), *LICENCES],
        required=False,
        help_text=help_text,
    )


class ListField(forms.CharField):
    """Comma-separated texts in, a list of them out (blanks and repeats dropped)."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return clean_list(text.replace(";", ",").split(","))


class DraftForm(forms.Form):
    title = forms.CharField(label=_("Title of the channel"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    language = _language_field(_("Language"))
    licence = _licence_field(
        _("Choose for each file"), help_text=_("Files with no licence of their own get this one.")
    )


class NewDraftForm(forms.Form):
    title = forms.CharField(label=_("Title of the channel"), max_length=300)
    school = forms.TypedChoiceField(label=_("School"), coerce=uuid.UUID)

    def __init__(self, *args: Any, schools: list[tuple[uuid.UUID, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["school"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = schools
        if len(schools) == 1:  # nothing to choose: the one school, without a question
            field.initial = schools[0][0]
            field.required = False
            field.widget = forms.HiddenInput()

    def clean_school(self) -> uuid.UUID:
        school = self.cleaned_data.get("school")
        field = self.fields["school"]
        assert isinstance(field, forms.TypedChoiceField)
        if school in (None, "") and not field.required:
            return uuid.UUID(str(field.initial))
        assert isinstance(school, uuid.UUID)
        return school


class _InTopicForm(forms.Form):
    def __init__(self, *args: Any, topics: list[tuple[uuid.UUID, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(TOP_LEVEL, _("Top level")), *((str(i), t) for i, t in topics)]

    def clean_parent(self) -> uuid.UUID | None:
        value = self.cleaned_data.get("parent")
        return uuid.UUID(value) if value else None


class TopicForm(_InTopicForm):
    title = forms.CharField(label=_("Title of the topic"), max_length=300)
    parent = forms.ChoiceField(label=_("Put it in"), required=False)


class UploadForm(_InTopicForm):
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_(
            "A video, audio recording, PDF, EPUB book, HTML5, H5P, SCORM or cmi5 package,"
            " ZIM archive or exercise."
        ),
    )
    parent = forms.ChoiceField(label=_("Put it in"), required=False)

    def __init__(self, *args: Any, too_large: int = 0, **kwargs: Any) -> None:
        """`too_large`: the size limit, when the upload went past it and was dropped."""
        self.too_large = too_large
        super().__init__(*args, **kwargs)

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if self.too_large:
            raise ValidationError(
                _("The file is too large: at most %(size)s.")
                % {"size": filesizeformat(self.too_large)}
            )
        if not upload:
            raise ValidationError(_("Choose a file to add."))
        if not upload.size:
            raise ValidationError(_("The file is empty."))
        return upload


class TopicEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResourceForm(TopicEditForm):
    language = _language_field(_("Language"))
    grade_levels = ListField(label=_("Grade levels"), required=False, help_text=LIST_HELP)
    subjects = ListField(label=_("Subjects"), required=False, help_text=LIST_HELP)
    curriculum_codes = ListField(label=_("Curriculum codes"), required=False, help_text=LIST_HELP)
    licence = _licence_field(_("Same as the channel"))
    author = forms.CharField(label=_("Author"), max_length=300, required=False)
    attribution = forms.CharField(
        label=_("Attribution"),
        max_length=500,
        required=False,
        help_text=_("How to credit the authors, as the licence asks."),
    )
    accessibility = forms.MultipleChoiceField(
        label=_("Accessibility features"),
        choices=Accessibility.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class CaptionForm(forms.Form):
    caption_file = forms.FileField(
        label=_("Captions file"),
        help_text=_("WebVTT (.vtt) or SubRip (.srt)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".vtt,.srt,text/vtt"}),
    )
    caption_language = _language_field(_("Language of the captions"), required=True)
    caption_label = forms.CharField(
        label=_("Name shown to learners"),
        max_length=100,
        required=False,
        help_text=_("E.g. Français; the language code when left empty."),
    )


class MoveIntoForm(_InTopicForm):
    parent = forms.ChoiceField(label=_("Move it to"), required=False)


class ExportForm(forms.Form):
    destination = forms.CharField(
        label=_("Folder to export into"),
        max_length=1000,
        help_text=_(
            "The full path of a new or empty folder on a USB stick mounted on this hub,"
            " e.g. /media/usb/kalan-library. Another hub imports it with"
            " kalan content import."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "mounted-folders"}),
    )
