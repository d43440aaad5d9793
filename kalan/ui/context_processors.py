from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language_info


@cache
def _language_choices() -> tuple[tuple[str, str], ...]:
    # Each language is named in itself, so a reader finds their own.
    return tuple((code, get_language_info(code)["name_local"]) for code, _ in settings.LANGUAGES)


def languages(request: HttpRequest) -> dict[str, Any]:
    return {"language_choices": _language_choices()}
