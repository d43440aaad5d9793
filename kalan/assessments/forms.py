"""The teacher's grade of one free response: parsed and checked here, recorded by services."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kalan.assessments.services import COMMENT_LENGTH

VERDICTS = [
    ("correct", pgettext_lazy("a teacher's grade", "Right")),
    ("incorrect", pgettext_lazy("a teacher's grade", "Not right")),
]


class GradeForm(forms.Form):
    """Right or not right (a free response counts whole toward mastery), and a comment.

    `grade_id` is the id the grade's statement will have, given when the form
    was shown: the same form sent twice is one grade, not two.
    """

    verdict = forms.ChoiceField(
        label=pgettext_lazy("a teacher's grade", "Grade"),
        choices=VERDICTS,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose right or not right."),
            "invalid_choice": _("Choose right or not right."),
        },
    )
    comment = forms.CharField(
        label=_("Comment for the learner (optional)"),
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": _("The comment is too long: write at most %(limit_value)d characters.")
        },
    )
    grade_id = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form is out of date: open the page again."),
            "invalid": _("This form is out of date: open the page again."),
        },
    )

    @property
    def correct(self) -> bool:
        return bool(self.cleaned_data["verdict"] == "correct")

    def first_error(self) -> str:
        """The one message to show for a form that is not valid."""
        for field in ("verdict", "comment", "grade_id"):
            if field in self.errors:
                return str(self.errors[field][0])
        return str(next(iter(self.errors.values()))[0])
