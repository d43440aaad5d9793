"""Reading one JSON object of an exercise, field by field, with errors that name the place.

A `Reader` knows which item it is in and the path to its object
(`choices[2]`), so every refusal reads like `item "q3": "choices[2].id" must
be ...`. It remembers the fields it was asked for; `done()` refuses the rest,
so a misspelt field name is caught instead of silently ignored.
"""

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kalan.content.exercises.errors import ExerciseError, in_item, quoted
from kalan.content.exercises.markup import MarkupError, clean_text, is_language_tag

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Reader:
    """One JSON object; raises ExerciseError from its constructor when `data` is not one."""

    def __init__(self, data: object, *, item: str | int | None = None, path: str = "") -> None:
        self.item = item
        self.path = path
        self._seen: set[str] = set()
        if not isinstance(data, dict):
            raise self.fail(_("%(field)s must be an object") % {"field": quoted(path or "item")})
        self.data: dict[str, Any] = data

    def name(self, key: str) -> str:
        """The quoted path of `key` in this object, as messages show it."""
        return quoted(f"{self.path}.{key}" if self.path else key)

    def fail(self, problem: str) -> ExerciseError:
        return ExerciseError(in_item(self.item, problem))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str) -> object:
        self._seen.add(key)
        return self.data.get(key)

    def done(self) -> None:
        """Raises ExerciseError naming the first field that was never asked for."""
        for key in self.data:
            if key not in self._seen:
                raise self.fail(_("unknown field %(field)s") % {"field": self.name(key)})

    def string(self, key: str, *, required: bool = True) -> str:
        """Plain text, stripped; "" when absent and not required."""
        value = self.raw(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(_("%(field)s must be a non-empty string") % {"field": self.name(key)})
        return value.strip()

    def markup(self, key: str, *, required: bool = True) -> str:
        """Item text checked against the allow-list (see markup.py)."""
        text = self.string(key, required=required)
        try:
            return clean_text(text)
        except MarkupError as error:
            raise self.fail(
                _("%(field)s: %(problem)s") % {"field": self.name(key), "problem": error}
            ) from None

    def ident(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or ID_PATTERN.match(value) is None:
            raise self.fail(
                _(
                    '%(field)s must be 1 to 64 letters, digits, ".", "-" or "_", starting with a'
                    " letter or digit"
                )
                % {"field": self.name(key)}
            )
        return value

    def language(self, key: str) -> str:
        value = self.string(key, required=False)
        if value and not is_language_tag(value):
            raise self.fail(
                _('%(field)s must be a language tag such as "fr", "bm" or "tg"')
                % {"field": self.name(key)}
            )
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(_("%(field)s must be true or false") % {"field": self.name(key)})
        return value

    def integer(self, key: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.fail(
                _("%(field)s must be a whole number from %(minimum)d to %(maximum)d")
                % {"field": self.name(key), "minimum": minimum, "maximum": maximum}
            )
        return value

    def number(self, key: str, *, minimum: Decimal | None = None) -> Decimal | None:
        """A finite number (None when absent), at least `minimum` when one is given."""
        value = self.raw(key)
        if value is None:
            return None
        number = as_decimal(value)
        if number is None or (minimum is not None and number < minimum):
            if minimum is None:
                problem = _("%(field)s must be a number")
            else:
                problem = _("%(field)s must be a number ≥ %(minimum)s")
            raise self.fail(problem % {"field": self.name(key), "minimum": minimum})
        return number

    def items(self, key: str, *, minimum: int = 0, required: bool = True) -> list[object]:
        value = self.raw(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.fail(_("%(field)s must be a list") % {"field": self.name(key)})
        if len(value) < minimum:
            raise self.fail(
                ngettext(
                    "%(field)s needs at least %(count)d entry",
                    "%(field)s needs at least %(count)d entries",
                    minimum,
                )
                % {"field": self.name(key), "count": minimum}
            )
        return value

    def objects(self, key: str, *, minimum: int = 0, required: bool = True) -> list["Reader"]:
        """The objects of the list `key`, each a Reader with its own path."""
        base = f"{self.path}.{key}" if self.path else key
        return [
            Reader(value, item=self.item, path=f"{base}[{index}]")
            for index, value in enumerate(self.items(key, minimum=minimum, required=required))
        ]

    def child(self, key: str) -> "Reader | None":
        value = self.raw(key)
        if value is None:
            return None
        return Reader(value, item=self.item, path=f"{self.path}.{key}" if self.path else key)

    def strings(self, key: str, *, minimum: int = 0, required: bool = True) -> list[str]:
        """A list of plain-text strings, each stripped and non-empty."""
        texts: list[str] = []
        for index, value in enumerate(self.items(key, minimum=minimum, required=required)):
            if not isinstance(value, str) or not value.strip():
                raise self.fail(
                    _("%(field)s must be a non-empty string")
                    % {"field": quoted(f"{self.name(key)[1:-1]}[{index}]")}
                )
            texts.append(value.strip())
        return texts


def as_decimal(value: object) -> Decimal | None:
    """A JSON number as a Decimal (floats by their shortest decimal form); None for others."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


def decimal_text(number: Decimal) -> str:
    """`number` without an exponent and without trailing zeros: "0.5", "1200", "-3"."""
    try:
        text = f"{number.normalize():f}"
    except InvalidOperation:  # pragma: no cover - only for NaN, which the reader refuses
        return str(number)
    return "0" if text in {"-0", "+0"} else text
