"""The one error the exercise format raises, and how its messages name a place."""

from django.utils.translation import gettext as _

from kalan.core.errors import ValidationFailed


class ExerciseError(ValidationFailed):
    """An exercise (or a QTI file being converted) was refused.

    The message is one line: which item, which field, and why, for example
    `item "q3": "tolerance" must be a number ≥ 0`.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, [message])


def quoted(path: str) -> str:
    """A field path as messages show it: `"answers[0].value"`."""
    return f'"{path}"'


def in_item(item: str | int | None, problem: str) -> str:
    """`problem` prefixed with the item it is about (its id, or its number when it has none)."""
    if item is None:
        return problem
    if isinstance(item, int):
        return _("item number %(number)d: %(problem)s") % {"number": item, "problem": problem}
    return _('item "%(item)s": %(problem)s') % {"item": item, "problem": problem}
